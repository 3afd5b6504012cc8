"""Files users download: text that a spreadsheet could run as a formula is neutralised first."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd

from core.errors import UserError
from core.i18n import Msg

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """Prefix risky text with a quote; numbers, including negative ones, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells and column headers alike: a header is a cell too once the file is opened."""
    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [neutralise_cell(str(c)) for c in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    # CRLF rows (RFC 4180): the csv module then quotes any cell holding a CR or an LF, so no cell
    # can split a row and start a new one with a formula.
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per table; text neutralised, numbers left as numbers."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = neutralise_frame(frame)
            for column in safe.columns:
                if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
                    safe[column] = safe[column].dt.tz_localize(None)  # Excel has no time zones
            safe.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def check_output_path(path: str | Path) -> Path:
    """An output file we can write, checked before any work is spent on what goes in it."""
    target = Path(path)
    if target.is_dir():
        raise UserError(Msg("{path} is a folder: give a file name to write to.", path=path))
    folder = target.parent
    if not folder.is_dir():
        raise UserError(Msg("The folder {folder} does not exist: create it first or choose another output file.", folder=folder))
    if not os.access(folder, os.W_OK):
        raise UserError(Msg("Mercury may not write into {folder}: choose another output file.", folder=folder))
    return target


def write_bytes(path: str | Path, data: bytes) -> None:
    """Replace the file in one step, so a reader never sees half of it and a failure leaves the old one."""
    target = check_output_path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; an export is an ordinary file
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise UserError(Msg("Could not write {path}: {value}.", path=path, value=error.strerror or error)) from error


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    write_bytes(path, to_xlsx_bytes({"data": frame}) if str(path).lower().endswith(".xlsx") else to_csv_bytes(frame))
