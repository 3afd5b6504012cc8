"""Marketing content: briefs in, variants out in the brand's voice, each checked by code.

The model writes; code enforces what must hold whatever the model does: platform limits (a
variant over its limit is regenerated once, then trimmed on a word boundary), ad field limits,
and the checks shown beside every variant (keywords, readability, banned phrases, similarity to
the library, BLEU and ROUGE against a reference).
"""
from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sqlmodel import select

from core.brand import Brand
from core.db import ContentPiece, delete_row, session_scope
from core.errors import MercuryError
from core.ingest import find_column

Progress = Callable[[int, int], None]

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
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch", "pt": "Portuguese"}


class ContentError(MercuryError, ValueError):
    """A brief the studio cannot write from; the message is one sentence."""


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
            raise ContentError(f"Unknown content kind '{self.kind}': choose one of {', '.join(KINDS)}.")
        if not self.topic.strip():
            raise ContentError("Give a topic or a brief to write about.")
        if self.kind == "social":
            self.platform = self.platform or "x"
            if self.platform not in PLATFORM_LIMITS:
                raise ContentError(f"Unknown platform '{self.platform}': choose one of {', '.join(PLATFORM_LIMITS)}.")
        if not 1 <= self.variants <= 6:
            raise ContentError("Ask for between 1 and 6 variants.")

    @property
    def limit(self) -> int | None:
        return PLATFORM_LIMITS[self.platform] if self.kind == "social" else None

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
    notes: list[str] = field(default_factory=list)


# --- prompts ---------------------------------------------------------------------------------------


def _system(brand: Brand) -> str:
    lines = [f"You write marketing copy for {brand.name}.", brand.for_prompt()]
    if brand.examples:
        lines.append("Examples of our past content, for the voice:\n" + "\n".join(f"- {e}" for e in brand.examples[:5]))
    lines.append("Write only the content itself: no preamble, no notes, no placeholders in brackets.")
    return "\n".join(lines)


def _task(brief: Brief) -> str:
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
    return [{"role": "system", "content": _system(brand)}, {"role": "user", "content": f"{_task(brief)} {angle} {extra}".strip()}]


# --- limits ------------------------------------------------------------------------------------------


def trim_to(text: str, limit: int) -> str:
    """At most `limit` characters, cut on a word boundary with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


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


def _clean(text: str) -> str:
    text = re.sub(r"^\s*(?:here(?:'s| is) (?:a|an|the|your)[^\n:]*:|sure[^\n]*:)\s*", "", text.strip(), flags=re.IGNORECASE)
    return re.sub(r"[ \t]*\[[^\]\n]{1,40}\]", "", text).strip()  # [brand], [Your Name], [link] placeholders


def _finish(text: str, brief: Brief, brand: Brand) -> tuple[str, list[str]]:
    """The text with the kind's rules enforced, and a note for each repair."""
    text, notes = _clean(text), []
    if brief.kind == "ad":
        fitted = fit_ad(text, brief, brand)
        if fitted != text:
            notes.append("ad fields rebuilt to their limits")
        return fitted, notes
    if brief.kind == "email" and not re.match(r"(?i)^subject:", text):
        text = f"Subject: {trim_to(brief.topic, 70)}\n\n{text}"
        notes.append("subject line added")
    if brief.limit and len(text) > brief.limit:
        text = trim_to(text, brief.limit)
        notes.append(f"trimmed to {brief.limit} characters on a word boundary")
    return text, notes


# --- checks ------------------------------------------------------------------------------------------

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
    if library is not None and not library.empty:
        result["most_similar"] = most_similar(text, library)
    if brief.reference.strip():
        result.update(overlap_scores(text, brief.reference))
    return result


def most_similar(text: str, library: pd.DataFrame) -> dict:
    """The library piece closest in meaning (MiniLM cosine)."""
    from core.sentiment import encoder

    vectors = encoder().encode([text[:2000]] + [t[:2000] for t in library["text"]])
    similarity = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarity))
    return {"id": int(library["id"].iloc[best]), "similarity": round(float(similarity[best]), 3)}


# --- writing -----------------------------------------------------------------------------------------

DUPLICATE_SIMILARITY = 0.97
REGENERATE_OVER = 1.25  # a variant this far over its limit is rewritten shorter; nearer ones are trimmed


def _near_duplicates(texts: Sequence[str]) -> list[int]:
    """Indexes of variants that repeat an earlier one."""
    from core.sentiment import encoder

    vectors = encoder().encode([t[:2000] for t in texts])
    repeated = []
    for i in range(1, len(texts)):
        if any(texts[i].strip() == texts[j].strip() or float(vectors[i] @ vectors[j]) >= DUPLICATE_SIMILARITY for j in range(i)):
            repeated.append(i)
    return repeated


