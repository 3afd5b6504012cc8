"""Themes found in a dataset's own reviews, as BERTopic finds topics: the encoder's vectors clustered
(k-means), each cluster named by the words that most set it apart from the others (class-based
TF-IDF over each review's lemmas, in the review's own language). A cluster takes a name from the
fixed list below only when it clearly matches one, so an app's reviews are about logins and
updates, never "delivery".

Before clustering, the sentiment head's direction is taken out of the vectors and each language's
and each sentiment label's mean is moved to the overall mean: otherwise the encoder's strongest
splits are praise against complaint and Polish against English, and themes would be "great",
"terrible" and "the Polish reviews". Themes belong to a scope (the dataset's name): a newer export
of the same file meets the themes already found (its reviews centred the same way), its reviews
join the closest one, and only reviews far from every theme form new ones.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.db import ReviewTheme, ThemeScope, session_scope, utcnow
from core.models.encoders import encoder
from core.models.sentiment import HEAD_PATH, EmbeddedClassifier
from core.shared import shared
from core.text import NEGATIONS, UNKNOWN, terms

# The aspects marketers ask about, each described once in plain English and matched across languages:
# names for clusters that clearly are one of them, never a list every review is forced into.
FIXED: dict[str, tuple[str, ...]] = {
    "price": ("The price is too high, or good value for money", "expensive, cheap, overpriced, worth the money", "hidden fees and extra charges on the bill"),
    "delivery": ("The parcel delivery was late or fast", "courier, shipping and package arrival", "the order arrived damaged or never arrived"),
    "quality": ("The product broke quickly, or is well made and durable", "poor build quality, defective, cheap materials", "sturdy, solid, lasts a long time"),
    "support": ("Customer service staff were helpful or rude", "support did not answer my emails or calls", "the agent solved my problem"),
    "usability": ("Easy or difficult to set up and use", "the app is confusing, crashes, hard to install", "simple to assemble, intuitive interface"),
    "battery": ("Battery life and charging", "the battery drains fast or stops charging"),
    "sound": ("Sound quality, audio, noise and volume", "the speaker or headphones sound crisp or crackle"),
    "cleanliness": ("The room or place was clean or dirty", "dirty towels, filthy, spotless"),
    "food": ("The taste of the food and drinks", "delicious meal, bland, undercooked, stale"),
}
MIN_REVIEWS = 12  # fewer reviews than this make no themes
MOST_THEMES = 10
SAMPLE = 20_000  # reviews clustered; the rest join their closest theme
JOIN_MIN = 0.3  # cosine (centred) to a theme's centre below which a review is far from it
FIXED_MIN, FIXED_LEAD = 0.84, 0.03  # a cluster's centre this close to a fixed theme, and this far ahead of the next, takes its name
NAME_WORDS = 3
SENTIMENT_WORD = 0.8  # a term the sentiment head, reading it alone, scores beyond +-this is praise or complaint, not a theme
CANDIDATES = 15  # most distinctive terms per cluster read for a name
MIN_GROUP = 3  # reviews of a language or sentiment label needed to centre that group


@dataclass
class Theme:
    key: str
    name: str
    fixed: str  # the fixed theme it matches ("" for none): the name the interface translates
    words: list[str]
    centroid: np.ndarray  # in the scope's centred space
    reviews: int


class _Space:
    """The sentiment head's direction, and the fixed themes' vectors."""

    def __init__(self):
        import json

        head = np.array(json.loads(HEAD_PATH.read_text())["coef"], dtype=np.float32)
        self.direction = head / np.linalg.norm(head)
        self.fixed_names = list(FIXED)
        phrases = [p for name in self.fixed_names for p in FIXED[name]]
        self.fixed_owner = np.array([i for i, name in enumerate(self.fixed_names) for _ in FIXED[name]])
        self.fixed_vectors = encoder().encode(phrases)

    def flat(self, vectors: np.ndarray) -> np.ndarray:
        return vectors - np.outer(vectors @ self.direction, self.direction)

    def fixed_name(self, raw_centre: np.ndarray) -> str:
        similarity = self.fixed_vectors @ (raw_centre / np.linalg.norm(raw_centre))
        best = np.array([similarity[self.fixed_owner == i].max() for i in range(len(self.fixed_names))])
        first, second = np.argsort(-best)[:2]
        return self.fixed_names[first] if best[first] >= FIXED_MIN and best[first] - best[second] >= FIXED_LEAD else ""


def _space() -> _Space:
    return shared("theme-space", _Space)


def group_keys(languages: Sequence[str], sentiments: Sequence[str | None]) -> list[tuple[str, str]]:
    return [(f"language:{language}", f"sentiment:{sentiment}") for language, sentiment in zip(languages, sentiments)]


def centring(flat: np.ndarray, keys: Sequence[tuple[str, str]]) -> dict[str, list[float]]:
    """Per language and per sentiment label (with MIN_GROUP reviews or more): what moves its mean to the overall mean."""
    overall = flat.mean(axis=0)
    offsets = {}
    for position in range(2):
        column = np.array([k[position] for k in keys])
        for key in set(column):
            members = column == key
            if members.sum() >= MIN_GROUP:
                offsets[key] = [round(float(x), 5) for x in overall - flat[members].mean(axis=0)]
    return offsets


def centred(vectors: np.ndarray, keys: Sequence[tuple[str, str]], offsets: dict[str, list[float]]) -> np.ndarray:
    out = _space().flat(vectors)
    for i, pair in enumerate(keys):
        for key in pair:
            if key in offsets:
                out[i] += np.asarray(offsets[key], dtype=np.float32)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def theme_count(reviews: int) -> int:
    return int(min(MOST_THEMES, max(2, round(math.sqrt(reviews / 2)))))


def distinctive_words(texts: Sequence[str], languages: Sequence[str], labels: np.ndarray, clusters: int) -> list[list[str]]:
    """Each cluster's most distinctive lemmas and bigrams: class-based TF-IDF (a term's share in the
    cluster, times how rare it is across clusters). Negations and words of praise or complaint (the
    sentiment head reads the word alone as clearly one way: "great", "poor", "świetny") are no name,
    and a term sharing a word with one chosen already is skipped."""
    counts = [Counter() for _ in range(clusters)]
    for text, language, label in zip(texts, languages, labels):
        found = terms(text, language if language and language != UNKNOWN else "en")
        counts[label].update({t for t in found if not set(t.split()) & NEGATIONS})
    total = sum(counts, Counter())
    mean_size = sum(total.values()) / clusters or 1
    ranked = []
    for count in counts:
        size = sum(count.values()) or 1
        scored = sorted(((n / size) * math.log(1 + mean_size / total[t]), t) for t, n in count.items() if n >= 2)
        ranked.append([t for _, t in reversed(scored)][:CANDIDATES])
    candidates = sorted({t for terms_ in ranked for t in terms_})
    leaning = dict(zip(candidates, 2 * EmbeddedClassifier().probabilities(candidates) - 1)) if candidates else {}
    out = []
    for terms_ in ranked:
        chosen: list[str] = []
        for term in terms_:
            if abs(leaning[term]) < SENTIMENT_WORD and not any(set(term.split()) & set(c.split()) for c in chosen):
                chosen.append(term)
            if len(chosen) == NAME_WORDS:
                break
        out.append(chosen)
    return out


def discover(
    texts: Sequence[str], languages: Sequence[str], vectors: np.ndarray, points: np.ndarray, *, start: int = 1
) -> list[Theme]:
    """Themes of these reviews (keys t<start>, t<start+1>...), largest first, from their raw vectors
    (for the fixed names) and their centred `points`; none for fewer than MIN_REVIEWS."""
    from sklearn.cluster import KMeans

    if len(texts) < MIN_REVIEWS:
        return []
    distinct = len(np.unique(points.round(4), axis=0))  # the same review pasted many times is one point
    clusters = min(theme_count(len(texts)), distinct)
    if clusters < 2:
        return []
    labels = KMeans(n_clusters=clusters, n_init=4, random_state=0).fit_predict(points)
    words = distinctive_words(texts, languages, labels, clusters)
    themes = []
    for label in sorted(range(clusters), key=lambda c: -(labels == c).sum()):
        members = labels == label
        if not words[label]:
            continue  # no word repeats in it: nothing a person could read as a theme
        fixed = _space().fixed_name(vectors[members].mean(axis=0))
        centre = points[members].mean(axis=0)
        key = f"t{start + len(themes)}"
        themes.append(Theme(key, fixed or " · ".join(words[label]), fixed, words[label], centre / np.linalg.norm(centre), int(members.sum())))
    return themes


def closest(points: np.ndarray, themes: Sequence[Theme]) -> list[str]:
    """Each review's theme name: the closest theme's centre, or "" when it is far from every one."""
    if not themes or not len(points):
        return [""] * len(points)
    similarity = points @ np.array([t.centroid for t in themes]).T
    best = similarity.argmax(axis=1)
    return [themes[j].name if similarity[i, j] >= JOIN_MIN else "" for i, j in enumerate(best)]


# --- stored per scope ------------------------------------------------------------------------------


def stored_themes(scope: str) -> tuple[dict[str, list[float]] | None, list[Theme]]:
    with session_scope() as session:
        space = session.get(ThemeScope, scope)
        rows = session.exec(select(ReviewTheme).where(ReviewTheme.scope == scope).order_by(ReviewTheme.id)).all()
    themes = [Theme(r.key, r.name, r.fixed, list(r.words), np.array(r.centroid, dtype=np.float32), r.reviews) for r in rows]
    return (space.offsets if space else None), themes


def save_themes(scope: str, offsets: dict[str, list[float]] | None, themes: Sequence[Theme]) -> bool:
    """False when another process stored this scope's centring or these keys first."""
    with session_scope() as session:
        if offsets is not None:
            session.add(ThemeScope(scope=scope, offsets=offsets, created_at=utcnow()))
        for t in themes:
            centroid = [round(float(x), 5) for x in t.centroid]
            session.add(ReviewTheme(scope=scope, key=t.key, name=t.name, fixed=t.fixed, words=t.words, centroid=centroid, reviews=t.reviews))
        try:
            session.commit()
        except IntegrityError:
            return False
    return True


