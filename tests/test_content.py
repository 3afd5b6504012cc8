"""Content studio: checks on known texts, limits on every platform, variants, personalisation, library, CLI."""
import io
import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from docx import Document

from core.brand import Brand
from core.content.brief import AD_LIMITS, PLATFORM_LIMITS, Brief, Variant, ad_fields, trim_to
from core.content.checks import checks_for, flesch_reading_ease, overlap_scores
from core.content.library import ab_frame, export_docx, export_markdown, library_frame, save_ab_pair, save_piece
from core.content.writing import generate, personalise
from core.errors import UserError
from core.i18n import render
from core.llm import BackendSpec
from tests.conftest import ROOT, run_cli
from tests.openai_server import Reply, ScriptedOpenAIServer

BRAND = Brand(name="Aria Audio", tone="warm", phrases_avoid=["world-class"], examples=["Sound that fits your day."])
LONG = " ".join(["Our world-class Pulse earbuds give you thirty hours of battery in a case that fits any pocket."] * 40)


def spec_for(server) -> BackendSpec:
    return BackendSpec(kind="openai", model="writer", base_url=server.base_url, api_key="k", timeout=5.0, max_retries=0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The cat sat on the mat.", 116.1),  # 6 one-syllable words, 1 sentence: 206.835 - 1.015*6 - 84.6
        ("The cat sat. The dog ran.", 119.2),  # 3 words per sentence, all one syllable: 206.835 - 3.045 - 84.6
        ("Beautiful furniture.", -49.0),  # beau-ti-ful fur-ni-ture, 3 syllables a word: 206.835 - 2.03 - 253.8
    ],
)
def test_flesch_reading_ease_on_reference_sentences(text, expected):
    assert flesch_reading_ease(text) == pytest.approx(expected, abs=0.1)


def test_rouge_on_a_worked_example():
    # Stemmed tokens: 9 in the candidate, 11 in the reference; 6 shared (new, earbud, thirti, hour,
    # on, charg), in the same order, so ROUGE-1 = ROUGE-L = 2*6/(9+11); of 8 and 10 bigrams, 3 are
    # shared (new earbud, thirti hour, hour on): ROUGE-2 = 2*3/(8+10).
    scores = overlap_scores("the new earbuds last thirty hours on one charge", "our new earbuds run for thirty hours on a single charge")
    assert scores["rouge1"] == 0.6 and scores["rougeL"] == 0.6 and scores["rouge2"] == 0.3333


def test_bleu_on_a_worked_example():
    reference = "thirty hours of battery in one case"
    assert overlap_scores(reference, reference)["bleu"] == 100.0
    # Every n-gram of the six-word candidate is in the seven-word reference: BLEU is the brevity
    # penalty alone, exp(1 - 7/6).
    assert overlap_scores("thirty hours of battery in one", reference)["bleu"] == round(100 * math.exp(1 - 7 / 6), 2)
    assert overlap_scores("garden furniture sale", reference)["bleu"] == 0.0


def test_trim_on_a_word_boundary():
    assert trim_to("short", 10) == "short"
    trimmed = trim_to("Thirty hours of battery in a pocket-size case", 20)
    assert len(trimmed) <= 20 and trimmed == "Thirty hours of…"


def test_checks_keywords_banned_phrases_and_similarity():
    brief = Brief(kind="product", topic="Pulse earbuds", keywords=["battery", "pocket case", "noise"])
    checks = checks_for("A world-class battery. The pocket case is small. Battery for days.", brief, BRAND)
    assert checks["keywords"] == {"battery": 2, "pocket case": 1, "noise": 0}
    assert checks["keyword_coverage"] == 0.67 and checks["keyword_density_pct"] == round(100 * 4 / 11, 1)
    assert checks["banned_phrases"] == ["world-class"]
    library = pd.DataFrame(
        {"id": [7, 8], "text": ["Pulse earbuds: a long battery life in a tiny pocket case.", "Our spring sale on garden furniture ends Sunday."]}
    )
    assert checks_for("Earbuds with a battery that lasts, in a case for your pocket.", brief, BRAND, library=library)["most_similar"]["id"] == 7


