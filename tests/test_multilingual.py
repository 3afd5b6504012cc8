"""Mercury reads Romanian, Polish and Chinese as well as English: per-review language, sentiment,
words, themes across languages, and email (intent, the fact that answers, the fallback reply)."""
from __future__ import annotations

import json

import pytest

from core.brand import relevant_facts
from core.classifiers import get_classifier
from core.mail.drafting import draft_reply
from core.mail.reading import ParsedEmail
from core.mail.triage import triage_many
from core.sentiment.datasets import language_notice
from core.text import detect_languages, keywords_by_group, tokens
from tests.conftest import run_cli
from tests.test_email import BRAND

# Written for these tests, not taken from the benchmark set or the training examples.
REVIEWS = {
    "ro": [
        ("Telefonul a venit rapid și funcționează impecabil, sunt foarte mulțumit.", "positive"),
        ("Mare țeapă, s-a stricat după o zi și nu mi-au dat banii înapoi.", "negative"),
    ],
    "pl": [
        ("Świetna jakość wykonania, bateria trzyma cały tydzień. Polecam!", "positive"),
        ("Tragedia, obudowa pękła po tygodniu, a serwis nie odpowiada.", "negative"),
    ],
    "zh": [("做工精致，音质很好，物流也快，非常满意。", "positive"), ("质量太差了，用了两天就坏了，客服也不理人。", "negative")],
    "en": [("Absolutely love it, works perfectly and arrived early.", "positive"), ("Broke after a day, total waste of money.", "negative")],
}


def test_each_review_gets_its_own_language():
    texts = [text for rows in REVIEWS.values() for text, _ in rows]
    expected = [code for code, rows in REVIEWS.items() for _ in rows]
    assert detect_languages(texts) == expected
    assert detect_languages(["ok"]) == ["und"]


@pytest.mark.parametrize("language", list(REVIEWS))
def test_embedded_sentiment_reads_each_language(language):
    texts, labels = zip(*REVIEWS[language])
    assert [s.sentiment for s in get_classifier("embedded").classify(list(texts))] == list(labels)


@pytest.mark.slow
def test_chinese_is_cut_into_words_and_polish_and_romanian_into_lemmas():
    words = tokens("降噪效果绝了，地铁上完全听不到噪音，续航也很久", "zh")
    assert {"降噪", "地铁", "噪音", "续航"} <= set(words)
    assert all(len(w) >= 2 for w in words) and "了" not in words
    assert "przesyłka" in tokens("Przesyłki nie dostałem", "pl") and "colet" in tokens("coletul a întârziat", "ro")
    found = keywords_by_group(
        ["物流太慢了，包装破损"] * 3 + ["音质很好，物流很快"] * 3, ["negative"] * 3 + ["positive"] * 3, "negative", "positive", language="zh", min_count=2
    )
    assert all(2 <= len(row["term"].replace(" ", "")) <= 8 for rows in found.values() for row in rows)


@pytest.mark.parametrize(
    "question, fact",
    [
        ("Cât timp durează până primesc banii înapoi după retur?", 0),
        ("Kiedy dostanę zwrot pieniędzy za zwrócone słuchawki?", 0),
        ("退货以后多久能收到退款？", 0),
        ("Słuchawki Pulse nie chcą się sparować z telefonem, co robić?", 2),
        ("Pulse耳机连不上手机蓝牙，怎么配对？", 2),
    ],
)
@pytest.mark.slow
def test_a_question_in_another_language_finds_the_english_fact(question, fact):
    assert relevant_facts(BRAND, question)[0] == BRAND.facts[fact]


@pytest.mark.parametrize(
    "language, sender, subject, body, intent, phrase",
    [
        (
            "ro",
            "Ioana Pop <ioana@example.ro>",
            "Rambursare",
            "Am returnat căștile acum două săptămâni. Când primesc banii înapoi?",
            "refund_return",
            "Iată ce vă putem spune",
        ),
        (
            "pl",
            "Marek Nowak <marek@example.pl>",
            "Zwrot",
            "Odesłałem słuchawki dwa tygodnie temu. Kiedy dostanę zwrot pieniędzy?",
            "refund_return",
            "Oto, co możemy Państwu przekazać",
        ),
        ("zh", "王芳 <fang@example.cn>", "退款", "我两周前把耳机寄回去了，退款什么时候能到账？", "refund_return", "以下是我们可以告诉您的信息"),
    ],
)
@pytest.mark.model
def test_an_email_in_romanian_polish_or_chinese_is_triaged_answered_and_replied_to_in_its_language(language, sender, subject, body, intent, phrase):
    mail = ParsedEmail(sender=sender, subject=subject, body=body)
    triage = triage_many([mail])[0]
    assert (triage.language, triage.intent) == (language, intent)
    draft = draft_reply(mail, BRAND, triage.language)
    assert BRAND.facts[0] in draft.facts_used
    assert phrase in draft.text and draft.source == "template"


def test_a_reply_with_no_fact_says_a_person_follows_up_in_the_mails_language():
    mail = ParsedEmail(sender="Ana <ana@example.ro>", subject="Sponsorizare", body="Sponsorizați echipa noastră de fotbal din Cluj?")
    draft = draft_reply(mail, BRAND, "ro")
    assert draft.facts_used == [] and "se va ocupa personal" in draft.text


def test_languages_mercury_is_not_measured_on_are_named():
    assert language_notice({"en": 90, "ro": 10}) is None
    notice = language_notice({"en": 80, "hu": 15, "und": 5})
    assert "Hungarian (15)" in str(notice) and "20%" in str(notice)
    assert "węgierski (15)" in notice.render("pl")  # named in the reader's language


@pytest.mark.slow
def test_cli_summary_counts_reviews_per_language(tmp_path):
    path = tmp_path / "mixed.csv"
    rows = [text for rows in REVIEWS.values() for text, _ in rows]
    path.write_text("review\n" + "\n".join(json.dumps(t, ensure_ascii=False) for t in rows) + "\n", encoding="utf-8")
    result = run_cli("sentiment", str(path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["languages"] == {"en": 2, "ro": 2, "pl": 2, "zh": 2}
    assert summary["language_notice"] is None


def test_a_reply_code_writes_quotes_the_brand_facts_in_the_mail_language_or_says_it_cannot():
    from core.brand import Brand
    from core.mail.drafting import draft_reply
    from core.mail.reading import ParsedEmail

    refund_en = "Refunds reach the original payment method within 5 working days after the return arrives at our warehouse."
    refund_ro = "Banii ajung înapoi pe cardul folosit la plată în cel mult 5 zile lucrătoare după ce returul ajunge în depozitul nostru."
    mail = ParsedEmail(
        sender="Ioana <ioana@example.ro>", subject="Retur", body="Bună ziua, am returnat căștile săptămâna trecută. Când primesc banii înapoi pe card?"
    )
    english_only = Brand(name="Aria Audio", sign_off="Warm regards", facts=[refund_en, "Students get 15% off with a valid student email."])
    draft = draft_reply(mail, english_only, "ro")
    assert refund_en in draft.text and "not in Romanian" in str(draft.why) and draft.text.endswith("Cu stimă,\nAria Audio")
    both = Brand(name="Aria Audio", sign_off="Warm regards", facts=[refund_en, refund_ro, "Students get 15% off with a valid student email."])
    draft = draft_reply(mail, both, "ro")
    assert refund_ro in draft.text and refund_en not in draft.text and "not in Romanian" not in str(draft.why)
