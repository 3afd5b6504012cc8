"""Downloads a spreadsheet opens: no cell or header runs as a formula, no cell splits a row."""
import csv
import io

import openpyxl
import pandas as pd
import pytest

from core.errors import UserError
from core.exports import to_csv_bytes, to_xlsx_bytes, write_table

HOSTILE = pd.DataFrame({'=HYPERLINK("http://evil.example","x")': ["fine\r=1+1", "two\nlines", "-2+3"], "count": [1, -2, 3]})


def test_csv_quotes_cr_and_lf_so_no_formula_starts_a_row():
    rows = list(csv.reader(io.StringIO(to_csv_bytes(HOSTILE).decode("utf-8-sig"), newline="")))
    assert len(rows) == 4  # a header and three rows, however many line breaks the cells hold
    assert rows[0] == ['\'=HYPERLINK("http://evil.example","x")', "count"]
    assert [r[0] for r in rows[1:]] == ["fine\r=1+1", "two\nlines", "'-2+3"]
    assert [r[1] for r in rows[1:]] == ["1", "-2", "3"]


def test_xlsx_headers_are_text_and_numbers_stay_numbers():
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"data": HOSTILE}))).active
    assert sheet["A1"].value == '\'=HYPERLINK("http://evil.example","x")' and sheet["A1"].data_type == "s"
    assert [sheet.cell(row=r, column=2).value for r in (2, 3, 4)] == [1, -2, 3]


def test_writing_into_a_missing_folder_is_one_sentence(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        write_table(HOSTILE, tmp_path / "missing" / "out.csv")
    write_table(HOSTILE, tmp_path / "out.csv")
    assert len(pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")) == 3
