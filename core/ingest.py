"""Reading the files users upload: encodings, delimiters, ragged rows and column roles, with clear refusals."""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd

from core.columns import name_score
from core.delimited import MAX_LINE_CHARS, RAGGED, position_names, reads_as_data, records, unique_names
from core.errors import IngestError, LimitError
from core.i18n import N_, Msg, format_number, gettext_for

# What one file may expand to, checked before it is parsed: a file that is small on the wire must
# not take a shared server down (an inflating .xlsx, a million columns, JSON nested past the stack).
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # an .xlsx's parts once decompressed, all together
MAX_ROWS = 1_000_000
MAX_COLUMNS = 1_000
MAX_JSON_DEPTH = 64
SNIFF_BYTES = 64 * 1024
MAX_LINES_NAMED = 100  # line numbers kept per skip reason



def _mb(limit: int) -> str:
    return f"{limit // (1024 * 1024):,} MB"


def _too_big(name: str, size: int, limit: int) -> IngestError:
    return IngestError(Msg("{name} is {value} MB, over the {mb} limit: split it into smaller files.", name=name, value=round(size / 1000000.0), mb=_mb(limit)))


def read_input(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file no larger than `limit` (the upload limit by default): never a folder,
    a device or a pipe that never ends."""
    path, limit = Path(path), limit or MAX_UPLOAD_BYTES
    try:
        info = path.stat()
    except OSError as error:
        raise IngestError(Msg("Cannot read {path}: {value}.", path=path, value=error.strerror or error)) from error
    if stat.S_ISDIR(info.st_mode):
        raise IngestError(Msg("{path} is a folder: give a file inside it.", path=path))
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(Msg("{path} is not a regular file (a device or a pipe): save the data to a file first.", path=path))
    if info.st_size > limit:
        raise _too_big(path.name, info.st_size, limit)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # a file that grew after stat() is still bounded
    except OSError as error:
        raise IngestError(Msg("Cannot read {path}: {value}.", path=path, value=error.strerror or error)) from error
    if len(raw) > limit:
        raise IngestError(Msg("{name} is over the {mb} limit: split it into smaller files.", name=path.name, mb=_mb(limit)))
    return raw


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_depth(text: str, name: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before a parser recurses into it."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # the usual case, decided at C speed
        return
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group()
        if mark in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise LimitError(
                    Msg("{name} nests JSON deeper than {max_json_depth} levels, more than Mercury reads.", name=name, max_json_depth=MAX_JSON_DEPTH)
                )
        elif mark in ("]", "}"):
            depth -= 1


def loads_json(text: str, name: str):
    """json.loads with the depth checked first and one sentence for anything it cannot read."""
    check_json_depth(text, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise IngestError(Msg("{name} is not valid JSON ({msg} at line {lineno}).", name=name, msg=error.msg, lineno=error.lineno)) from error
    except RecursionError as error:  # a nesting the pre-check could not see
        raise LimitError(Msg("{name} nests JSON deeper than Mercury reads.", name=name)) from error


def read_json_file(path: str | Path, limit: int = 10 * 1024 * 1024):
    """A small JSON file (a config, a brand profile) read safely: size, encoding and depth checked."""
    raw = read_input(path, limit)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError(Msg("{name} is not UTF-8 text: save it as UTF-8 JSON.", name=Path(path).name)) from error
    if "\x00" in text:
        raise IngestError(Msg("{name} is a binary file, not JSON text.", name=Path(path).name))
    return loads_json(text, Path(path).name)


def check_text_shape(text: str, name: str, delimiter: str | None = None) -> None:
    """Rows, columns and line length of a text table, checked before a parser allocates for them."""
    lines = text.count("\n") + 1
    if lines > MAX_ROWS + 1:
        raise LimitError(
            Msg("{name} has {lines} lines, over the limit of {max_rows} rows: split it into smaller files.", name=name, lines=lines, max_rows=MAX_ROWS)
        )
    longest = max((len(line) for line in io.StringIO(text)), default=0)
    if longest > MAX_LINE_CHARS:
        raise LimitError(
            Msg("{name} has a line of {longest} characters, over the limit of {max_line_chars}.", name=name, longest=longest, max_line_chars=MAX_LINE_CHARS)
        )
    if delimiter:
        header = text[: text.find("\n")] if "\n" in text else text
        columns = header.count(delimiter) + 1
        if columns > MAX_COLUMNS:
            raise LimitError(Msg("{name} has {columns} columns, over the limit of {max_columns}.", name=name, columns=columns, max_columns=MAX_COLUMNS))


_ROW_INDEX = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d{7,})\"")
_WIDE_CELL = re.compile(rb"\br=\"([A-Z]{3})\d+\"")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_xlsx_shape(raw: bytes, name: str) -> None:
    """Decompress the workbook's parts in chunks, counting, and stop at the first limit crossed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as error:
        raise IngestError(Msg("{name} is not a readable Excel workbook (a damaged zip).", name=name)) from error
    too_big = LimitError(Msg("{name} unpacks to more than {mb}, over the limit: save a smaller workbook or a CSV.", name=name, mb=_mb(MAX_UNPACKED_BYTES)))
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise too_big
    unpacked = 0
    for member in members:
        sheet = member.filename.startswith("xl/worksheets/")
        rows, tail = 0, b""
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(1024 * 1024):
                    unpacked += len(chunk)  # the sizes in the header can lie: count what comes out
                    if unpacked > MAX_UNPACKED_BYTES:
                        raise too_big
                    if len(chunk) == 1024 * 1024 and b"<" not in chunk:
                        raise LimitError(
                            Msg("{name} holds a cell longer than {max_line_chars} characters, over the limit.", name=name, max_line_chars=MAX_LINE_CHARS)
                        )
                    if sheet:
                        window = tail + chunk
                        rows += window.count(b"<row") - window.count(b"<rowBreaks") - tail.count(b"<row")
                        last = max((int(m) for m in _ROW_INDEX.findall(window)), default=0)
                        wide = max((_column_number(m) for m in _WIDE_CELL.findall(window)), default=0)
                        if max(rows, last) > MAX_ROWS + 1:
                            raise LimitError(
                                Msg(
                                    "{name} has more than {max_rows} rows in a sheet, over the limit: split it into smaller files.",
                                    name=name,
                                    max_rows=MAX_ROWS,
                                )
                            )
                        if wide > MAX_COLUMNS:
                            raise LimitError(
                                Msg("{name} has {wide} columns in a sheet, over the limit of {max_columns}.", name=name, wide=wide, max_columns=MAX_COLUMNS)
                            )
                        tail = chunk[-24:]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
            raise IngestError(Msg("{name} is not a readable Excel workbook (a damaged part).", name=name)) from error


@dataclass
class Table:
    frame: pd.DataFrame
    source: str
    encoding: str = ""
    delimiter: str = ""
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    skip_lines: dict[str, list[int]] = field(default_factory=dict)  # the first line numbers skipped, per reason
    headerless: bool = False  # the first row read as data: columns are named by position and the row kept
    mended: int = 0  # rows whose last column, the review text, ran past the delimiter unquoted and was joined back

    def skip(self, reason: str, count: int = 1, *, line: int | None = None) -> None:
        if count:
            self.skipped += count
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + count
        if line is not None and len(self.skip_lines.setdefault(reason, [])) < MAX_LINES_NAMED:
            self.skip_lines[reason].append(line)

    def header_note(self) -> Msg | None:
        """One sentence when the file has no header row."""
        if not self.headerless:
            return None
        return Msg(
            "The first row of {source} reads as data, not as column names, so it is kept as a review and the columns are named by position (column 1 "
            "to column {last}).",
            source=self.source,
            last=self.frame.shape[1],
        )

    def mended_note(self) -> Msg | None:
        if not self.mended:
            return None
        return Msg(
            "{count} rows of {source} hold the delimiter unquoted in their last column, the review text: each was kept whole.",
            count=self.mended,
            source=self.source,
        )

    def skip_summary(self, language: str = "en") -> str:
        """`1 ragged row (more fields than the header) at line 3; 1 unclosed quote ... at line 5`, in `language`."""

        def where(reason: str) -> str:
            lines = self.skip_lines.get(reason, [])
            shown = ", ".join(map(str, lines[:5])) + (" ..." if self.skip_reasons[reason] > 5 else "")
            return " " + Msg(N_("at line {lines}") if len(lines) == 1 else N_("at lines {lines}"), lines=shown).render(language) if lines else ""

        return "; ".join(f"{format_number(count, language, 0)} {gettext_for(language, reason)}{where(reason)}" for reason, count in self.skip_reasons.items())


def decode(raw: bytes, name: str) -> tuple[str, str]:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace"), encoding
    sample = raw[:SNIFF_BYTES]
    # UTF-16 without a byte-order mark: every other byte of ASCII text is zero.
    if len(sample) >= 4 and sample[1::2].count(0) > 0.4 * len(sample[1::2]):
        return raw.decode("utf-16-le", errors="replace"), "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > 0.4 * len(sample[0::2]):
        return raw.decode("utf-16-be", errors="replace"), "utf-16-be"
    if b"\x00" in sample:
        raise IngestError(Msg("{name} looks like a binary file, not a table of text: export it as CSV, TSV, Excel or JSON lines.", name=name))
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw[: 4 * SNIFF_BYTES]))
    least_chaos = min((m.chaos for m in matches), default=0.0)
    tied = [m.encoding for m in matches if m.chaos == least_chaos]
    # Between equally plausible code pages, Windows-1252 is what spreadsheets in most markets export.
    encoding = "cp1252" if "cp1252" in tied or not tied or tied[0] in ("ascii", "utf_8") else tied[0]
    return raw.decode(encoding, errors="replace"), encoding


