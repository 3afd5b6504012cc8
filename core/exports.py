"""Files users download: text that a spreadsheet could run as a formula is neutralised first."""
from __future__ import annotations

import pandas as pd

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """Prefix risky text with a quote; numbers, including negative ones, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(neutralise_cell)
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per table; text neutralised, numbers left as numbers."""
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = neutralise_frame(frame)
            for column in safe.columns:
                if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
                    safe[column] = safe[column].dt.tz_localize(None)  # Excel has no time zones
            safe.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: str) -> None:
    data = to_xlsx_bytes({"data": frame}) if str(path).lower().endswith(".xlsx") else to_csv_bytes(frame)
    with open(path, "wb") as handle:
        handle.write(data)
