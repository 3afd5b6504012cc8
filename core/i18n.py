"""The languages Mercury speaks: GNU gettext catalogs under locales/ (managed with Babel:
`pybabel extract / update`, compiled by `python -m core setup`), and Babel's locale data for
numbers, percentages and dates.

Core never decides the reader's language. A sentence a person reads leaves core as a `Msg`: its
English text with named placeholders (the catalog's msgid) and the values to put in them; str() of
a Msg is English, `render(language)` the reader's language with the values formatted for its locale.
Errors carry one too (core.errors), so a page in Polish shows a Polish error.
"""
from __future__ import annotations

import gettext
import json
import os
from datetime import date, datetime
from functools import lru_cache
from numbers import Number
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "mercury"
# Interface languages: code -> the language's own name, as the picker shows it.
LANGUAGES = {"en": "English", "ro": "Română", "pl": "Polski", "zh": "中文（简体）"}
DEFAULT_LANGUAGE = "en"
# Babel's and gettext's name for each interface language.
BABEL_LOCALES = {"en": "en", "ro": "ro", "pl": "pl", "zh": "zh_Hans"}


def N_(text: str) -> str:  # noqa: N802 - gettext's own name for "mark for translation, translate later"
    """Mark a constant for the catalogs; it is translated where it is shown."""
    return text


def language_code(value: str | None) -> str | None:
    """One of LANGUAGES for a locale tag ("pl-PL", "zh_CN", "ro"), or None when it is none of them."""
    if not value:
        return None
    base = value.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def default_language() -> str:
    """MERCURY_LANGUAGE when it names an interface language, else English."""
    return language_code(os.environ.get("MERCURY_LANGUAGE")) or DEFAULT_LANGUAGE


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every .po under locale_dir to its .mo when the .mo is missing or older; return those written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        with mo.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(mo)
    return written


@lru_cache(maxsize=8)
def translations(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    compile_catalogs()  # a checkout that has not run the set-up yet still speaks
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[BABEL_LOCALES.get(language, language)], fallback=True)


def gettext_for(language: str, text: str) -> str:
    return translations(language).gettext(text) if text else text


def format_number(value: Number, language: str, digits: int | None = None) -> str:
    from babel.numbers import format_decimal

    locale = BABEL_LOCALES.get(language, "en")
    if digits is not None:
        return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=locale)
    return format_decimal(value, locale=locale)


def format_percent(share: float, language: str, digits: int = 0) -> str:
    """A share (0.42) as a percentage in the locale: 42%, 42 %, 42%."""
    from babel.numbers import format_percent as babel_percent

    return babel_percent(share, format=f"#,##0{'.' + '0' * digits if digits else ''}%", locale=BABEL_LOCALES.get(language, "en"))


def format_date(value: date | datetime, language: str, form: str = "long") -> str:
    """2 December 2026, 2 decembrie 2026, 2 grudnia 2026, 2026年12月2日."""
    from babel.dates import format_date as babel_date

    return babel_date(value, format=form, locale=BABEL_LOCALES.get(language, "en"))


def format_month(value: date | datetime, language: str, skeleton: str = "yMMM") -> str:
    """A trend's label from a CLDR skeleton: Dec 2026, dec. 2026, gru 2026, 2026年12月 (yMMM)."""
    from babel.dates import format_skeleton

    return format_skeleton(skeleton, value, locale=BABEL_LOCALES.get(language, "en"))


def language_name(code: str, language: str) -> str:
    """A detected language's name in the reader's language ("indonezyjski" for id in Polish)."""
    from babel import Locale

    if code == "und":
        return gettext_for(language, N_("unknown language"))
    names = Locale.parse(BABEL_LOCALES.get(language, "en")).languages
    return names.get(code) or code


class Msg:
    """A sentence for a person, not yet in anyone's language: msgid plus named values."""

    __slots__ = ("text", "values")

    def __init__(self, text: str, /, **values):  # positional-only: a value may be named "text"
        self.text, self.values = text, values

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        template = gettext_for(language, self.text)
        values = {key: _value(value, language) for key, value in self.values.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):  # a catalog entry that lost a placeholder: English rather than nothing
            return self.text.format(**values)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __repr__(self) -> str:
        return f"Msg({self.text!r}, **{self.values!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Msg) and (self.text, self.values) == (other.text, other.values)

    def __hash__(self) -> int:
        return hash(self.text)


