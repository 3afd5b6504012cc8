"""The Brand profile: the voice the assistant writes in and the only facts it may state.

Shared by email replies and marketing content. Internal notes are stored for the team and
never leave this module towards a model: `Brand.for_prompt()` is the only view prompts get.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlmodel import select

from core.db import BrandProfile, session_scope, utcnow
from core.errors import UserError
from core.i18n import Msg
from core.ingest import IngestError, read_json_file
from core.mail.phrases import REPLY_LANGUAGES
from core.models.encoders import encoder
from core.models.intents import intent_classifier
from core.text import UNKNOWN, market_languages

LIST_FIELDS = ("phrases_use", "phrases_avoid", "facts", "examples", "reply_examples")
# Cosine similarity (e5, question as query, fact as passage). e5 cosines sit high and close together:
# on the test brand, answering facts score 0.77-0.86 against questions in English, Romanian, Polish and
# Chinese, and unrelated ones up to 0.78 (tests/test_multilingual.py, tests/test_email.py). So a fact
# this close answers whatever the mail asks...
FACT_STRONG = 0.86  # precision 0.78 / recall 0.69 on bench/data/fact_pairs.tsv (0.80 gave 0.51 / 0.76)
# ...and one this close answers it when the intent classifier reads the fact and the mail as the same
# intent (a refund fact for a refund question, not a store-visit fact for a sponsorship request).
FACT_RELATED = 0.75
FACT_MARGIN = 0.03  # a fact far behind the best match is noise, even above the threshold
SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")


_REPLY_TAG = re.compile(r"^\[(\w+), (\w+)\] (.+)$", re.DOTALL)


@dataclass
class Brand:
    name: str
    tone: str = "friendly, clear and helpful"
    sign_off: str = "Best regards"
    reply_from: str = ""
    phrases_use: list[str] = field(default_factory=list)
    phrases_avoid: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    reply_examples: list[str] = field(default_factory=list)  # "[intent, language] text": replies the team sent (core/mail/mailbox.learn_voice)
    internal_notes: str = ""
    id: int | None = None

    def for_prompt(self) -> str:
        """The voice, as a model may see it: everything except the internal notes and the facts
        (facts are chosen per message, so a prompt only carries the ones that bear on it)."""
        lines = [f"Brand: {self.name}", f"Tone: {self.tone}"]
        if self.phrases_use:
            lines.append("Phrases we like: " + "; ".join(self.phrases_use))
        if self.phrases_avoid:
            lines.append("Never use these phrases: " + "; ".join(self.phrases_avoid))
        return "\n".join(lines)

    def replies_like(self, language: str, limit: int = 2) -> list[str]:
        """The team's own replies (from Sent) in `language`, for a prompt's voice."""
        tagged = (_REPLY_TAG.match(example) for example in self.reply_examples)
        return [m.group(3) for m in tagged if m and m.group(2) == language][:limit]

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "id"}


def brand_from_dict(data: dict) -> Brand:
    if not isinstance(data, dict) or not str(data.get("name", "")).strip():
        raise UserError(Msg("A brand needs at least a name."))
    values = {"name": str(data["name"]).strip()}
    for key in ("tone", "sign_off", "reply_from", "internal_notes"):
        if data.get(key) is not None:
            if not isinstance(data[key], str):
                raise UserError(Msg("The brand's {key} must be text.", key=key))
            values[key] = data[key].strip()
    for key in LIST_FIELDS:
        if data.get(key) is not None:
            items = data[key]
            if isinstance(items, str):
                items = [line for line in items.splitlines()]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise UserError(Msg("The brand's {key} must be a list of strings.", key=key))
            values[key] = [i.strip() for i in items if i.strip()]
    return Brand(**values)


def read_brand_file(path: str | Path) -> Brand:
    if not Path(path).exists():
        raise UserError(Msg("There is no brand file at {path}.", path=path))
    try:
        data = read_json_file(path)
    except IngestError as error:
        raise UserError(Msg("The brand file: {error}", error=error)) from None
    return brand_from_dict(data)


def _from_row(row: BrandProfile) -> Brand:
    return Brand(
        id=row.id,
        name=row.name,
        tone=row.tone,
        sign_off=row.sign_off,
        reply_from=row.reply_from,
        internal_notes=row.internal_notes,
        **{key: list(getattr(row, key) or []) for key in LIST_FIELDS},
    )


def save_brand(brand: Brand) -> Brand:
    """Insert or update the stored profile (there is one per workspace; the first row)."""
    with session_scope() as session:
        row = session.get(BrandProfile, brand.id) if brand.id else session.exec(select(BrandProfile)).first()
        row = row or BrandProfile(name=brand.name)
        row.name, row.tone, row.sign_off, row.reply_from = brand.name, brand.tone, brand.sign_off, brand.reply_from
        row.internal_notes = brand.internal_notes
        for key in LIST_FIELDS:
            setattr(row, key, list(getattr(brand, key)))
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
        session.refresh(row)
        return _from_row(row)


SAMPLE_BRAND = Path(__file__).resolve().parent.parent / "sample_data" / "brand.json"


def current_brand() -> Brand:
    """The stored profile; on first use the sample brand, so every page has a voice to start from."""
    with session_scope() as session:
        row = session.exec(select(BrandProfile)).first()
        if row is not None:
            return _from_row(row)
    return save_brand(read_brand_file(SAMPLE_BRAND))


def _sentences(text: str, limit: int = 24) -> list[str]:
    # A one-word line (a subject such as "Sponsoring") is close to everything in e5's space: skip it.
    parts = [p.strip() for p in SENTENCE.split(text) if len(p.strip()) >= 12]
    return parts[:limit] or [text[:500]]


TRANSLATION = 0.80  # the least cosine between a fact and its translation (they score 0.85-0.92 on the sample brand)
NUMBER = re.compile(r"\d+")


def fact_space(brand: Brand) -> tuple[np.ndarray, tuple[str, ...], tuple[frozenset[int], ...]]:
    """The brand facts' vectors (as passages), languages and translations: for each fact, the facts
    in other languages that say the same. Cosine alone cannot tell (two different English facts of the
    sample brand score 0.90, a fact and its Chinese translation 0.85), so a translation is a fact in
    another language with the same numbers, each the other's closest in its language. Worked out once
    per set of facts: every draft asks twice (retrieval, then the reply's language)."""
    return _fact_space(tuple(brand.facts))


@lru_cache(maxsize=8)
def _fact_space(facts: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...], tuple[frozenset[int], ...]]:
    vectors, languages = encoder().encode(list(facts), passage=True), market_languages(facts)
    # A lone fact read in a language Mercury does not reply in is misread (a price list of names read as Swedish): the brand's main language.
    counts = Counter(languages)
    languages = [language if language in REPLY_LANGUAGES or counts[language] > 1 else counts.most_common(1)[0][0] for language in languages]
    similar = vectors @ vectors.T
    numbers = [sorted(NUMBER.findall(fact)) for fact in facts]

    def closest(i: int, language: str) -> int:
        return max((j for j in range(len(languages)) if languages[j] == language), key=lambda j: similar[i, j])

    translations: list[set[int]] = [set() for _ in facts]
    for i in range(len(languages)):
        for j in range(i + 1, len(languages)):
            if languages[i] != languages[j] and numbers[i] == numbers[j] and similar[i, j] >= TRANSLATION:
                if closest(i, languages[j]) == j and closest(j, languages[i]) == i:
                    translations[i].add(j)
                    translations[j].add(i)
    return vectors, tuple(languages), tuple(frozenset(t) for t in translations)


