"""A content brief and what the studio enforces on any text written for it: the prompt in the
brand's voice, platform and ad-field limits, and the clean-up of what a model adds anyway."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.brand import Brand
from core.errors import UserError
from core.grounding import complete_sentences
from core.i18n import Joined, Msg
from core.text import LANGUAGE_NAMES, trim_to

KINDS = ("blog", "social", "email", "product", "ad")
PLATFORM_LIMITS = {"x": 280, "linkedin": 3000, "instagram": 2200, "facebook": 63206}
PLATFORM_NAMES = {"x": "X (Twitter)", "linkedin": "LinkedIn", "instagram": "Instagram", "facebook": "Facebook"}
AD_LIMITS = {"Headline": 30, "Description": 90}
AD_COUNTS = {"Headline": 3, "Description": 2}
ANGLES = (
    "Lead with the main benefit.",
    "Open with a question the reader is asking.",
    "Lead with the problem it solves.",
    "Open with a concrete detail or number from the brief.",
    "Make it playful and light.",
    "Make it short and direct.",
)
DEFAULT_WORDS = {"blog": 500, "social": 60, "email": 150, "product": 80, "ad": 40}
SECTION_TOKENS = 200


@dataclass
class Brief:
    kind: str
    topic: str
    platform: str = ""
    audience: str = ""
    goal: str = ""
    keywords: list[str] = field(default_factory=list)
    tone: str = ""
    language: str = "en"
    words: int = 0  # target length; 0 for the kind's default
    reference: str = ""  # optional text to score BLEU and ROUGE against
    variants: int = 3

    def __post_init__(self):
        self.kind, self.platform, self.language = self.kind.lower().strip(), self.platform.lower().strip(), (self.language or "en").lower().strip()
        self.keywords = [k.strip() for k in self.keywords if k and k.strip()]
        if self.kind not in KINDS:
            raise UserError(Msg("Unknown content kind '{kind}': choose one of {kinds}.", kind=self.kind, kinds=', '.join(KINDS)))
        if not self.topic.strip():
            raise UserError(Msg("Give a topic or a brief to write about."))
        if self.kind == "social":
            self.platform = self.platform or "x"
            if self.platform not in PLATFORM_LIMITS:
                raise UserError(Msg("Unknown platform '{platform}': choose one of {platforms}.", platform=self.platform, platforms=', '.join(PLATFORM_LIMITS)))
        if not 1 <= self.variants <= 6:
            raise UserError(Msg("Ask for between 1 and 6 variants."))

    @property
    def limit(self) -> int | None:
        return PLATFORM_LIMITS[self.platform] if self.kind == "social" else None

    @property
    def piece(self) -> str:
        """What is written: the platform of a social post ("x", "linkedin"), else the kind."""
        return self.platform if self.kind == "social" else self.kind

    @property
    def target_words(self) -> int:
        return self.words or DEFAULT_WORDS[self.kind]


@dataclass
class Variant:
    text: str
    checks: dict
    angle: str
    backend: str = ""
    model: str = ""
    notes: list[Msg] = field(default_factory=list)  # repairs made, each a sentence for the reader
    source: str = "model"  # "model", or "code" when copy assembled from the brief replaced it
    reasons: list[Joined] = field(default_factory=list)  # why the model's variant was sent back or replaced


# --- prompts ---------------------------------------------------------------------------------------


def system_prompt(brand: Brand) -> str:
    lines = [f"You write marketing copy for {brand.name}.", brand.for_prompt()]
    if brand.examples:
        lines.append("Examples of our past content, for the voice:\n" + "\n".join(f"- {e}" for e in brand.examples[:5]))
    lines.append("Write only the content itself: no preamble, no notes, no placeholders in brackets.")
    return "\n".join(lines)


def task_prompt(brief: Brief) -> str:
    if brief.kind == "social":
        task = f"Write one {PLATFORM_NAMES[brief.platform]} post about: {brief.topic}. At most {brief.limit} characters."
        if brief.platform == "instagram":
            task += " End with 3 to 5 hashtags."
    elif brief.kind == "email":
        task = (
            f"Write a marketing email about: {brief.topic}. About {brief.target_words} words. Use exactly this layout:\n"
            "Subject: <subject line>\nPreheader: <one short line>\n\n<body>\n\nCTA: <call to action>"
        )
    elif brief.kind == "product":
        task = f"Write a product description of about {brief.target_words} words for: {brief.topic}."
    elif brief.kind == "ad":
        task = (
            f"Write a search ad for: {brief.topic}. Use exactly this layout: three lines 'Headline: ...' of at most 30 "
            "characters each, then two lines 'Description: ...' of at most 90 characters each."
        )
    else:
        task = f"Write a blog post about: {brief.topic}."
    extras = [
        f"Audience: {brief.audience}." if brief.audience else "",
        f"Goal: {brief.goal}." if brief.goal else "",
        f"Use these keywords: {', '.join(brief.keywords)}." if brief.keywords else "",
        f"Tone: {brief.tone}." if brief.tone else "",
        f"Write in {LANGUAGE_NAMES.get(brief.language, brief.language)}." if brief.language != "en" else "",
    ]
    return " ".join([task, *[e for e in extras if e]])


def content_messages(brief: Brief, brand: Brand, angle: str, *, extra: str = "") -> list[dict]:
    return [{"role": "system", "content": system_prompt(brand)}, {"role": "user", "content": f"{task_prompt(brief)} {angle} {extra}".strip()}]


# --- limits ------------------------------------------------------------------------------------------


_AD_LINE = re.compile(r"^\s*(?:\d+[.)]\s*)?(headline|description)\s*\d*\s*[:\-–]\s*(.+)$", re.IGNORECASE)


def fit_ad(text: str, brief: Brief, brand: Brand) -> str:
    """Three headlines (30 characters) and two descriptions (90), from the model's lines where it
    gave them and from the brief where it did not."""
    found: dict[str, list[str]] = {"Headline": [], "Description": []}
    loose = []
    for line in text.splitlines():
        match = _AD_LINE.match(line)
        if match:
            found[match.group(1).capitalize()].append(match.group(2).strip().strip('"'))
        elif line.strip():
            loose.append(line.strip())
    fallbacks = {
        "Headline": [brief.topic, *brief.keywords, brand.name],
        "Description": [*loose, f"{brief.topic}. {brief.goal}".strip(" ."), f"{brand.name}: {brief.topic}"],
    }
    lines = []
    for kind, limit in AD_LIMITS.items():
        chosen: list[str] = []
        for candidate in found[kind] + fallbacks[kind]:
            short = trim_to(candidate, limit)
            if short and short.lower() not in {c.lower() for c in chosen}:
                chosen.append(short)
            if len(chosen) == AD_COUNTS[kind]:
                break
        lines += [f"{kind} {i}: {line}" for i, line in enumerate(chosen, 1)]
    return "\n".join(lines)


def ad_fields(text: str) -> list[tuple[str, str]]:
    return [(m.group(1).capitalize(), m.group(2).strip()) for m in map(_AD_LINE.match, text.splitlines()) if m]


def within_limits(text: str, brief: Brief) -> bool:
    if brief.kind == "ad":
        fields = ad_fields(text)
        return bool(fields) and all(len(value) <= AD_LIMITS[kind] for kind, value in fields)
    return brief.limit is None or len(text) <= brief.limit


def clean_text(text: str) -> str:
    text = re.sub(r"^\s*(?:here(?:'s| is) (?:a|an|the|your)[^\n:]*:|sure[^\n]*:)\s*", "", text.strip(), flags=re.IGNORECASE)
    return re.sub(r"[ \t]*\[[^\]\n]{1,40}\]", "", text).strip()  # [brand], [Your Name], [link] placeholders


def finish_text(text: str, brief: Brief, brand: Brand) -> tuple[str, list[str]]:
    """The text with the kind's rules enforced, and a note for each repair."""
    text, notes = clean_text(text), []
    if brief.kind == "ad":
        fitted = fit_ad(text, brief, brand)
        if fitted != text:
            notes.append(Msg("ad fields rebuilt to their limits"))
        return fitted, notes
    if brief.kind == "email" and not re.match(r"(?i)^subject:", text):
        text = f"Subject: {trim_to(brief.topic, 70)}\n\n{text}"
        notes.append(Msg("subject line added"))
    if brief.limit and len(text) > brief.limit:
        text = trim_to(text, brief.limit)
        notes.append(Msg("trimmed to {limit} characters on a word boundary", limit=brief.limit))
    whole = complete_sentences(text)
    if whole != text:
        text = whole
        notes.append(Msg("cut back to the last full sentence"))
    return text, notes


def brief_title(brief: Brief) -> str:
    """The head of the brief: "Launch of the Aria headset: studio sound..." -> "Launch of the Aria headset"."""
    first = re.split(r"(?<=[.!?。！？])\s+|\n+", brief.topic.strip())[0]
    return trim_to(re.split(r":\s|：", first)[0].rstrip(". "), 70)  # not inside 10:00


