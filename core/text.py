"""Text preprocessing for analysis: detect the language, normalise, tokenise, drop stop words,
lemmatise, find keywords.

Every part ships its data in its package (NLTK's downloadable corpora are not reachable here):
the language of each text from lingua (deterministic, good on short texts), words from NLTK's
TweetTokenizer, or from jieba for Chinese, which has no spaces between words; lemmas from
simplemma (Romanian, Polish, German, French and 50 more); stop words from scikit-learn (English)
and `stop-words` (the others, Chinese included).
"""
from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from core.shared import shared

URL = re.compile(r"https?://\S+|www\.\S+")
EMAIL = re.compile(r"\S+@\S+\.\S+")
HTML_TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"^[^\W\d_][\w'-]*$")
# Kept out of the stop words: "not good" and "never again" carry the sentiment.
NEGATIONS = {
    "not",
    "no",
    "never",
    "nor",
    "nothing",
    "nobody",
    "none",
    "cannot",
    "without",
    "neither",
    "nowhere",
    "pas",
    "nicht",
    "kein",
    "nie",
    "nunca",
    "non",
    "niet",
    "ne",
    "nu",
    "niciodată",
    "nici",
    "bez",
    "nigdy",
    "不",
    "没",
    "没有",
    "别",
}
UNKNOWN = "und"  # ISO 639-2's "undetermined": too short or too mixed to tell
# Mercury's users' markets and their neighbours: the detector's first opinion (see detect_languages).
MARKET_LANGUAGES = ("en", "ro", "pl", "zh", "de", "fr", "es", "it", "nl", "pt", "cs", "hu", "ru", "uk", "tr", "sv", "ja", "ko")


def _english_names() -> dict[str, str]:
    from babel import Locale

    names = {code: name for code, name in Locale("en").languages.items() if len(code) == 2}
    return names | {"zh": "Chinese", UNKNOWN: "unknown language"}


LANGUAGE_NAMES = _english_names()  # every ISO 639-1 code, named in English (core.i18n names them in the reader's language)
# Languages whose sentiment, intents and themes are measured (bench/sentiment.py, bench/email_replies.py).
# Mercury still reads the others through its multilingual encoder, but says it has not measured them.
READS_WELL = ("en", "ro", "pl", "zh", "de", "fr")
LANG_CODES = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pt": "portuguese",
    "sv": "swedish",
    "ro": "romanian",
    "pl": "polish",
    "ru": "russian",
    "uk": "ukrainian",
    "hu": "hungarian",
    "cs": "czech",
    "tr": "turkish",
    "zh": "chinese",
    "ja": "japanese",
    "ko": "korean",
}

def _tweet_tokenizer():
    from nltk.tokenize import TweetTokenizer  # nltk imports scipy: a second at start-up, paid when words are first needed

    return TweetTokenizer(preserve_case=False, reduce_len=True, strip_handles=True)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    text = HTML_TAG.sub(" ", URL.sub(" ", EMAIL.sub(" ", text)))
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4096)
def _unaccented_letter(letter: str) -> str:
    if letter in "łŁ":  # a letter of its own in Unicode, not l with a mark
        return "l" if letter == "ł" else "L"
    parts = unicodedata.normalize("NFD", letter)
    return parts[0] if len(parts) > 1 and all(unicodedata.combining(mark) for mark in parts[1:]) else letter


def unaccented(text: str) -> str:
    """The text with the marks taken off its letters (ă→a, ș→s, ó→o, ł→l), one character for each, so
    that a match in it is a match at the same place in the text. Customers type Romanian and Polish
    without diacritics as often as with them."""
    return "".join(_unaccented_letter(letter) for letter in text)


@lru_cache(maxsize=32)
def stop_words(language: str = "en") -> frozenset[str]:
    if language == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        words = set(ENGLISH_STOP_WORDS) | {
            "i'm",
            "it's",
            "don't",
            "didn't",
            "doesn't",
            "i've",
            "can't",
            "won't",
            "isn't",
            "wasn't",
            "just",
            "really",
            "got",
            "get",
            "im",
            "ive",
            "also",
        }
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


def _words(text: str, language: str) -> list[str]:
    if language == "zh":
        import jieba

        jieba.setLogLevel(60)  # it logs its dictionary loading on every first call
        # One character is rarely a word a marketer reads as a keyword (的, 了, 很): keep words of two or more.
        return [w.lower() for w in jieba.lcut(text) if len(w.strip()) >= 2]
    return shared("tweet-tokenizer", _tweet_tokenizer).tokenize(text)


@lru_cache(maxsize=300_000)
def _tokens(text: str, language: str) -> tuple[str, ...]:
    # Cached: the dashboard's drivers and the reports read the same reviews.
    stops = stop_words(language)
    out = []
    for token in _words(normalise(text), language):
        token = token.strip("'-")
        if len(token) < 2 or not WORD.match(token) or token in stops:
            continue
        lemma = _lemma(token, language).lower()
        if lemma not in stops:
            out.append(lemma)
    return tuple(out)