@pytest.mark.parametrize("platform", list(PLATFORM_LIMITS))
def test_no_social_variant_ever_exceeds_its_platform(platform):
    limit = PLATFORM_LIMITS[platform]
    text = (LONG + " ") * (1 + limit // len(LONG))
    with ScriptedOpenAIServer([Reply(text=text)]) as server:
        variants = generate(Brief(kind="social", platform=platform, topic="Pulse earbuds", variants=2), BRAND, spec=spec_for(server))
    assert all(len(v.text) <= limit and v.checks["within_limit"] for v in variants)
    assert all(any("trimmed" in str(n) for n in v.notes) for v in variants)


def test_a_far_too_long_post_is_regenerated_before_it_is_trimmed():
    with ScriptedOpenAIServer(
        [Reply(text=LONG), Reply(text=LONG), Reply(text="Thirty hours of battery. #Pulse"), Reply(text="Pocket-size, all-day sound. #Pulse")]
    ) as server:
        variants = generate(Brief(kind="social", platform="x", topic="Pulse earbuds", variants=2), BRAND, spec=spec_for(server))
    assert {v.text for v in variants} == {"Thirty hours of battery. #Pulse", "Pocket-size, all-day sound. #Pulse"}
    assert all(list(map(str, v.notes)) == ["regenerated shorter"] for v in variants)


def test_search_ads_keep_every_field_within_its_limit():
    reply = "Headline: Thirty hours of music in your pocket today\nHeadline: Pulse earbuds\nDescription: " + "Long battery, small case, " * 8
    with ScriptedOpenAIServer([Reply(text=reply)]) as server:
        (variant,) = generate(Brief(kind="ad", topic="Pulse earbuds", keywords=["wireless earbuds"], variants=1), BRAND, spec=spec_for(server))
    fields = ad_fields(variant.text)
    assert [k for k, _ in fields] == ["Headline"] * 3 + ["Description"] * 2
    assert all(len(v) <= AD_LIMITS[k] for k, v in fields) and variant.checks["within_limit"]
    assert ("Headline", "Pulse earbuds") in fields


def test_repeated_variants_are_rewritten():
    with ScriptedOpenAIServer(
        [
            Reply(text="Same post about earbuds."),
            Reply(text="Same post about earbuds."),
            Reply(text="Same post about earbuds."),
            Reply(text="A different take: music for the whole commute."),
        ]
    ) as server:
        variants = generate(Brief(kind="social", platform="linkedin", topic="Pulse earbuds", variants=3), BRAND, spec=spec_for(server))
    assert len({v.text for v in variants}) >= 2
    assert sum("rewritten: it repeated another variant" in map(str, v.notes) for v in variants) == 2


@pytest.mark.model
def test_embedded_x_variants_stay_within_280_and_differ():
    variants = generate(Brief(kind="social", platform="x", topic="Pulse earbuds: 30 hours of battery", variants=3), BRAND)
    assert len(variants) == 3 and all(len(v.text) <= 280 for v in variants)
    assert len({v.text for v in variants}) == 3


def test_blog_is_written_section_by_section_and_streams():
    outline = "Why battery matters\nThe case\nGetting started\nThe bottom line"
    with ScriptedOpenAIServer([Reply(text=outline), Reply(text="A paragraph of the section.")]) as server:
        pieces = []
        (variant,) = generate(Brief(kind="blog", topic="Pulse earbuds", variants=1), BRAND, spec=spec_for(server), on_token=lambda i, p: pieces.append(p))
        assert len(server.requests) == 5  # the outline, then one call per section
    assert variant.text.count("## ") == 4 and "## The case" in variant.text
    assert "".join(pieces).count("A paragraph") == 4


def test_bad_briefs_are_one_sentence():
    with pytest.raises(UserError, match="Unknown content kind"):
        Brief(kind="poem", topic="x")
    with pytest.raises(UserError, match="Unknown platform"):
        Brief(kind="social", platform="myspace", topic="x")
    with pytest.raises(UserError, match="Give a topic"):
        Brief(kind="ad", topic=" ")


def test_personalise_keeps_columns_and_names_every_customer():
    customers = pd.DataFrame(
        {
            "Name": ["Ana Lopez", "Ben Okafor", "Chloé Martin"],
            "Segment": ["student", "commuter", "gamer"],
            "Last purchase": ["Volt", "Pulse", "Aria"],
            "city": ["Leeds", "York", "Paris"],
        }
    )
    progress = []
    with ScriptedOpenAIServer([Reply(text="Subject: A treat for you\n\nHi Ana, thanks for choosing the Volt.")]) as server:
        out = personalise(
            customers,
            Brief(kind="email", topic="spring offer", variants=1),
            BRAND,
            spec=spec_for(server),
            progress=lambda d, t: progress.append((d, t)),
            chunk=2,
        )
        prompts = json.dumps([r["body"]["messages"] for r in server.requests])
    assert list(out.columns) == ["Name", "Segment", "Last purchase", "city", "personalised"]
    assert "Ben Okafor" in prompts and "commuter" in prompts and "Pulse" in prompts
    assert all(name.split()[0] in text for name, text in zip(out["Name"], out["personalised"]))
    assert progress == [(2, 3), (3, 3)]
    with pytest.raises(UserError, match="name column"):
        personalise(pd.DataFrame({"email": ["a@b.c"]}), Brief(kind="email", topic="x"), BRAND)


def test_library_search_ab_pairs_and_exports():
    brief = Brief(kind="social", platform="x", topic="Pulse launch")
    first = Variant("Thirty hours of battery. #Pulse", {}, "a")
    second = Variant('=HYPERLINK("x") pocket-size, all-day sound', {}, "b")
    save_piece(Brief(kind="product", topic="Volt charger"), "Charges two devices at once.", checks={})
    group = save_ab_pair(brief, first, second)
    assert len(library_frame()) == 3
    assert list(library_frame("volt")["topic"]) == ["Volt charger"]
    assert len(library_frame(kind="social")) == 2
    pairs = ab_frame()
    assert pairs.iloc[0]["ab_group"] == group and pairs.iloc[0]["variant_a"] == first.text and pairs.iloc[0]["variant_b"] == second.text
    markdown = export_markdown(library_frame()).decode()
    assert "## product: Volt charger" in markdown and "Thirty hours" in markdown
    document = Document(io.BytesIO(export_docx(library_frame())))
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"][-1] == "product: Volt charger"
    from core.exports import to_csv_bytes

    assert "'=HYPERLINK" in to_csv_bytes(library_frame()).decode("utf-8-sig")


@pytest.mark.slow
def test_cli_content_json_and_bad_input(tmp_path):
    with ScriptedOpenAIServer([Reply(text=LONG)]) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "core",
                "content",
                "--kind",
                "social",
                "--platform",
                "x",
                "--topic",
                "Pulse earbuds",
                "--variants",
                "2",
                "--keywords",
                "battery,case",
                "--backend",
                "openai",
                "--json",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**__import__("os").environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"},
        )
    assert done.returncode == 0, done.stderr
    variants = json.loads(done.stdout)["variants"]
    assert len(variants) == 2 and all(len(v["text"]) <= 280 and v["checks"]["keywords"]["battery"] >= 1 for v in variants)
    bad = run_cli("content", "--kind", "ad", "--topic", " ")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: Give a topic or a brief to write about."


