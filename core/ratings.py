"""Star ratings in the forms real exports write them: numbers ("4", "4,5", "8" of 10, "85" of 100),
fractions ("4/5", "8/10", "4 out of 5", "4 din 5", "4 z 5"), stars ("★★★★☆", "⭐⭐⭐"), "5 stars",
"4星", "五星", and the word scales of the big review sites (Douban's 力荐/推荐/还行/较差/很差,
TripAdvisor's in English, Romanian and Polish).

A cell that carries its own scale (a fraction, stars, a word) reads on a 1-5 scale; a bare number is
returned as it is, and its column's scale is read from all its values (core.models.sentiment)."""
from __future__ import annotations

import math
import re
import unicodedata

# Word scales, 5 (best) to 1, lower case and without accents (see _plain).
RATING_WORDS: dict[str, float] = {
    # Douban (豆瓣) short comments
    "力荐": 5, "推荐": 4, "还行": 3, "较差": 2, "很差": 1,
    # TripAdvisor and most hotel and shop sites, English
    "excellent": 5, "very good": 4, "good": 4, "average": 3, "ok": 3, "okay": 3, "poor": 2, "bad": 2, "terrible": 1, "awful": 1, "very poor": 1,
    # Romanian
    "excelent": 5, "foarte bine": 4, "foarte bun": 4, "bun": 4, "bine": 4, "mediu": 3, "acceptabil": 3, "slab": 2, "groaznic": 1, "foarte slab": 1,
    # Polish
    "doskonaly": 5, "znakomity": 5, "bardzo dobry": 4, "dobry": 4, "przecietny": 3, "sredni": 3, "kiepski": 2, "slaby": 2, "okropny": 1, "fatalny": 1,
}
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_FILLED, _EMPTY = "★⭐✭✮✯🌟", "☆✩"
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_FRACTION = re.compile(rf"^{_NUMBER}\s*(?:/|out of|of|din|z|na)\s*(\d+)$")
_WITH_UNIT = re.compile(rf"^{_NUMBER}\s*(?:stars?|stele|stea|gwiazd(?:ki|ka|ek)?|pkt|points?|星|分|颗星)$")
_CHINESE_STARS = re.compile(r"^([一二两三四五六七八九十])\s*(?:星|颗星|分)$")


def _plain(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text.strip().lower()) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.replace("ł", "l").replace("ș", "s").replace("ț", "t"))


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def rating_value(cell) -> float | None:
    """The rating a cell holds, or None when it holds none."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    text = str(cell).strip()
    if not text:
        return None
    stars = sum(text.count(c) for c in _FILLED)
    if stars and not text.strip(_FILLED + _EMPTY + " \u200d\ufe0f"):  # a cell of stars alone
        empty = sum(text.count(c) for c in _EMPTY)
        return 5 * stars / (stars + empty) if empty else float(min(stars, 5))
    plain = _plain(text)
    if plain in RATING_WORDS:
        return float(RATING_WORDS[plain])
    fraction = _FRACTION.match(plain)
    if fraction:
        value, scale = _number(fraction.group(1)), _number(fraction.group(2))
        return round(5 * value / scale, 2) if value is not None and scale and 0 <= value <= scale else None
    unit = _WITH_UNIT.match(plain)
    if unit:
        return _number(unit.group(1))
    chinese = _CHINESE_STARS.match(plain)
    if chinese:
        return float(_CHINESE_DIGITS[chinese.group(1)])
    return _number(plain) if re.fullmatch(_NUMBER, plain) else None


def rating_scale(values) -> int:
    """The top of a column's scale from its values: 5, 10 or 100."""
    if hasattr(values, "max"):  # a numeric column: its NaN skipped, in one pass
        top = values.max()
        top = 0 if top is None or top != top else top
    else:
        top = max((v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))), default=0)
    return 100 if top > 10 else 10 if top > 5 else 5