def themes_for(scope: str, texts: Sequence[str], languages: Sequence[str], sentiments: Sequence[str | None], *, retry: bool = True) -> list[str]:
    """The theme of each review of `scope`: the stored themes first; reviews far from all of them
    (all of them, the first time) are clustered into new themes, which are stored. When another
    process stored themes for the scope meanwhile, the reviews meet those instead."""
    vectors = encoder().encode(list(texts))
    keys = group_keys(languages, sentiments)
    offsets, known = stored_themes(scope)
    new_scope = offsets is None
    if new_scope:
        offsets = centring(_space().flat(vectors), keys)
    points = centred(vectors, keys, offsets)
    found = closest(points, known)
    far = [i for i, name in enumerate(found) if not name]
    fresh: list[Theme] = []
    if len(far) >= MIN_REVIEWS:
        sample = far if len(far) <= SAMPLE else sorted(np.random.default_rng(0).choice(far, SAMPLE, replace=False))
        pick = lambda values: [values[i] for i in sample]  # noqa: E731
        fresh = discover(pick(texts), pick(languages), vectors[sample], points[sample], start=len(known) + 1)
        taken = {t.name for t in known}
        fresh = [t for t in fresh if t.name not in taken]  # a fixed name found again: the stored theme keeps it
        for i, name in zip(far, closest(points[far], fresh)):
            found[i] = name
    if (new_scope or fresh) and not save_themes(scope, offsets if new_scope else None, fresh) and retry:
        return themes_for(scope, texts, languages, sentiments, retry=False)
    return found