def _market_detector():
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in MARKET_LANGUAGES]
    # Low-accuracy mode reads trigrams only: 140 MB instead of 570 MB, and still right on 327 of the
    # 330 reviews of bench/data/reviews_multilingual.tsv. A text too close to call is "und".
    return LanguageDetectorBuilder.from_languages(*languages).with_minimum_relative_distance(0.1).with_low_accuracy_mode().build()


def _world_detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_minimum_relative_distance(0.1).with_low_accuracy_mode().build()


def _pair_detector(first, second):
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(first, second).build()  # high accuracy: two languages' models only


def detect_languages(texts: Sequence[str]) -> list[str]:
    """The language of each text (ISO 639-1) among every language lingua knows (75), or "und" when
    it is too short or mixed to tell.

    Trigrams over all 75 languages mistake short unaccented Romanian for Tagalog or Yoruba, and
    trigrams over the markets' 18 force Indonesian into Turkish or Romanian. So both read each text;
    where they differ, lingua's high-accuracy models of just those two languages decide."""
    cleaned = [normalise(t)[:1000] for t in texts]
    world_detector = shared("lingua-world", _world_detector)
    world = world_detector.detect_languages_in_parallel_of(cleaned)
    market = shared("lingua-markets", _market_detector).detect_languages_in_parallel_of(cleaned)
    found = []
    for text, wide, near in zip(cleaned, world, market):
        if wide is None and near is not None:  # too close to call among all: its likeliest against the markets' pick
            ranked = world_detector.compute_language_confidence_values(text)
            wide = ranked[0].language if ranked else None
        if wide is not None and near is not None and wide != near:
            wide = shared(("lingua-pair", *sorted((wide.name, near.name))), lambda: _pair_detector(wide, near)).detect_language_of(text)
        language = wide or near
        found.append(language.iso_code_639_1.name.lower() if language else UNKNOWN)
    return found


def market_languages(texts: Sequence[str]) -> list[str]:
    """The language of each text among the markets' 18 only, for text known to be in one of them (a
    brand's own facts), where the world's 75 would take a short English price list for Norwegian."""
    found = shared("lingua-markets", _market_detector).detect_languages_in_parallel_of([normalise(t)[:1000] for t in texts])
    return [language.iso_code_639_1.name.lower() if language else UNKNOWN for language in found]


def detect_language(texts: Sequence[str], default: str = "en") -> str:
    """The commonest language of a few texts; `default` when none can be told."""
    votes = Counter(code for code in detect_languages(list(texts)[:50]) if code != UNKNOWN)
    return votes.most_common(1)[0][0] if votes else default


def terms(text: str, language: str = "en") -> list[str]:
    """Unigrams and bigrams of a text's lemmas."""
    words = tokens(text, language)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


@lru_cache(maxsize=120_000)  # a 100,000-review dataset; each entry a few hundred bytes
def _term_set(text: str, language: str) -> tuple[str, ...]:
    """The distinct terms of a text, kept: every filter of the dashboard counts the same reviews' terms
    again. A tuple, not a set: the garbage collector stops tracking a tuple of strings, and 100,000 sets
    would slow every collection of the process."""
    return tuple(dict.fromkeys(terms(text, language)))


def _listed(values) -> list:
    return values.tolist() if hasattr(values, "tolist") else list(values)


# Pseudo-counts of the prior, spread over the vocabulary by overall frequency; and the weakest lean shown.
# Review sets are often small, so the list ranks terms and keeps those leaning at least one standard error.
PRIOR_STRENGTH = 100
MIN_Z = 1.0


def keywords_by_group(
    texts: Iterable[str], groups: Iterable[str], first: str, second: str, *, language: str | Iterable[str] = "en", top: int = 15, min_count: int = 3
) -> dict[str, list[dict]]:
    """Terms that most distinguish `first` texts from `second` ones (and back); `language` is one
    code for all texts or one per text, so each is cut into words by its own language's rules.

    Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008): the
    z-score says how surely a term leans one way, so rare words do not win on chance.
    """
    texts, groups = _listed(texts), _listed(groups)  # a pandas column of Arrow strings iterates slowly
    languages = itertools.repeat(language) if isinstance(language, str) else _listed(language)
    members: dict[str, list] = {first: [], second: []}
    for text, group, code in zip(texts, groups, languages):
        if group in members:
            members[group].append(_term_set(text, code))
    counts = {group: Counter(itertools.chain.from_iterable(sets)) for group, sets in members.items()}
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


def trim_to(text: str, limit: int) -> str:
    """At most `limit` characters, cut on a word boundary with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-–—") + "…"