def relevant_facts(brand: Brand, text: str, *, top: int = 3) -> list[str]:
    """The brand facts that bear on `text`, best first: encoder cosine between each fact and the
    closest sentence of the text (across languages: the encoder is multilingual), strong enough on
    its own or related and of the mail's intent, and within FACT_MARGIN of the best. A fact the brand
    gives in several languages is scored as it gives it first, so a Polish mail is not drawn to
    whatever the brand says in Polish (facts_in_language then quotes the Polish one)."""
    if not brand.facts or not text.strip():
        return []
    vectors, _, translations = fact_space(brand)
    firsts = [i for i in range(len(brand.facts)) if all(i < j for j in translations[i])]
    facts = [brand.facts[i] for i in firsts]
    best = (vectors[firsts] @ encoder().encode(_sentences(text)).T).max(axis=1)
    guesses = intent_classifier().predict([text[:600], *facts])
    intents = [guesses[0].intent] + [g.runner_up if g.intent == "spam_other" else g.intent for g in guesses[1:]]  # a brand fact is never spam
    same_intent = np.array([intent == intents[0] for intent in intents[1:]])
    keep = (best >= FACT_STRONG) | ((best >= FACT_RELATED) & same_intent)
    # A complaint gets an apology and the next step, never a price or an offer; a return, never troubleshooting.
    deflecting = {"complaint": "pricing", "refund_return": "technical_support"}.get(intents[0])
    keep &= np.array([intent != deflecting for intent in intents[1:]])
    order = np.argsort(-best)
    return [facts[i] for i in order[:top] if keep[i] and best[i] >= best[order[0]] - FACT_MARGIN]


def facts_in_language(brand: Brand, facts: list[str], language: str) -> tuple[list[str], list[str]]:
    """The facts as the brand gives them in `language` where it gives a translation among its facts
    (so a Romanian reply quotes the Romanian fact), each once; and the facts it gives in no other
    language than a foreign one, which the reply has to quote as they are."""
    if not facts or language in ("", UNKNOWN):
        return facts, []
    _, languages, translations = fact_space(brand)
    chosen, foreign = [], []
    for fact in facts:
        i = brand.facts.index(fact)
        native = [j for j in translations[i] if languages[j] == language]
        if languages[i] != language and native:
            i = native[0]
        if brand.facts[i] not in chosen:
            chosen.append(brand.facts[i])
            if languages[i] != language:
                foreign.append(brand.facts[i])
    return chosen, foreign