def _write_many(prompts: list[list[dict]], brief: Brief, spec, temperature: float) -> list[str]:
    from core.llm import complete_many

    tokens = min(900, int(brief.target_words * 2.2) + 40) if brief.kind != "ad" else 120
    if brief.limit:
        tokens = min(tokens, brief.limit // 4 + 10)  # about four characters a token: near the limit, rarely far over
    return [c.text for c in complete_many(prompts, spec=spec, page="content", max_tokens=tokens, temperature=temperature)]


def generate(brief: Brief, brand: Brand, *, spec=None, library: pd.DataFrame | None = None, on_token: Callable[[int, str], None] | None = None) -> list[Variant]:
    """`brief.variants` variants, each from its own angle; far over-limit ones are regenerated
    shorter once, repeats are rewritten once at a higher temperature, then the kind's rules are
    enforced (a text still over its limit is trimmed on a word boundary)."""
    from core.llm import resolve_spec

    spec = spec or resolve_spec()
    angles = [ANGLES[i % len(ANGLES)] for i in range(brief.variants)]
    if brief.kind == "blog":
        texts = [write_blog(brief, brand, angle, spec=spec, on_token=(lambda piece, i=i: on_token(i, piece)) if on_token else None) for i, angle in enumerate(angles)]
    else:
        texts = _write_many([content_messages(brief, brand, a) for a in angles], brief, spec, 0.8)
    notes: list[list[str]] = [[] for _ in texts]
    if brief.limit:
        over = [i for i, t in enumerate(texts) if len(_clean(t)) > REGENERATE_OVER * brief.limit]
        if over:
            shorter = f"Your last draft was too long: stay well under {brief.limit} characters."
            for i, text in zip(over, _write_many([content_messages(brief, brand, angles[i], extra=shorter) for i in over], brief, spec, 0.8)):
                texts[i] = text
                notes[i].append("regenerated shorter")
    if brief.kind != "blog" and len(texts) > 1:
        repeated = _near_duplicates([_clean(t) for t in texts])
        if repeated:
            fresh = [ANGLES[(brief.variants + n) % len(ANGLES)] for n in range(len(repeated))]
            for i, angle, text in zip(repeated, fresh, _write_many([content_messages(brief, brand, a) for a in fresh], brief, spec, 1.0)):
                texts[i], angles[i] = text, angle
                notes[i].append("rewritten: it repeated another variant")
    variants = []
    for text, angle, note in zip(texts, angles, notes):
        final, repairs = _finish(text, brief, brand)
        variants.append(Variant(final, checks_for(final, brief, brand, library=library), angle, spec.kind, spec.model, note + repairs))
    return variants


def outline_for(brief: Brief, brand: Brand, angle: str, *, spec) -> list[str]:
    """Section headings from the model, or a plain outline when it gives none usable."""
    from core.llm import complete

    reply = complete(
        [{"role": "system", "content": _system(brand)}, {"role": "user", "content": f"List 4 section headings for a blog post about: {brief.topic}. {angle} One heading per line, nothing else."}],
        spec=spec, page="content", max_tokens=80, temperature=0.7,
    ).text
    headings = [re.sub(r"^\s*(?:[-*#\d.)]+\s*)+", "", line).strip(" *#\"") for line in reply.splitlines()]
    headings = [h for h in headings if 3 <= len(h) <= 90][:5]
    if len(headings) >= 3:
        return headings
    return [f"Why {brief.topic} matters", "What to look for", "How to get started", "The bottom line"]


def write_blog(brief: Brief, brand: Brand, angle: str, *, spec, on_token: Callable[[str], None] | None = None) -> str:
    """A post written section by section from its outline, so no call outgrows the context window."""
    from core.llm import stream

    headings = outline_for(brief, brand, angle, spec=spec)
    per_section = max(60, brief.target_words // len(headings))
    parts = [f"# {brief.topic.strip().rstrip('.')}"]
    if on_token:
        on_token(parts[0] + "\n\n")
    for heading in headings:
        task = f"{_task(brief)} Write only the section '{heading}', about {per_section} words, as plain paragraphs without a heading. {angle}"
        pieces = []
        if on_token:
            on_token(f"## {heading}\n\n")
        for piece in stream([{"role": "system", "content": _system(brand)}, {"role": "user", "content": task}], spec=spec, page="content", max_tokens=min(SECTION_TOKENS * 2, int(per_section * 1.8) + 20), temperature=0.7):
            pieces.append(piece)
            if on_token:
                on_token(piece)
        if on_token:
            on_token("\n\n")
        parts.append(f"## {heading}\n\n{_clean(''.join(pieces))}")
    return "\n\n".join(parts)


# --- personalisation ------------------------------------------------------------------------------

_CUSTOMER_ROLES = {"name": ("name", "first_name", "customer", "customer_name", "full_name"), "segment": ("segment", "tier", "group"), "last_purchase": ("last_purchase", "last_product", "purchase", "product")}


def personalise(customers: pd.DataFrame, brief: Brief, brand: Brand, *, spec=None, progress: Progress | None = None, chunk: int = 8) -> pd.DataFrame:
    """One personalised piece per customer (name, segment, last purchase), batched, every input
    column kept; a piece that forgets the customer's name gets a greeting with it."""
    from core.llm import resolve_spec

    name_column = find_column(customers, _CUSTOMER_ROLES["name"])
    if name_column is None:
        raise ContentError("The customer file needs a name column (name, first_name or customer).")
    segment, purchase = find_column(customers, _CUSTOMER_ROLES["segment"]), find_column(customers, _CUSTOMER_ROLES["last_purchase"])
    spec = spec or resolve_spec()
    texts: list[str] = []
    rows = list(customers.itertuples(index=False))
    position = {c: i for i, c in enumerate(customers.columns)}
    for start in range(0, len(rows), chunk):
        prompts = []
        for row in rows[start : start + chunk]:
            about = [f"Customer: {row[position[name_column]]}"]
            if segment:
                about.append(f"segment: {row[position[segment]]}")
            if purchase:
                about.append(f"last purchase: {row[position[purchase]]}")
            prompts.append(content_messages(brief, brand, "Personalise it for this customer: " + ", ".join(str(a) for a in about) + ". Address them by first name."))
        for row, text in zip(rows[start : start + chunk], _write_many(prompts, brief, spec, 0.7)):
            final, _ = _finish(text, brief, brand)
            first = str(row[position[name_column]]).split(" ")[0]
            if first and first.lower() not in final.lower():
                final = f"Hi {first},\n\n{final}" if brief.kind != "email" else re.sub(r"(\n\n)", rf"\1Hi {first},\n\n", final, count=1)
            texts.append(final)
        if progress:
            progress(len(texts), len(rows))
    out = customers.copy()
    out["personalised"] = texts
    return out


# --- library -----------------------------------------------------------------------------------------


def save_piece(brief: Brief, text: str, *, checks: dict, backend: str = "", model: str = "", ab_group: str = "", edited: bool = False) -> int:
    with session_scope() as session:
        row = ContentPiece(
            kind=brief.kind, platform=brief.platform, topic=brief.topic, brief=json.dumps(asdict(brief), ensure_ascii=False), text=text,
            checks=json.dumps(checks, ensure_ascii=False), backend=backend, model=model, ab_group=ab_group, edited=edited,
        )
        session.add(row)
        session.commit()
        return row.id


def save_ab_pair(brief: Brief, first: Variant, second: Variant) -> str:
    group = uuid.uuid4().hex[:8]
    for variant in (first, second):
        save_piece(brief, variant.text, checks=variant.checks, backend=variant.backend, model=variant.model, ab_group=group)
    return group


LIBRARY_COLUMNS = ["id", "created_at", "kind", "platform", "topic", "text", "backend", "model", "ab_group", "edited", "checks"]


def library_frame(query: str = "", kind: str | None = None) -> pd.DataFrame:
    with session_scope() as session:
        statement = select(ContentPiece)
        if kind:
            statement = statement.where(ContentPiece.kind == kind)
        rows = session.exec(statement.order_by(ContentPiece.created_at.desc(), ContentPiece.id.desc())).all()
    frame = pd.DataFrame([{c: getattr(r, c) for c in LIBRARY_COLUMNS} for r in rows], columns=LIBRARY_COLUMNS)
    if query.strip() and not frame.empty:
        needle = query.strip().lower()
        frame = frame[frame["topic"].str.lower().str.contains(needle, regex=False) | frame["text"].str.lower().str.contains(needle, regex=False)]
    return frame.reset_index(drop=True)


def delete_piece(piece_id: int) -> None:
    delete_row(ContentPiece, piece_id)


def ab_frame() -> pd.DataFrame:
    """Saved A/B pairs side by side, one row per pair."""
    frame = library_frame()
    frame = frame[frame["ab_group"] != ""].sort_values("id")
    rows = [{"ab_group": g, "kind": part["kind"].iloc[0], "topic": part["topic"].iloc[0], "variant_a": part["text"].iloc[0], "variant_b": part["text"].iloc[-1]} for g, part in frame.groupby("ab_group", sort=False) if len(part) == 2]
    return pd.DataFrame(rows, columns=["ab_group", "kind", "topic", "variant_a", "variant_b"])


def export_markdown(frame: pd.DataFrame) -> bytes:
    parts = [f"## {row.kind}{' · ' + row.platform if row.platform else ''}: {row.topic}\n\n{row.text}\n" for row in frame.itertuples()]
    return ("# Mercury content library\n\n" + "\n---\n\n".join(parts)).encode("utf-8")


def export_docx(frame: pd.DataFrame) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("Mercury content library", level=0)
    for row in frame.itertuples():
        document.add_heading(f"{row.kind}{' · ' + row.platform if row.platform else ''}: {row.topic}", level=1)
        for paragraph in str(row.text).split("\n\n"):
            document.add_paragraph(paragraph.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
