"""Grounding: checks, in code, that generated text rests on what it was given.

One idea serves two writers. An email draft may state only what the brand's facts or the
customer's own mail say (numbers, links, content words); a report summary may cite only the
figures code computed. Each check returns what is wrong, so a writer can ask for a repair or fall
back to text it writes itself (core/llm/guarded.py).
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from core.i18n import Msg
from core.text import tokens

SUPPORT_SHARE = 0.6  # share of a sentence's content words found in what it was given, or courtesy words
COURTESY = (
    "thanks thank sorry hear help happy glad please reply email message getting touch team follow shortly soon look "
    "know question asking asked let hope understand apologise apologize frustrating great welcome contact today personally "
    "check details sure enjoy day writing reaching wanted like would could share confirm right away colleague member"
)
TEXT_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")  # 2-4, 14:30, 1.5: as written
URL = re.compile(r"https?://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+", re.IGNORECASE)
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


# --- text against the text it was given ---------------------------------------------------------


def shingles(text: str, size: int = 4) -> set[str]:
    """Every run of `size` words: two texts sharing one share a phrase."""
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def content_words(text: str, language: str) -> set[str]:
    return set(tokens(text, language))


def covers(body: str, fact: str, language: str) -> bool:
    """Whether body carries at least half of the fact's content words."""
    wanted = content_words(fact, language)
    return bool(wanted) and len(wanted & content_words(body, language)) >= 0.5 * len(wanted)


def unsupported_sentences(body: str, grounded: str, language: str) -> list[str]:
    """Sentences whose content words mostly come from nowhere: not the grounding text, not
    ordinary courtesy. A small model's inventions (policies, products, steps) land here."""
    known = content_words(grounded, language) | content_words(COURTESY, "en")
    found = []
    for sentence in SENTENCE_BREAK.split(body):
        words = [w for w in content_words(sentence, language) if not w.isdigit()]
        if len(words) >= 3 and sum(w in known for w in words) < SUPPORT_SHARE * len(words):
            found.append(sentence.strip())
    return found


def unknown_numbers(body: str, grounded: str) -> list[str]:
    """Numbers in body that the grounding text never wrote."""
    known = set(TEXT_NUMBER.findall(grounded))
    return sorted({n for n in TEXT_NUMBER.findall(body) if n not in known})


def unknown_links(body: str, grounded: str) -> list[str]:
    """Links and addresses in body that the grounding text never gave."""
    given = grounded.lower()
    return [u for u in URL.findall(body) + EMAIL_ADDRESS.findall(body) if u.lower().rstrip(".,") not in given]


HANDLE = re.compile(r"(?<![\w@])@\w{2,}")
HASHTAG = re.compile(r"(?<![\w#])#(\w{2,})")
# A capitalised word inside a sentence: a name, a product or a place the text may have invented.
NAME = re.compile(r"(?<=[\w,;)\]] )[A-ZÀ-ÖØ-ÞĄĆĘŁŃÓŚŹŻĂÂÎȘȚ][\w’'-]*")  # after a colon a new sentence may start
COMMON_CAPITALS = {
    "i",
    "i'm",
    "i’m",
    "i've",
    "i’ve",
    "i'll",
    "i’ll",
    "i'd",
    "i’d",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "ok",
    "faq",
    "ai",
    "uk",
    "us",
    "eu",
}


