"""Content quality: for ten briefs of my own (products, services and events; two in Romanian and
Polish) and each kind of content, the share of variants that pass every check (grounding, length,
limit, keywords), how many fell back to copy code assembles from the brief, and the time per
variant, on the embedded backend and on a scripted "good model" served over the OpenAI protocol on
loopback (tests/openai_server.py), which proves the checks pass good copy.

The good model is code: it writes each piece from the brief's own sentences and keywords in the
layout the prompt asks for, the way a careful copywriter restates a brief. It is not a language
model, so its figures say only that grounded copy passes the checks, not how good copy reads.

Run: taskset -c 0,1 .venv/bin/python bench/content.py [--briefs 10] [--backends embedded,good]
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# (topic, keywords, language, goal)
BRIEFS = [
    ("Launch of the Aria headset: studio sound, all-day comfort and a noise-cancelling mic for hybrid workers. Price £149", "headset,comfort,mic", "en", ""),
    ("Pulse earbuds: 30 hours of battery in a pocket-size case. Price £79", "earbuds,battery", "en", "Order today"),
    ("Spring sale: 20% off every headset this weekend, in store and online", "sale,headset", "en", ""),
    ("Our repair service fixes any Aria headset in 5 working days, with free return shipping", "repair,headset", "en", "Book a repair"),
    ("Free listening demos at our Leeds store every Saturday from 10:00 to 16:00", "demos,store", "en", ""),
    ("Student discount: 15% off all earbuds with a valid student card", "student,discount", "en", ""),
    ("Webinar on 12 March: how hybrid teams choose meeting headsets, with our audio engineers", "webinar,headsets", "en", "Register now"),
    ("A 2-year warranty now comes with every Aria product", "warranty", "en", ""),
    ("Lansarea căștilor Aria: sunet de studio, confort toată ziua și microfon cu anulare a zgomotului. Preț 699 lei", "sunet de studio,confort", "ro", ""),
    ("Nowe słuchawki Aria: dźwięk studyjny, wygoda przez cały dzień i mikrofon z redukcją szumów. Cena 649 zł", "słuchawki,wygoda", "pl", ""),
]
KINDS = [("social", "x", 0), ("blog", "", 200), ("email", "", 0), ("product", "", 0), ("ad", "", 0)]


def good_copy(body: dict) -> str:
    """The scripted good model: grounded copy in the layout the prompt asks for."""
    from core.content.brief import trim_to

    prompt = body["messages"][-1]["content"]
    brief = next((b for b in BRIEFS if b[0] in prompt), BRIEFS[0])
    topic, keywords, language, goal = brief
    sentences = [s if s.endswith(".") else s + "." for s in re.split(r"(?<=[.!?])\s+", topic)]
    head = re.split(r":\s", sentences[0])[0]
    tags = " ".join("#" + k for k in keywords.split(","))
    action = (goal or {"ro": "Află mai multe", "pl": "Dowiedz się więcej"}.get(language, "Find out more")) + "."
    if prompt.startswith("List 4 section headings"):
        return "\n".join([head, f"{keywords.split(',')[0].capitalize()} for everyone", "What you get", "How to start"])
    if "Write only the section" in prompt:
        wanted = int(re.search(r"about (\d+) words", prompt).group(1))
        words: list[str] = []
        pool = sentences + [f"{k.capitalize()}: {head}." for k in keywords.split(",")] + [action]
        while len(words) < wanted:
            words += pool[len(words) % len(pool)].split()
        return " ".join(words)
    if prompt.startswith("Write a search ad"):
        return "\n".join(
            [
                f"Headline: {trim_to(head, 30)}",
                *(f"Headline: {k[:30]}" for k in keywords.split(",")[:2]),
                f"Description: {trim_to(sentences[0], 90)}",
                f"Description: {action}",
            ]
        )
    if prompt.startswith("Write a marketing email"):
        wanted = int(re.search(r"About (\d+) words", prompt).group(1))
        paragraph = " ".join(sentences + [f"{k.capitalize()}: {head}." for k in keywords.split(",")])
        body_text = " ".join([paragraph] * max(1, round(wanted / len(paragraph.split()))))
        return f"Subject: {head}\nPreheader: {sentences[-1]}\n\n{body_text}\n\nCTA: {action}"
    if prompt.startswith("Write a product description"):
        wanted = int(re.search(r"about (\d+) words", prompt).group(1))
        paragraph = " ".join(sentences + [f"{k.capitalize()}: {head}." for k in keywords.split(",")] + [action])
        return " ".join([paragraph] * max(1, round(wanted / len(paragraph.split()))))
    return f"{' '.join(sentences)} {action} {tags}"


def run(backend_name: str, briefs: list, brand) -> list[dict]:
    from core.content.brief import Brief
    from core.content.writing import generate
    from core.llm import BackendSpec

    rows = []

    def timed(spec, kind: str, brief: Brief) -> None:
        started = time.perf_counter()
        variants = generate(brief, brand, spec=spec)
        rows.append(
            {
                "backend": backend_name,
                "kind": kind,
                "passed": all(v.checks["passed"] for v in variants),
                "code": all(v.source == "code" for v in variants),
                "rewritten": any(v.reasons and v.source == "model" for v in variants),
                "seconds": time.perf_counter() - started,
            }
        )

    def one(spec) -> None:
        for topic, keywords, language, goal in briefs:
            for kind, platform, words in KINDS:
                brief = Brief(kind=kind, platform=platform, topic=topic, keywords=keywords.split(","), language=language, goal=goal, words=words, variants=1)
                timed(spec, kind, brief)

    def three(spec) -> None:  # the Content studio's default: three variants of a social post at once
        for topic, keywords, language, goal in briefs[:3]:
            for platform in ("x", "linkedin"):
                brief = Brief(kind="social", platform=platform, topic=topic, keywords=keywords.split(","), language=language, goal=goal)
                timed(spec, f"three {platform} variants", brief)

    if backend_name == "good":
        from tests.openai_server import Reply, ScriptedOpenAIServer

        with ScriptedOpenAIServer([Reply(respond=good_copy)]) as server:
            spec = BackendSpec(kind="openai", model="scripted-good-model", base_url=server.base_url, api_key="k", timeout=30, max_retries=0)
            one(spec)
            three(spec)
    else:
        one(BackendSpec(kind="embedded"))
        three(BackendSpec(kind="embedded"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--briefs", type=int, default=len(BRIEFS))
    parser.add_argument("--backends", default="embedded,good")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    import pandas as pd

    from core.brand import read_brand_file

    brand = read_brand_file(ROOT / "sample_data" / "brand.json")
    rows = []
    for backend in args.backends.split(","):
        rows += run(backend, BRIEFS[: args.briefs], brand)
    frame = pd.DataFrame(rows)
    table = frame.groupby(["backend", "kind"], sort=False).agg(
        variants=("passed", "size"),
        pass_every_check=("passed", "mean"),
        rewritten=("rewritten", "sum"),
        code_built=("code", "sum"),
        s_per_variant=("seconds", "mean"),
    )
    totals = frame.groupby("backend", sort=False).agg(
        variants=("passed", "size"),
        pass_every_check=("passed", "mean"),
        rewritten=("rewritten", "sum"),
        code_built=("code", "sum"),
        s_per_variant=("seconds", "mean"),
    )
    print(table.round({"pass_every_check": 2, "s_per_variant": 1}).to_string())
    print(totals.round({"pass_every_check": 2, "s_per_variant": 1}).to_string())


if __name__ == "__main__":
    main()
