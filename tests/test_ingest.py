"""Hostile review files: every one is read correctly or refused in one sentence."""
import io
import zipfile

import pandas as pd
import pytest

from core import ingest
from core.columns import propose_roles, resolve_mapping
from core.ingest import IngestError, read_table

ROWS = [("1", "Café was great, très bien!", "2026-01-03"), ("2", "Delivery took two weeks; never again", "2026-01-04")]


def csv_text(delimiter=",", quote_all=True):
    buffer = io.StringIO()
    import csv

    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(["id", "review", "date"])
    writer.writerows(ROWS)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "encoding, expected",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"), ("cp1252", None)],
)
def test_encodings_are_detected(encoding, expected):
    table = read_table(csv_text().encode(encoding), "reviews.csv")
    if expected:  # a legacy single-byte file may be named cp1252 or latin-1: what matters is the text
        assert table.encoding == expected
    assert list(table.frame.columns) == ["id", "review", "date"]
    assert table.frame["review"].tolist()[0] == "Café was great, très bien!"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_detected(delimiter):
    table = read_table(csv_text(delimiter, quote_all=False).encode(), "reviews.txt")
    assert table.delimiter == delimiter
    assert table.frame.shape == (2, 3)


def test_newlines_inside_quotes_stay_in_one_review():
    data = 'id,review\n1,"First line\nsecond line, with a comma"\n2,plain\n'
    table = read_table(data.encode(), "r.csv")
    assert table.frame["review"].tolist() == ["First line\nsecond line, with a comma", "plain"]


def test_ragged_rows_are_skipped_and_counted():
    data = "review,stars\nfine,5\ntoo,many,fields,4\nalso fine,4\n"
    table = read_table(data.encode(), "r.csv")
    assert table.frame["review"].tolist() == ["fine", "also fine"]
    assert table.skip_reasons == {"ragged row (more fields than the header)": 1}
    assert table.skip_lines == {"ragged row (more fields than the header)": [3]}


def test_a_review_in_the_last_column_that_runs_past_its_commas_is_kept_whole():
    data = "id,review\n1,fine\n2,Great blender, love it, would buy again\n"
    table = read_table(data.encode(), "r.csv")
    assert table.frame["review"].tolist() == ["fine", "Great blender, love it, would buy again"]
    assert table.skipped == 0 and "kept whole" in str(table.mended_note())


def test_jsonl_with_a_broken_line():
    data = '{"review": "good", "stars": 5}\nnot json\n{"review": "bad", "stars": 1}\n'
    table = read_table(data.encode(), "r.jsonl")
    assert table.frame["review"].tolist() == ["good", "bad"]
    assert table.skipped == 1


def test_xlsx_is_read():
    buffer = io.BytesIO()
    pd.DataFrame({"Review Text": ["nice", "awful"], "Rating": [5, 1]}).to_excel(buffer, index=False)
    table = read_table(buffer.getvalue(), "r.xlsx")
    assert propose_roles(table.frame).columns()["text"] == "Review Text"
    assert propose_roles(table.frame).columns()["rating"] == "Rating"


@pytest.mark.parametrize(
    "data, name, sentence",
    [
        (b"", "empty.csv", "empty.csv is empty."),
        (b"   \n\n", "blank.csv", "blank.csv is empty."),
        (b"id,review\n", "header.csv", "header.csv has a header but no rows."),
        (bytes(range(256)) * 10, "photo.csv", "photo.csv looks like a binary file, not a table of text: export it as CSV, TSV, Excel or JSON lines."),
    ],
)
def test_unusable_files_get_one_sentence(data, name, sentence):
    with pytest.raises(IngestError) as error:
        read_table(data, name)
    assert str(error.value) == sentence


def test_zip_renamed_csv_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("reviews.csv", csv_text())
    with pytest.raises(IngestError, match="is a zip archive"):
        read_table(buffer.getvalue(), "reviews.csv")


def test_over_the_size_limit_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(ingest, "MAX_UPLOAD_BYTES", 1024)
    path = tmp_path / "big.csv"
    path.write_text("id,review\n" + "1,word\n" * 500)
    with pytest.raises(IngestError, match="over the 0 MB limit|over the"):
        read_table(path)


def test_text_column_is_found_without_a_helpful_name():
    frame = pd.DataFrame({"a": ["1", "2"], "b": ["The strap broke after a week of use", "Lovely colour and it fits well"], "c": ["x", "y"]})
    assert resolve_mapping(frame, "odd.csv").columns()["text"] == "b"


def test_no_text_column_is_one_sentence():
    frame = pd.DataFrame({"n": ["1", "2"], "m": ["3", "4"]})
    with pytest.raises(IngestError, match="numbers.csv has no column of review text: name it with --map text=COLUMN."):
        resolve_mapping(frame, "numbers.csv")
    with pytest.raises(IngestError, match="has no column 'body'"):
        resolve_mapping(frame, "numbers.csv", {"text": "body"})