def _sniff_delimiter(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    sample = "\n".join(text[:SNIFF_BYTES].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_delimited(raw: bytes, name: str, suffix: str) -> Table:
    text, encoding = decode(raw, name)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise IngestError(Msg("{name} is empty.", name=name))
    delimiter = _sniff_delimiter(text, suffix)
    check_text_shape(text, name, delimiter)
    table = Table(frame=pd.DataFrame(), source=name, encoding=encoding, delimiter=delimiter)
    lines = records(text, delimiter, table)
    first = next(lines, None)
    if first is None:
        raise IngestError(Msg("{name} is empty.", name=name))
    header = unique_names(first[1])
    width = len(header)
    rows = []
    if reads_as_data(first[1]):
        header = position_names(width)
        rows.append(first[1])
        table.headerless = True
    # A review in the last column, written without quotes, runs on past its commas: join it back.
    text_last = name_score(header[-1], "text") >= 3
    for line, fields in lines:
        if len(fields) > width:
            if text_last:
                fields = fields[: width - 1] + [delimiter.join(fields[width - 1 :]).rstrip(delimiter)]
                table.mended += 1
            elif any(f.strip() for f in fields[width:]):
                table.skip(RAGGED, line=line)
                continue
            else:
                fields = fields[:width]  # trailing empty fields, as spreadsheets write them
        elif len(fields) < width:
            fields = fields + [""] * (width - len(fields))  # missing trailing fields are empty cells
        rows.append(fields)
    table.frame = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(columns=header, dtype=str)
    return table


def _read_jsonl(raw: bytes, name: str) -> Table:
    text, encoding = decode(raw, name)
    records, table = [], Table(frame=pd.DataFrame(), source=name, encoding=encoding, delimiter="jsonl")
    text = text.lstrip("\ufeff")
    check_text_shape(text, name)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise IngestError(Msg("{name} is empty.", name=name))
    keys: set[str] = set()
    for line in lines:
        try:
            value = loads_json(line, name)
        except LimitError:
            raise
        except IngestError:
            table.skip(N_("line is not valid JSON"))
            continue
        if isinstance(value, dict):
            keys.update(value)
            if len(keys) > MAX_COLUMNS:
                raise LimitError(
                    Msg("{name} has more than {max_columns} different keys, over the limit of {max_columns} columns.", name=name, max_columns=MAX_COLUMNS)
                )
            records.append({k: ("" if v is None else str(v)) for k, v in value.items()})
        else:
            table.skip(N_("line is not a JSON object"))
    if not records:
        raise IngestError(Msg("{name} holds no JSON objects, one per line.", name=name))
    table.frame = pd.DataFrame.from_records(records).fillna("")
    return table


def _read_xlsx(raw: bytes, name: str) -> Table:
    check_xlsx_shape(raw, name)
    try:
        frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False, engine="openpyxl", header=None)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise IngestError(Msg("{name} is not a readable Excel workbook ({kind}).", name=name, kind=type(error).__name__)) from error
    table = Table(frame=frame, source=name, encoding="xlsx", delimiter="")
    if frame.empty:
        return table
    first = ["" if pd.isna(v) else str(v) for v in frame.iloc[0]]
    if reads_as_data(first):
        frame.columns, table.headerless = position_names(frame.shape[1]), True
    else:
        table.frame = frame.iloc[1:].reset_index(drop=True).set_axis(unique_names(first), axis=1)
    return table


def read_table(data: bytes | str | Path, name: str | None = None) -> Table:
    """Read CSV, TSV, Excel or JSON lines from a path or bytes; raise IngestError with one sentence."""
    if isinstance(data, (str, Path)):
        name = name or Path(data).name
        raw = read_input(data)
    else:
        raw = data
        name = name or "upload"
        if len(raw) > MAX_UPLOAD_BYTES:
            raise _too_big(name, len(raw), MAX_UPLOAD_BYTES)
    if not raw.strip():
        raise IngestError(Msg("{name} is empty.", name=name))
    suffix = Path(name).suffix.lower()
    is_zip = raw[:4] == b"PK\x03\x04"
    if suffix in (".xlsx", ".xlsm") or (is_zip and suffix not in (".csv", ".tsv", ".txt", ".jsonl", ".json")):
        table = _read_xlsx(raw, name)
    elif is_zip:
        raise IngestError(Msg("{name} is a zip archive (or an Excel file) renamed {suffix}: unzip it, or upload it as .xlsx.", name=name, suffix=suffix))
    elif suffix in (".jsonl", ".json", ".ndjson"):
        table = _read_jsonl(raw, name)
    else:
        table = _read_delimited(raw, name, suffix)
    table.frame.columns = [str(c).strip() or f"column_{i + 1}" for i, c in enumerate(table.frame.columns)]
    table.frame = table.frame.astype(object).where(table.frame.notna(), "")  # an empty cell is "", never NaN
    if table.frame.empty:
        raise IngestError(Msg("{name} has a header but no rows.", name=name))
    return table


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def find_column(frame: pd.DataFrame, names: Iterable[str]) -> str | None:
    """The first column whose normalised header is one of `names` (tried in order)."""
    normal = {_normal(str(c)): c for c in frame.columns}
    return next((normal[n] for n in map(_normal, names) if n in normal), None)


def combine(tables: list[Table]) -> Table:
    """Several uploads as one table: columns are united, each row remembers its file."""
    if len(tables) == 1:
        return tables[0]
    frames = [t.frame.assign(source_file=t.source) for t in tables]
    merged = Table(
        frame=pd.concat(frames, ignore_index=True).fillna(""),
        source=" + ".join(t.source for t in tables),
        encoding=", ".join(sorted({t.encoding for t in tables})),
        delimiter=", ".join(sorted({repr(t.delimiter) for t in tables})),
    )
    merged.headerless = any(t.headerless for t in tables)
    for table in tables:
        for reason, count in table.skip_reasons.items():
            merged.skip(reason, count)
    return merged
