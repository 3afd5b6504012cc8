"""Which column of a review file plays which role (text, date, product, channel, rating, id), read
from the column names and from the values, with how sure each reading is.

A name is read in any common shape: `reviews.text`, `Review Text`, `review_body`, `reviewText`,
`Opinie`, `评论`. Values decide between names and stand in for them: free text with many distinct,
sentence-like values is text; a column that parses as dates is a date; small numbers on a 1-5 or
1-10 scale are a rating. A column of a few repeated labels (shop categories, product names) is
never taken for the review text, and a review's title gives way to its body.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from core.errors import IngestError, UserError
from core.i18n import Msg
from core.ratings import rating_value

# Names per role, as normalised tokens joined by "_" (see _tokens), in English, Romanian, Polish and Chinese.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "text": (
        "text", "review", "reviews", "review_text", "review_body", "body", "comment", "comments", "content", "feedback", "message",
        "sentence", "opinion", "verbatim", "customer_review", "review_content", "opinie", "opinia", "recenzie", "recenzja",
        "comentariu", "comentarii", "komentarz", "tresc", "评论", "评价", "内容", "留言", "短评", "评论内容", "评语", "点评",
    ),
    "date": (
        "date", "review_date", "created", "created_at", "timestamp", "time", "posted", "posted_at", "datetime", "day", "submitted",
        "submission_date", "data", "at", "日期", "时间", "评论时间",
    ),
    "product": ("product", "product_name", "item", "sku", "product_id", "asin", "asins", "model", "name", "produs", "produkt", "产品", "商品"),
    "channel": ("channel", "source", "platform", "site", "store", "marketplace", "kanal", "canal", "sursa", "zrodlo", "渠道", "来源"),
    "rating": ("rating", "stars", "star_rating", "score", "overall", "review_rating", "ocena", "nota", "evaluare", "评分", "星级"),
    "id": ("id", "review_id", "reviewid", "uuid", "ticket_id"),
}
ROLES = tuple(ROLE_NAMES)
TITLE_NAMES = ("title", "summary", "headline", "subject", "review_title", "tytul", "titlu", "标题")
# A prefix a vendor puts before every review field ("reviews.text", "review_rating"): read past it.
PREFIXES = ("reviews", "review")
# Words too common to say a role on their own inside a longer name (`user_name`, `meta_data`).
GENERIC_WORDS = {"name", "data", "time", "day", "id", "site", "model", "item", "nota", "body", "content", "source"}
# Names that often mean the role but as often something else: a `source` column may be the shop or
# the corpus a row came from. Such a column is proposed as "likely", for the person to confirm.
WEAK_NAMES = {"source"}
SAMPLE_ROWS = 1000


def _tokens(name: str) -> str:
    """`reviews.doRecommend` -> `reviews_do_recommend`; accents dropped, Chinese kept."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    name = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).replace("ł", "l").replace("Ł", "L")
    return re.sub(r"[\W_]+", "_", name.lower()).strip("_")


def name_score(column: str, role: str) -> int:
    """3: named for the role (with or without a vendor prefix); 1: the role's word is part of the
    name (`dateAdded`); 0: nothing in the name says so."""
    tokens = _tokens(column)
    names = ROLE_NAMES[role]
    bare = tokens
    for prefix in PREFIXES:
        if tokens.startswith(prefix + "_"):
            bare = tokens[len(prefix) + 1 :]
            break
    if tokens in names or bare in names:
        return 1 if bare in WEAK_NAMES else 3
    parts = set(tokens.split("_")) - GENERIC_WORDS - set(PREFIXES)
    return 1 if any(name in parts for name in names if "_" not in name) else 0


def _is_title(column: str) -> bool:
    tokens = _tokens(column)
    return any(tokens == t or tokens.endswith("_" + t) for t in TITLE_NAMES)


@dataclass
class Profile:
    """What a column's values look like, from a sample of its non-empty rows."""
    filled: int
    distinct_share: float
    median_words: float
    sentence_share: float  # rows of four words or more (twelve characters or more in Chinese and Japanese)
    list_share: float  # rows that are comma lists of short items ("Electronics,Tablets,Kindle")
    date_share: float
    numbers: pd.Series  # the values that read as numbers
    ratings: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # the values that read as ratings (core.ratings)

    @property
    def categorical(self) -> bool:
        return (self.filled >= 20 and self.distinct_share < 0.3) or self.list_share > 0.5

    @property
    def free_text(self) -> bool:
        return self.filled > 0 and not self.categorical and self.date_share <= 0.5 and len(self.numbers) <= 0.5 * self.filled

    def text_strength(self) -> float:
        """How much the rows read like sentences: 0 for anything that is not free text."""
        return self.sentence_share * min(self.median_words, 60) if self.free_text and self.sentence_share >= 0.3 else 0.0

    def is_rating(self, *, percent: bool = False) -> bool:
        """Ratings on a 1-5 or 1-10 scale, in any form core.ratings reads; with `percent`, whole
        numbers up to 100 too (a score out of 100 looks like any count, so only a named column)."""
        values = self.ratings
        if self.filled == 0 or len(values) < 0.9 * self.filled or values.nunique() < 2 or values.min() < 0:
            return False
        if percent and values.max() <= 100 and (values.round() == values).all():
            return True
        return bool(values.max() <= 10 and (values.round(2) == values).all() and values.nunique() <= 21)

    def is_label(self) -> bool:
        return self.filled > 0 and not self.is_rating() and self.date_share < 0.5 and (self.filled < 20 or self.distinct_share < 0.5)