def _camel_words(word: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", word)] or [word.lower()]


def invented_claims(text: str, grounded: str, *, link_sources: str | None = None) -> list[Msg]:
    """What a text states that the grounding text (facts, a brief, the brand's phrases, a customer's
    mail) never gave: numbers and prices, links and addresses, @handles, hashtags and capitalised
    names. One sentence per kind of claim; empty when the text invents none of them. Email drafts
    and content variants are both held to it. Links may be held to narrower sources (a reply never
    repeats a link the customer sent)."""
    known_words = set(re.findall(r"\w+", grounded.lower()))
    lowered = grounded.lower()
    problems = []
    numbers = unknown_numbers(text, grounded)
    if numbers:
        problems.append(Msg("numbers or prices it was not given: {items}", items=", ".join(numbers[:5])))
    links = unknown_links(text, grounded if link_sources is None else link_sources)
    if links:
        problems.append(Msg("links or addresses it was not given: {items}", items=", ".join(links[:3])))
    handles = sorted({h for h in HANDLE.findall(text) if h.lower() not in lowered})
    if handles:
        problems.append(Msg("handles it was not given: {items}", items=", ".join(handles[:5])))
    tags = sorted({f"#{t}" for t in HASHTAG.findall(text) if t.lower() not in lowered and not all(w in known_words for w in _camel_words(t))})
    if tags:
        problems.append(Msg("hashtags about what it was not given: {items}", items=", ".join(tags[:5])))
    names = sorted(
        {n for n in NAME.findall(text) if n.lower().strip("’'-") not in known_words | COMMON_CAPITALS and not all(w in known_words for w in _camel_words(n))}
    )
    if names:
        problems.append(Msg("names it was not given: {items}", items=", ".join(names[:5])))
    return problems


UNFINISHED_END = re.compile(r"[.!?…\"”»)\]:;*]$|[\U0001F300-\U0001FAFF\u2600-\u27BF]$")


def _open_end(paragraph: str) -> bool:
    last = paragraph.strip().splitlines()[-1].strip() if paragraph.strip() else ""
    last = re.sub(r"(?:\s+#\w+)+$", "", last)  # hashtags after the last sentence end a post properly
    if not last or re.match(r"^(?:#{1,6} |[-*•] |\d+[.)] |[\w ]{1,20}: )", last) or last.startswith("#") or len(last.split()) < 4:
        return False  # headings, lists, labelled lines (Subject:, CTA:), hashtag lines and fragments are not sentences
    return not UNFINISHED_END.search(last)


def unfinished_paragraphs(text: str) -> list[str]:
    """The ends of paragraphs that stop mid-sentence."""
    return [p.strip()[-40:] for p in re.split(r"\n\s*\n", text.strip()) if _open_end(p)]


def complete_sentences(text: str) -> str:
    """Each paragraph that stops mid-sentence cut back to its last full sentence, where it has one."""
    paragraphs = re.split(r"(\n\s*\n)", text.strip())
    for i, paragraph in enumerate(paragraphs):
        if _open_end(paragraph):
            ends = list(re.finditer(r"[.!?…。！？](?=\s|$)", paragraph))
            if ends:
                paragraphs[i] = paragraph[: ends[-1].end()]
    return "".join(paragraphs)


# --- text against computed figures ---------------------------------------------------------------


def allowed_figures(facts: dict, period: tuple[date | None, ...] = ()) -> set[float]:
    """The numbers a text about these facts may cite: each figure as given, rounded or unsigned,
    and the parts of the period's dates."""
    allowed: set[float] = set()
    for value in facts.values():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for variant in (value, round(value), round(value, 1), abs(value), abs(round(value)), abs(round(value, 1))):
                allowed.add(float(variant))
    for day in period:
        if day:
            allowed.update({float(day.year), float(day.month), float(day.day)})
    return allowed


def _matches(number: float, allowed: set[float]) -> bool:
    return any(abs(abs(number) - candidate) < 0.051 for candidate in allowed)


@lru_cache(maxsize=8)
def _figure_pattern(language: str) -> tuple[re.Pattern, str, str]:
    """A figure as a report in `language` writes it (1,234.5 / 1.234,5 / 1 234,5), and its symbols."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    from core.i18n import BABEL_LOCALES

    locale = BABEL_LOCALES.get(language, "en")
    decimal, group = get_decimal_symbol(locale), get_group_symbol(locale)
    groups = re.escape(group) + ("| |\u202f" if group in ("\u00a0", "\u202f", " ") else "")  # a model types a plain space
    d = re.escape(decimal)
    edge = r"(?<![A-Za-z0-9_.,])"  # not inside a word or another number; CJK text runs into its figures with no space
    pattern = re.compile(rf"{edge}[-+]?\d{{1,3}}(?:(?:{groups})\d{{3}})+(?:{d}\d+)?(?!\d)|{edge}[-+]?\d+(?:{d}\d+)?")
    return pattern, decimal, group


def figures_in(text: str, language: str = "en") -> list[tuple[str, float]]:
    """(as written, value) for each figure in a text written in `language`."""
    pattern, decimal, group = _figure_pattern(language)
    found = []
    for match in pattern.findall(text):
        plain = re.sub(r"[\s\u00a0\u202f]", "", match).replace(group, "").replace(decimal, ".")
        try:
            found.append((match, float(plain)))
        except ValueError:
            continue
    return found


def figures_not_in(text: str, facts: dict, period: tuple = (), language: str = "en") -> list[str]:
    """The numbers in a text that are not among the computed figures (empty when all are)."""
    allowed = allowed_figures(facts, period)
    return [written for written, number in figures_in(text, language) if not _matches(number, allowed)]


def figures_cited(text: str, facts: dict, language: str = "en") -> set[str]:
    """The computed figures a text cites."""
    allowed = allowed_figures(facts)
    return {written for written, number in figures_in(text, language) if _matches(number, allowed)}
