"""The checks shown beside every variant, all computed by code: grounding (no name, handle, number,
price or link that the brief, the brand's facts and phrases do not give; no paragraph stopped
mid-sentence), length against the limit and the words asked for, keyword coverage and density,
readability (Flesch), banned phrases, the most similar library piece, and BLEU and ROUGE against a
reference text. `passed` says whether a variant meets every one that can fail."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.brand import Brand
from core.content.brief import AD_LIMITS, Brief, ad_fields, brief_title, within_limits
from core.grounding import invented_claims, unfinished_paragraphs
from core.i18n import N_, Msg, plain, revive
from core.models.encoders import encoder
from core.text import tokens

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _syllables(word: str, dictionary) -> int:
    return max(1, len(dictionary.positions(word.lower())) + 1)


def flesch_reading_ease(text: str) -> float | None:
    """Flesch (1948): 206.835 - 1.015 words/sentences - 84.6 syllables/words; syllables from
    Pyphen's English hyphenation dictionary."""
    import pyphen

    words = _WORD.findall(text)
    if not words:
        return None
    sentences = max(1, len([s for s in re.split(r"[.!?]+(?:\s|$)|\n+", text) if _WORD.search(s)]))
    dictionary = pyphen.Pyphen(lang="en_US")
    syllables = sum(_syllables(w, dictionary) for w in words)
    return round(206.835 - 1.015 * len(words) / sentences - 84.6 * syllables / len(words), 1)


def overlap_scores(candidate: str, reference: str) -> dict:
    """BLEU (sacrebleu, 0-100) and ROUGE-1/2/L F1 (rouge-score, stemmed) against a reference."""
    import sacrebleu
    from rouge_score import rouge_scorer

    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(reference, candidate)
    return {
        "bleu": round(sacrebleu.sentence_bleu(candidate, [reference]).score, 2),
        **{name: round(score.fmeasure, 4) for name, score in rouge.items()},
    }


def checks_for(text: str, brief: Brief, brand: Brand, *, library: pd.DataFrame | None = None) -> dict:
    words = _WORD.findall(text)
    lowered = text.lower()
    counts = {k: len(re.findall(rf"(?<!\w){re.escape(k.lower())}(?!\w)", lowered)) for k in brief.keywords}
    keyword_words = sum(count * len(k.split()) for k, count in counts.items())
    result = {
        "characters": len(text),
        "words": len(words),
        "limit": brief.limit if brief.kind != "ad" else AD_LIMITS,
        "within_limit": within_limits(text, brief),
        "keywords": counts,
        "keyword_coverage": round(sum(1 for c in counts.values() if c) / len(counts), 2) if counts else None,
        "keyword_density_pct": round(100 * keyword_words / len(words), 1) if counts and words else None,
        "flesch_reading_ease": flesch_reading_ease(text) if brief.language == "en" else None,
        "banned_phrases": [p for p in brand.phrases_avoid if p.lower() in lowered],
        "most_similar": None,
    }
    result.update(length_check(len(words), brief))
    said = "\n".join(value for _, value in ad_fields(text)) if brief.kind == "ad" else re.sub(r"(?im)^(?:subject|preheader|cta):\s*", "", text)
    result["invented"] = [
        plain(m) for m in invented_claims(said, grounding_text(brief, brand))
    ]  # JSON, read back by render; field labels ("Headline 2:") are not claims
    result["unfinished"] = [] if brief.kind == "ad" else unfinished_paragraphs(text)
    result["on_topic"] = on_topic(said, brief)
    result["passed"] = bool(
        result["within_limit"]
        and result["length_ok"] is not False
        and not result["invented"]
        and not result["unfinished"]
        and result["on_topic"]
        and not result["banned_phrases"]
        and result["keyword_coverage"] in (None, 1.0)
    )
    if library is not None and not library.empty:
        result["most_similar"] = most_similar(text, library)
    if brief.reference.strip():
        result.update(overlap_scores(text, brief.reference))
    return result


def grounding_text(brief: Brief, brand: Brand) -> str:
    """Everything a variant may state: the brief, the brand's name, facts and phrases."""
    return " ".join(
        [brief.topic, brief.audience, brief.goal, brief.tone, " ".join(brief.keywords), brand.name, " ".join(brand.facts), " ".join(brand.phrases_use)]
    )


def on_topic(text: str, brief: Brief) -> bool:
    """Whether the text names what the brief is about: a content word of the brief's title or a keyword."""
    wanted = set(tokens(brief_title(brief), brief.language)) | {k.lower() for k in brief.keywords}
    found = set(tokens(text, brief.language)) | {w.lower() for w in _WORD.findall(text)}
    return not wanted or bool(wanted & found)


def grounding_problems(checks: dict) -> list[Msg]:
    """The checks that send a variant back to the model, then to code: invented claims, unfinished
    text, and text about something else."""
    off = [] if checks["on_topic"] else [Msg("it never names what the brief is about")]
    return [revive(p) for p in checks["invented"]] + [Msg("stops mid-sentence (“…{tail}”)", tail=tail) for tail in checks["unfinished"]] + off


def failed_checks(checks: dict) -> list[Msg]:
    """Each check a variant fails, in words (empty when it passes)."""
    failed = [] if checks["within_limit"] else [Msg("over the limit")]
    failed += [revive(checks["length_note"])] if checks["length_note"] else []
    failed += grounding_problems(checks)
    failed += [Msg("uses banned phrases: {phrases}", phrases=", ".join(checks["banned_phrases"]))] if checks["banned_phrases"] else []
    missing = [k for k, count in checks["keywords"].items() if not count]
    return failed + ([Msg("misses keywords: {keywords}", keywords=", ".join(missing))] if missing else [])


LENGTH_TOLERANCE = 0.2  # a text within 20% of the words asked for meets its target


def length_check(words: int, brief: Brief) -> dict:
    """The target length as a check like the limit: met, or missed and by how much. Posts and ads
    are held to their character limits instead."""
    if brief.kind in ("social", "ad"):
        return {"target_words": None, "length_ok": None, "length_note": ""}
    target = brief.target_words
    ok = (1 - LENGTH_TOLERANCE) * target <= words <= (1 + LENGTH_TOLERANCE) * target
    over = N_("{words} words: {off} over the {target} asked for") if words > target else N_("{words} words: {off} under the {target} asked for")
    note = "" if ok else plain(Msg(over, words=words, off=abs(words - target), target=target))
    return {"target_words": target, "length_ok": ok, "length_note": note}


def most_similar(text: str, library: pd.DataFrame) -> dict:
    """The library piece closest in meaning (encoder cosine)."""
    vectors = encoder().encode([text[:2000]] + [t[:2000] for t in library["text"]])
    similarity = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarity))
    return {"id": int(library["id"].iloc[best]), "similarity": round(float(similarity[best]), 3)}
