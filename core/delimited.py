"""Delimited text read line by line so every line is accounted for: a record, a blank line, or a
line skipped with its number and why (a ragged row, an unclosed quote). A quote that never closes
does not swallow the lines after it, and a first row that reads as data is not taken for names."""
from __future__ import annotations

import csv
import io
import re
from typing import Iterator, Protocol

from core.i18n import N_

MAX_LINE_CHARS = 1_000_000  # also the longest cell of a workbook
csv.field_size_limit(MAX_LINE_CHARS)  # a review may be long; core.ingest's line limit is what bounds it


class Skips(Protocol):
    def skip(self, reason: str, count: int = 1, *, line: int | None = None) -> None: ...


RAGGED = N_("ragged row (more fields than the header)")
UNCLOSED = N_("unclosed quote (the line was skipped; the lines after it were read)")
# A quoted field may hold newlines; one that runs on past this many lines is an unclosed quote, not a review.
MAX_LINES_IN_A_FIELD = 200


def unique_names(header: list[str]) -> list[str]:
    """Header names as pandas makes them: a repeated name gets .1, .2 ..."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        name = name.strip()
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(f"{name}.{count}" if count else name)
    return names


def records(text: str, delimiter: str, table: Skips) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every record of a delimited text, every line accounted for.

    The csv module reads a quoted field across lines. A quote that never closes would swallow every
    line after it; so when a record that spans lines has the wrong number of fields, or the file ends
    inside it, its first line is skipped as an unclosed quote and reading starts again on the next."""
    lines = io.StringIO(text, newline="").readlines()
    position, width = 0, None

    def feed() -> Iterator[str]:
        nonlocal position
        while position < len(lines):
            position += 1
            yield lines[position - 1]

    while position < len(lines):
        reader = csv.reader(feed(), delimiter=delimiter, strict=True)
        while True:
            start, lenient = position, False
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                lenient = position - start == 1 and "end of data" not in str(error)
                # A stray quote inside one line ('5" screen') is read leniently; a file that ends inside a quoted field is not.
                fields = _lenient(lines[start], delimiter) if lenient else None
            spanned = position - start
            if fields is None or (spanned > 1 and ((width is not None and len(fields) != width) or spanned > MAX_LINES_IN_A_FIELD)):
                table.skip(UNCLOSED, line=start + 1)
                position = start + 1
                break  # a fresh reader from the line after the quote
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line is no record
            if width is None:
                width = len(fields)
            yield start + 1, fields
            if lenient:
                break  # a reader that raised starts afresh


_DATE_CELL = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?\S*)?$")
_NUMBER_CELL = re.compile(r"^[-+]?\d+(?:[.,]\d+)?$")
_CJK_CELL = re.compile(r"[\u3400-\u9fff]")


def reads_as_data(cells: list[str]) -> bool:
    """Whether a file's first row is a record, not column names: a number, a date or a long sentence
    where names would be (a scrape saved without its header)."""
    filled = [c.strip() for c in cells if c.strip()]
    for cell in filled:
        if _NUMBER_CELL.match(cell) or _DATE_CELL.match(cell):
            return True
        words = len(cell.split())
        if words >= 8 or (_CJK_CELL.search(cell) and len(cell) >= 16):
            return True
    return False


def position_names(width: int) -> list[str]:
    """The names of a headerless file's columns: by position, as a person counts them."""
    return [f"column {i}" for i in range(1, width + 1)]


def _lenient(line: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return None
