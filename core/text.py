"""Text preprocessing for analysis: normalise, tokenise (NLTK), drop stop words, lemmatise, find keywords.

NLTK's downloadable corpora are not installed here, so the parts used are data-free: NLTK's
TweetTokenizer, lemmas from simplemma (54 languages, data inside the package), stop words from
scikit-learn (English) and `stop-words` (other languages).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from nltk.tokenize import TweetTokenizer

URL = re.compile(r"https?://\S+|www\.\S+")
EMAIL = re.compile(r"\S+@\S+\.\S+")
HTML_TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"^[^\W\d_][\w'-]*$")
# Kept out of the stop words: "not good" and "never again" carry the sentiment.
NEGATIONS = {"not", "no", "never", "nor", "nothing", "nobody", "none", "cannot", "without", "neither", "nowhere", "pas", "nicht", "kein", "nie", "nunca", "non", "niet", "ne"}
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch", "pt": "Portuguese"}
LANG_CODES = {"en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian", "nl": "dutch", "pt": "portuguese", "sv": "swedish", "da": "danish", "fi": "finnish", "no": "norwegian", "ro": "romanian", "ru": "russian", "hu": "hungarian"}

_tokenizer = TweetTokenizer(preserve_case=False, reduce_len=True, strip_handles=True)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    text = HTML_TAG.sub(" ", URL.sub(" ", EMAIL.sub(" ", text)))
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=32)
def stop_words(language: str = "en") -> frozenset[str]:
    if language == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        words = set(ENGLISH_STOP_WORDS) | {"i'm", "it's", "don't", "didn't", "doesn't", "i've", "can't", "won't", "isn't", "wasn't", "just", "really", "got", "get", "im", "ive", "also"}
    else:
        from stop_words import get_stop_words

        try:
            words = set(get_stop_words(LANG_CODES.get(language, language)))
        except Exception:  # stop_words raises its own error for a language it lacks
            words = set()
    return frozenset(words - NEGATIONS)


@lru_cache(maxsize=200_000)
def _lemma(token: str, language: str) -> str:
    import simplemma

    try:
        return simplemma.lemmatize(token, lang=language)
    except ValueError:  # a language simplemma does not know: keep the word
        return token


def tokens(text: str, language: str = "en") -> list[str]:
    """Lower-case lemmas of the words in a text, stop words removed, negations kept."""
    return list(_tokens(text, language))


@lru_cache(maxsize=300_000)
def _tokens(text: str, language: str) -> tuple[str, ...]:
    # Cached: the dashboard's themes and drivers and the reports all read the same reviews.
    stops = stop_words(language)
    out = []
    for token in _tokenizer.tokenize(normalise(text)):
        token = token.strip("'-")
        if len(token) < 2 or not WORD.match(token) or token in stops:
            continue
        lemma = _lemma(token, language).lower()
        if lemma not in stops:
            out.append(lemma)
    return tuple(out)


def detect_language(texts: Sequence[str]) -> str:
    """The dominant language of a sample of texts (ISO 639-1), English when unsure."""
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    votes: Counter = Counter()
    for text in list(texts)[:50]:
        try:
            votes[detect(text)] += 1
        except LangDetectException:
            continue
    return votes.most_common(1)[0][0] if votes else "en"


def terms(text: str, language: str = "en") -> list[str]:
    """Unigrams and bigrams of a text's lemmas."""
    words = tokens(text, language)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


# Pseudo-counts of the prior, spread over the vocabulary by overall frequency; and the weakest lean shown.
# Review sets are often small, so the list ranks terms and keeps those leaning at least one standard error.
PRIOR_STRENGTH = 100
MIN_Z = 1.0


def keywords_by_group(texts: Iterable[str], groups: Iterable[str], first: str, second: str, *, language: str = "en", top: int = 15, min_count: int = 3) -> dict[str, list[dict]]:
    """Terms that most distinguish `first` texts from `second` ones (and back).

    Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008): the
    z-score says how surely a term leans one way, so rare words do not win on chance.
    """
    counts = {first: Counter(), second: Counter()}
    for text, group in zip(texts, groups):
        if group in counts:
            counts[group].update(set(terms(text, language)))
    prior = counts[first] + counts[second]
    prior_total = sum(prior.values()) or 1
    totals = {g: sum(c.values()) or 1 for g, c in counts.items()}
    scored = []
    for term, both in prior.items():
        if both < min_count:
            continue
        alpha0 = PRIOR_STRENGTH
        alpha = prior[term] / prior_total * alpha0
        a, b = counts[first][term], counts[second][term]
        delta = math.log((a + alpha) / (totals[first] + alpha0 - a - alpha)) - math.log((b + alpha) / (totals[second] + alpha0 - b - alpha))
        variance = 1 / (a + alpha) + 1 / (b + alpha)
        scored.append({"term": term, "z": delta / math.sqrt(variance), first: a, second: b})
    scored.sort(key=lambda row: row["z"], reverse=True)
    return {
        first: [row for row in scored[:top] if row["z"] > MIN_Z],
        second: [row for row in reversed(scored[-top:]) if row["z"] < -MIN_Z],
    }


# Aspects marketers ask about, by the lemmas that signal them (English and the commonest European words).
THEMES: dict[str, set[str]] = {
    "price": {"price", "cost", "expensive", "cheap", "money", "value", "overpriced", "afford", "affordable", "refund", "worth", "pay", "prix", "preis", "precio", "cher", "teuer", "caro"},
    "delivery": {"delivery", "deliver", "shipping", "ship", "arrive", "late", "package", "parcel", "courier", "dispatch", "livraison", "lieferung", "envío", "entrega", "colis", "paket"},
    "quality": {"quality", "broke", "break", "broken", "cheaply", "durable", "sturdy", "flimsy", "defective", "fall", "fell", "last", "material", "build", "qualité", "qualität", "calidad"},
    "support": {"support", "service", "customer", "staff", "help", "helpful", "rude", "response", "respond", "representative", "agent", "call", "email", "contact", "kundenservice", "atención"},
    "usability": {"easy", "difficult", "use", "setup", "install", "instructions", "intuitive", "comfortable", "fit", "button", "interface", "app"},
    "battery": {"battery", "charge", "charger", "charging", "power", "drain", "batterie", "akku", "batería"},
    "sound": {"sound", "audio", "volume", "noise", "hear", "speaker", "headset", "microphone", "mic", "loud", "quiet"},
}


def themes_of(text: str, language: str = "en") -> list[str]:
    words = set(tokens(text, language))
    return [theme for theme, vocabulary in THEMES.items() if words & vocabulary]