class LanguageCounts:
    """A Msg value: "Portuguese (12), Malay (3)", each language named in the reader's language."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts

    def render(self, language: str) -> str:
        return ", ".join(f"{language_name(code, language)} ({format_number(n, language, 0)})" for code, n in self.counts.items())

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)


class LanguageName:
    """A Msg value: a language named in the reader's language ("indonezyjski" for id in Polish)."""

    def __init__(self, code: str):
        self.code = code

    def render(self, language: str) -> str:
        return language_name(self.code, language)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)


class Signed:
    """A Msg value shown with its sign, in the locale's digits: +12,5 or -3."""

    def __init__(self, value: float):
        self.value = value

    def render(self, language: str) -> str:
        return ("+" if self.value >= 0 else "-") + format_number(abs(self.value), language)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)


class Clause:
    """A Msg value: another sentence (an error, a Msg, text) set inside this one, without its full stop."""

    def __init__(self, sentence):
        self.sentence = sentence

    def render(self, language: str) -> str:
        return render(self.sentence, language).rstrip(".。")

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)


class Capital(Clause):
    """A Msg value: a clause that opens its sentence, so it starts with a capital letter."""

    def render(self, language: str) -> str:
        text = render(self.sentence, language)
        return text[:1].upper() + text[1:]


class Joined:
    """A Msg value: several clauses in a row, "a; b" (Chinese "a；b")."""

    def __init__(self, items):
        self.items = list(items)

    def render(self, language: str) -> str:
        return ("；" if language == "zh" else "; ").join(render(item, language) for item in self.items)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __bool__(self) -> bool:
        return bool(self.items)


def plain(value):
    """A sentence as JSON values: a Msg is {"msg", "values"}, Joined a list; others their English text."""
    if isinstance(value, Exception) and isinstance(getattr(value, "msg", None), Msg):
        value = value.msg
    if isinstance(value, Msg):
        return {"msg": value.text, "values": {key: plain(v) for key, v in value.values.items()}}
    if isinstance(value, Joined):
        return [plain(item) for item in value.items]
    if isinstance(value, Clause):
        return {"clause": plain(value.sentence), "capital": isinstance(value, Capital)}
    if isinstance(value, LanguageName):
        return {"language": value.code}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def stored(value) -> str:
    """A sentence for a text column: a Msg or Joined as JSON (see revive), plain text as it is."""
    return json.dumps(plain(value), ensure_ascii=False) if isinstance(value, (Msg, Joined)) else str(value)


def revive(value):
    """A stored sentence back as a Msg or Joined (from `stored`, or `plain`'s JSON values); other text as it is."""
    if isinstance(value, str) and value.startswith(('{"msg": ', '[{"msg": ')):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict) and "msg" in value:
        return Msg(value["msg"], **{key: revive(v) for key, v in (value.get("values") or {}).items()})
    if isinstance(value, dict) and "language" in value:
        return LanguageName(value["language"])
    if isinstance(value, dict) and "clause" in value:
        return (Capital if value.get("capital") else Clause)(revive(value["clause"]))
    if isinstance(value, list):
        return Joined(revive(item) for item in value)
    return value


def rendered(value, language: str = DEFAULT_LANGUAGE):
    """A structure for JSON output with every sentence in it (Msg, Joined, stored) rendered in `language`."""
    if isinstance(value, dict) and not ("msg" in value and "values" in value):
        return {key: rendered(v, language) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rendered(v, language) for v in value]
    if isinstance(value, (Msg, Joined, LanguageName, Clause, dict)) or isinstance(value, str) and revive(value) is not value:
        return render(value, language)
    return value


def _value(value, language: str):
    if isinstance(value, Exception):
        return render(value, language)
    if isinstance(value, (Msg, LanguageCounts, LanguageName, Signed, Clause, Joined)):  # Capital is a Clause
        return value.render(language)
    if isinstance(value, bool) or not isinstance(value, Number):
        return value
    if isinstance(value, int):
        return format_number(value, language, 0)
    return format_number(value, language)


def render(text, language: str = DEFAULT_LANGUAGE) -> str:
    """Any sentence core hands out (a Msg, an error carrying one, a stored one, or plain text) in `language`."""
    message = getattr(text, "msg", None) if isinstance(text, Exception) else revive(text)
    if isinstance(message, (Msg, Joined)):
        return message.render(language)
    return gettext_for(language, str(text))