def test_the_length_asked_for_is_a_check_met_or_missed_by_how_much():
    from core.content.checks import length_check

    blog = Brief(kind="blog", topic="Aria headset launch", words=200)
    assert render(length_check(573, blog)["length_note"]) == "573 words: 373 over the 200 asked for" and length_check(573, blog)["length_ok"] is False
    assert render(length_check(573, blog)["length_note"], "pl") == "573 słów: o 373 więcej niż zamówione 200"
    assert length_check(170, blog)["length_ok"] and length_check(240, blog)["length_ok"]
    assert render(length_check(150, blog)["length_note"]) == "150 words: 50 under the 200 asked for"
    assert length_check(9, Brief(kind="social", topic="Aria", platform="x"))["length_ok"] is None  # a post is held to its character limit


ARIA = "Launch of the Aria headset: studio sound, all-day comfort and a noise-cancelling mic for hybrid workers. Price £149"


@pytest.mark.parametrize(
    "text, caught",
    [
        ("Meet the Aria headset, loved by Lina and the whole team.", "names it was not given: Lina"),
        ("Studio sound for hybrid workers, says @YogaAriana.", "handles it was not given: @YogaAriana"),
        ("The Aria headset: studio sound for £199.", "numbers or prices it was not given: 199"),
        ("All-day comfort, now 30% off.", "numbers or prices it was not given: 30"),
        ("Studio sound. Order at https://aria.example/buy today.", "links or addresses it was not given: https://aria.example/buy"),
        ("All-day comfort. #HousingSquad", "hashtags about what it was not given: #HousingSquad"),
    ],
)
def test_every_kind_of_invented_claim_is_caught(text, caught):
    checks = checks_for(text, Brief(kind="social", platform="x", topic=ARIA), BRAND)
    assert caught in map(render, checks["invented"]) and not checks["passed"]
    json.dumps(checks)  # the checks are stored and printed as JSON