_LIST = re.compile(r"^[^.!?。！？]{1,60}(,[^.!?。！？]{1,60}){2,}$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def profile(values: pd.Series) -> Profile:
    # Any cell: NaN (pandas keeps it through astype(str)), None, numbers and empty strings alike.
    sample = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    sample = sample[sample != ""].head(SAMPLE_ROWS)
    n = len(sample)
    if n == 0:
        return Profile(0, 0.0, 0.0, 0.0, 0.0, 0.0, pd.Series(dtype=float))
    words = sample.str.split().str.len()
    cjk = sample.str.contains(_CJK)
    sentence = (words >= 4) | (cjk & (sample.str.len() >= 12))
    items = sample.str.split(",")
    short_items = items.map(lambda parts: all(len(p.split()) <= 5 for p in parts))
    numbers = pd.to_numeric(sample.str.split("/").str[0].str.replace(",", ".", regex=False), errors="coerce").dropna()
    date_like = sample[sample.str.len().between(6, 40) & sample.str.contains(r"\d")]
    dates = pd.to_datetime(date_like, errors="coerce", utc=True, format="mixed") if len(date_like) else pd.Series(dtype="datetime64[ns, UTC]")
    return Profile(
        filled=n,
        distinct_share=sample.nunique() / n,
        median_words=float(words.where(~cjk, sample.str.len() / 3).median()),
        sentence_share=float(sentence.mean()),
        list_share=float((sample.str.match(_LIST) & short_items).mean()),
        date_share=float(dates.notna().sum() / n),
        numbers=numbers,
        ratings=sample.map(rating_value).dropna().astype(float),
    )


@dataclass
class RoleGuess:
    column: str | None
    confidence: str = ""  # "given" (by the user), "sure", "likely" or "guess"; "" when no column has the role
    reason: Msg | str = ""
    candidates: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    roles: dict[str, RoleGuess]

    def columns(self) -> dict[str, str | None]:
        return {role: guess.column for role, guess in self.roles.items()}

    def describe(self) -> str:
        """`text=reviews.text (sure), date=reviews.date (sure), ..., channel=none`: what the CLI prints."""
        return ", ".join(f"{role}={g.column} ({g.confidence})" if g.column else f"{role}=none" for role, g in self.roles.items())

    def confidences(self) -> dict[str, str]:
        return {role: guess.confidence for role, guess in self.roles.items() if guess.column}

    def warnings(self) -> list[Msg]:
        """A sentence for each role that matters to the result and was read with less than certainty."""
        return [
            Msg(
                "The {role} column '{column}' is a likely reading, not a sure one ({reason}): pass --map {key}=COLUMN if it is wrong.",
                role=Msg(role),
                key=role,
                column=g.column,
                reason=g.reason,
            )
            for role, g in self.roles.items()
            if g.confidence == "likely" and role in ("text", "date", "rating")
        ]


def _text_guess(profiles: dict[str, Profile]) -> RoleGuess:
    ranked = []
    for column, prof in profiles.items():
        # Repeated values make a column categorical, unless it is named as the review text (a small
        # test file, a survey's stock answers); a comma list of categories never is the text.
        named_text = name_score(column, "text") >= 3 and prof.list_share <= 0.5 and prof.sentence_share > 0
        if prof.free_text or (named_text and not prof.numbers.size > 0.5 * prof.filled):
            ranked.append((name_score(column, "text") - 2 * _is_title(column), prof.text_strength(), column))
    if not ranked:
        return RoleGuess(None)
    ranked.sort(reverse=True)
    named, strength, column = ranked[0]
    rivals = [c for n, s, c in ranked[1:] if n >= named and s >= 0.5 * strength]
    candidates = [c for _, _, c in ranked[:4]]
    if named >= 3:
        return RoleGuess(column, "sure", Msg("named as review text"), candidates)
    sentences = strength > 0 and profiles[column].median_words >= 5
    if not rivals and sentences:
        return RoleGuess(column, "likely" if named else "sure", Msg("the only column whose rows read as sentences"), candidates)
    if not rivals and named:
        return RoleGuess(column, "likely", Msg("its name mentions text or reviews, though its rows are short"), candidates)
    if rivals:
        return RoleGuess(column, "guess", Msg("free text, but {rivals} read as much like sentences", rivals=", ".join(rivals)), candidates)
    return RoleGuess(column, "guess", Msg("free text, but its rows are only a few words each"), candidates)


def _pick(role: str, profiles: dict[str, Profile], taken: set[str], fits) -> RoleGuess:
    ranked = sorted(
        ((name_score(column, role), column) for column, prof in profiles.items() if column not in taken and fits(prof)),
        key=lambda item: -item[0],
    )
    if not ranked:
        return RoleGuess(None)
    named, column = ranked[0]
    candidates = [c for _, c in ranked[:4]]
    if named >= 3:
        return RoleGuess(column, "sure", Msg("named as the {role}, and its values fit", role=Msg(role)), candidates)
    if named:
        return RoleGuess(column, "likely", Msg("its name mentions the {role}, and its values fit", role=Msg(role)), candidates)
    if role in ("date", "rating") and profiles[column].filled >= 20:  # a few values read as dates or stars by chance
        return RoleGuess(
            column, "likely", Msg("its values read as dates") if role == "date" else Msg("its values read as ratings (stars, 1-5 or 1-10)"), candidates
        )
    return RoleGuess(None)  # a product or channel is never taken from values alone: a brand or category column looks the same


FITS = {
    "date": lambda p: p.date_share >= 0.8,
    "rating": Profile.is_rating,
    "product": Profile.is_label,
    "channel": Profile.is_label,
    "id": lambda p: p.distinct_share > 0.95,
}


def propose_roles(frame: pd.DataFrame) -> Mapping:
    """The role of each column, with how sure the reading is and the other candidates."""
    profiles = {str(column): profile(frame[column]) for column in frame.columns}
    roles = {"text": _text_guess(profiles)}
    taken = {roles["text"].column} if roles["text"].column else set()
    for role in ("date", "rating", "product", "channel", "id"):
        roles[role] = _pick(role, profiles, taken, FITS[role])
        if role == "rating" and roles[role].column is None:  # a score out of 100, in a column named for it
            named = {c: p for c, p in profiles.items() if name_score(c, "rating")}
            roles[role] = _pick(role, named, taken, lambda p: p.is_rating(percent=True))
        if roles[role].column:
            taken.add(roles[role].column)
    return Mapping({role: roles[role] for role in ROLES})


_MAP_SPLIT = re.compile(r",(?=\s*(?:%s)\s*=)" % "|".join(ROLES))


def parse_map(text: str) -> dict[str, str | None]:
    """`text=reviews.text,date=reviews.date,product=name` -> roles; a column name may hold commas,
    and `role=` (or `role=none`) says the file has no such column."""
    chosen: dict[str, str | None] = {}
    for part in filter(str.strip, _MAP_SPLIT.split(text)):
        role, sep, column = part.partition("=")
        role = role.strip().lower()
        if not sep or role not in ROLES:
            raise UserError(Msg("--map takes role=COLUMN pairs for {roles}, not '{part}'.", roles=", ".join(ROLES), part=part.strip()))
        chosen[role] = None if column.strip().lower() in ("", "none") else column.strip()
    return chosen


def resolve_mapping(frame: pd.DataFrame, source: str, given: dict[str, str | None] | None = None) -> Mapping:
    """The proposal with the user's choices laid over it. A text column that is only a guess stops
    here with one sentence naming the candidates, rather than scoring the wrong column."""
    mapping = propose_roles(frame)
    for role, column in (given or {}).items():
        if column is not None and column not in frame.columns:
            raise IngestError(
                Msg("{source} has no column '{column}'; its columns are: {columns}.", source=source, column=column, columns=", ".join(map(str, frame.columns)))
            )
        mapping.roles[role] = RoleGuess(column, "given" if column else "", Msg("named by you"))
        for other, guess in mapping.roles.items():  # a column plays one role
            if other != role and column and guess.column == column and other not in given:
                mapping.roles[other] = RoleGuess(None)
    text = mapping.roles["text"]
    if text.column is None:
        raise IngestError(Msg("{source} has no column of review text: name it with --map text=COLUMN.", source=source))
    if text.confidence == "guess":
        raise UserError(
            Msg(
                "{source}: cannot tell which column holds the review text ({reason}); candidates: {candidates}. Name it with --map text=COLUMN.",
                source=source,
                reason=text.reason,
                candidates=", ".join(text.candidates),
            )
        )
    return mapping
