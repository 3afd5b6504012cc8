"""Copy assembled by code from the brief alone: what replaces a variant whose invented claims
survived a rewrite. It says only what the brief says (the product, its stated benefits, the price),
adds the call to action and the keywords, and keeps to the kind's layout and the platform's limit."""
from __future__ import annotations

import re

from core.brand import Brand
from core.content.brief import Brief, brief_title, fit_ad, trim_to

CALL_TO_ACTION = {
    "en": "Find out more", "ro": "Află mai multe", "pl": "Dowiedz się więcej", "de": "Mehr erfahren", "fr": "En savoir plus",
    "es": "Más información", "it": "Scopri di più", "nl": "Lees meer", "pt": "Saiba mais", "zh": "了解更多",
}
KEY_POINTS = {"en": "Key points", "ro": "Pe scurt", "pl": "W skrócie", "de": "Auf einen Blick", "fr": "L'essentiel", "es": "En resumen", "zh": "要点"}


def brief_sentences(brief: Brief) -> list[str]:
    """The brief's own sentences, each ending as a sentence."""
    parts = [p.strip(" -–") for p in re.split(r"(?<=[.!?。！？])\s+|\n+", brief.topic.strip()) if p.strip(" -–")]
    return [p if re.search(r"[.!?。！？]$", p) else p + ("。" if brief.language == "zh" else ".") for p in parts]


def call_to_action(brief: Brief) -> str:
    goal = brief.goal.strip().rstrip(".")
    return goal or CALL_TO_ACTION.get(brief.language, CALL_TO_ACTION["en"])


def hashtags(brief: Brief) -> str:
    return " ".join("#" + re.sub(r"\W+", "", k.title() if " " in k else k) for k in brief.keywords)


def _missing_keywords(text: str, brief: Brief) -> list[str]:
    return [k for k in brief.keywords if k.lower() not in text.lower()]


def assemble(brief: Brief, brand: Brand, variant: int = 0) -> str:
    """The copy for `brief`, by kind, from the brief's words only; `variant` varies the opening
    (the brief as it is, the brand first, the call to action first) so replaced variants differ."""
    sentences = brief_sentences(brief)
    body = " ".join(sentences)
    body = [body, f"{brand.name}: {body}" if brand.name else body, f"{call_to_action(brief)}: {body}"][variant % 3]
    action = call_to_action(brief)
    if brief.kind == "ad":
        return fit_ad("", brief, brand)
    if brief.kind == "social":  # a post: the brief's headline on its own line, then what it says, then the call to action, once
        lines = [part[:1].upper() + part[1:] for sentence in sentences for part in sentence.split(": ", 1)]
        lines[0] = [lines[0], f"{brand.name}: {lines[0]}" if brand.name else lines[0], f"{action}: {lines[0]}"][variant % 3]
        lines = lines if variant % 3 == 2 else [*lines, f"{action}."]
        post = "\n".join(lines[:2]) + "".join(f"\n\n{line}" for line in lines[2:])  # the headline right above what it heads
        tags = hashtags(brief)
        with_tags = f"{post}\n\n{tags}" if tags else post
        return with_tags if len(with_tags) <= brief.limit else trim_to(post, brief.limit)
    missing = _missing_keywords(body, brief)
    points = f"{KEY_POINTS.get(brief.language, KEY_POINTS['en'])}: {', '.join(missing)}." if missing else ""
    title = brief_title(brief)
    if brief.kind == "email":
        preheader = sentences[1] if len(sentences) > 1 else action
        return "\n".join([f"Subject: {title}", f"Preheader: {trim_to(preheader, 90)}", "", body, *([points] if points else []), "", f"CTA: {action}"])
    if brief.kind == "blog":
        return "\n\n".join([f"# {title}", body, *([points] if points else []), f"{action}."])
    return " ".join([body, points, f"{action}."]).replace("  ", " ").strip()