def test_grounded_copy_passes():
    text = "Meet the Aria headset: studio sound and all-day comfort, with a noise-cancelling mic for hybrid workers. £149. #AriaHeadset #comfort #mic"
    checks = checks_for(text, Brief(kind="social", platform="x", topic=ARIA, keywords=["headset", "comfort", "mic"]), BRAND)
    assert checks["invented"] == [] and checks["unfinished"] == [] and checks["passed"]


def test_a_variant_that_invents_twice_is_replaced_by_copy_code_builds_from_the_brief():
    invented = [Reply(text="#HousingSquad by Lina x @YogaAriana"), Reply(text="Hybrid Ocathics for £199. Prices: £149 offer: Aria Head")]
    with ScriptedOpenAIServer(invented) as server:
        (variant,) = generate(Brief(kind="social", platform="x", topic=ARIA, keywords=["headset", "comfort", "mic"], variants=1), BRAND, spec=spec_for(server))
    assert len(server.requests) == 2 and "Your last draft was not usable" in server.requests[1]["body"]["messages"][-1]["content"]
    assert variant.source == "code" and len(variant.reasons) == 2
    first, second = map(str, variant.reasons)
    assert "@YogaAriana" in first and "Ocathics" in second and "199" in second
    assert variant.text.startswith("Launch of the Aria headset\nStudio sound, all-day comfort") and "#headset #comfort #mic" in variant.text
    assert variant.checks["passed"] and len(variant.text) <= 280


def test_a_variant_fixed_by_its_rewrite_is_the_models():
    replies = [
        Reply(text="Loved by Lina! The Aria headset"),
        Reply(text="Studio sound and all-day comfort: the Aria headset with a noise-cancelling mic, £149."),
    ]
    with ScriptedOpenAIServer(replies) as server:
        (variant,) = generate(Brief(kind="social", platform="x", topic=ARIA, variants=1), BRAND, spec=spec_for(server))
    assert variant.source == "model" and variant.text.endswith("£149.") and "Lina" in str(variant.reasons[0])
    assert variant.checks["passed"]


@pytest.mark.slow
def test_cli_content_json_gives_each_variant_its_source_checks_and_reasons():
    with ScriptedOpenAIServer([Reply(text="#HousingSquad by Lina x @YogaAriana")]) as server:
        result = run_cli(
            "content",
            "--kind",
            "social",
            "--platform",
            "x",
            "--topic",
            ARIA,
            "--variants",
            "1",
            "--keywords",
            "headset,comfort,mic",
            "--json",
            "--backend",
            "openai",
            "--model",
            "writer",
            env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"},
        )
    assert result.returncode == 0, result.stderr
    (variant,) = json.loads(result.stdout)["variants"]
    assert variant["source"] == "code" and variant["checks"]["passed"] and "handles it was not given: @YogaAriana" in variant["reasons"][0]


def test_a_blog_outline_keeps_only_headings_of_the_topic():
    from core.content.writing import heading_problem

    assert heading_problem("Here are four sections headings (previously numbered) to serve as part of your branding:")
    assert heading_problem("Studio sound for every call") is None


def test_a_linkedin_post_on_the_embedded_model_is_built_from_the_brief_at_once_and_says_so():
    brief = Brief(kind="social", platform="linkedin", topic="Launch of the Aria headset: studio sound and all-day comfort. Price £149", variants=3)
    variants = generate(brief, BRAND)
    assert [v.source for v in variants] == ["code"] * 3 and len({v.text for v in variants}) == 3
    assert all("built from your brief at once" in str(v.notes[0]) and v.checks["passed"] for v in variants)
    assert all(v.text.count("Find out more") == 1 for v in variants)  # the call to action once, never twice
    assert variants[0].text.startswith("Launch of the Aria headset\nStudio sound and all-day comfort.\n\nPrice £149.")
