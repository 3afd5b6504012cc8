"""Files built to hurt a shared server: each ends in exit 2 and one sentence, quickly and in bounded memory.

Every command runs in a fresh wrapper process that reports its child's peak memory, so the figure is
that command's alone.
"""
import json
import os
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from tests.conftest import ROOT

MEMORY_LIMIT_KIB = 2 * 1024 * 1024  # 2 GiB
TIME_LIMIT_S = 120
# Runs the CLI and prints its exit code and peak resident memory (KiB) on the last line of stderr.
WRAPPER = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run([sys.executable, '-m', 'core', *sys.argv[1:]], capture_output=True, text=True)\n"
    "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)\n"
    "sys.stderr.write(f'\\n@@ {done.returncode} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
)


def run_measured(*args) -> tuple[int, str, int]:
    done = subprocess.run([sys.executable, "-c", WRAPPER, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=TIME_LIMIT_S, env=os.environ)
    stderr, _, tail = done.stderr.rpartition("\n@@ ")
    code, peak_kib = map(int, tail.split())
    return code, stderr.strip(), peak_kib


def assert_refused(args, expected: str):
    code, stderr, peak_kib = run_measured(*args)
    assert code == 2, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 0 and "Traceback" not in stderr, stderr
    assert expected in stderr, stderr
    assert peak_kib < MEMORY_LIMIT_KIB, f"peak {peak_kib / 1024:.0f} MiB"


def workbook_with_sheet(path, sheet_xml_chunks):
    """A real .xlsx from openpyxl whose sheet is then replaced by streamed chunks."""
    book = openpyxl.Workbook()
    book.active.append(["review"])
    book.active.append(["fine"])
    template = path.with_suffix(".template.xlsx")
    book.save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, source.read(item.filename))
                continue
            with target.open(item.filename, "w", force_zip64=True) as stream:
                for chunk in sheet_xml_chunks():
                    stream.write(chunk)
    return path


SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>review</t></is></c></row>'


def inflating_cell():
    yield SHEET_START + HEADER_ROW + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    block = b"A" * (1024 * 1024)
    for _ in range(1500):  # 1.5 GB in one cell, about 1.5 MB on the wire
        yield block
    yield b"</t></is></c></row></sheetData></worksheet>"


def millions_of_empty_rows():
    yield SHEET_START + HEADER_ROW
    for start in range(2, 3_000_000, 100_000):
        yield b"".join(b'<row r="%d"/>' % r for r in range(start, min(start + 100_000, 3_000_000)))
    yield b"</sheetData></worksheet>"


@pytest.mark.slow
def test_an_inflating_xlsx_is_refused_before_it_unpacks(tmp_path):
    path = workbook_with_sheet(tmp_path / "bomb.xlsx", inflating_cell)
    assert path.stat().st_size < 5 * 1024 * 1024
    assert_refused(["sentiment", path], "unpacks to more than 256 MB")


@pytest.mark.slow
def test_an_xlsx_with_millions_of_empty_rows_is_refused(tmp_path):
    path = workbook_with_sheet(tmp_path / "rows.xlsx", millions_of_empty_rows)
    for command in (["sentiment", path], ["report", path, "--format", "pdf", "--out", tmp_path / "r.pdf"],
                    ["evaluate", "--input", path, "--text-column", "review", "--label-column", "stars"],
                    ["reply", "--batch", path, "--out", tmp_path / "d.csv"]):
        assert_refused(command, "more than 1,000,000 rows")


@pytest.mark.slow
def test_a_csv_with_a_million_columns_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n" + ",".join("x" for _ in range(1_000_000)) + "\n")
    assert_refused(["sentiment", path], "over the limit of 1,000,000")  # its lines are as wide as its columns are many


@pytest.mark.model
def test_deep_json_is_refused_wherever_json_is_read(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    lines = tmp_path / "deep.jsonl"
    lines.write_text(json.dumps({"review": "fine"}) + "\n" + '{"review": ' + deep + "}\n")
    (tmp_path / "deep.json").write_text('{"name": "Acme", "facts": ' + deep + "}")
    assert_refused(["sentiment", lines], "nests JSON deeper than 64 levels")
    assert_refused(["reply", ROOT / "sample_data" / "emails.csv", "--brand", tmp_path / "deep.json"], "nests JSON deeper than 64 levels")
    assert_refused(["gpu", "--config", tmp_path / "deep.json"], "nests JSON deeper than 64 levels")


@pytest.mark.slow
def test_a_folder_a_device_and_a_binary_config_get_one_sentence(tmp_path):
    assert_refused(["sentiment", tmp_path], "is a folder")
    assert_refused(["sentiment", "/dev/zero"], "is not a regular file")
    (tmp_path / "binary.json").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "utf16.json").write_text(json.dumps({"model_type": "llama"}), encoding="utf-16")
    (tmp_path / "types.json").write_text(
        json.dumps({"model_type": "llama", "hidden_size": "big", "num_hidden_layers": [1], "num_attention_heads": 8, "vocab_size": 10})
    )
    assert_refused(["gpu", "--config", tmp_path / "binary.json"], "binary.json is not UTF-8 text")
    assert_refused(["gpu", "--config", tmp_path / "utf16.json"], "utf16.json is not UTF-8 text")
    assert_refused(["gpu", "--config", tmp_path / "types.json"], "wrong type or value")


@pytest.mark.slow
def test_mail_that_is_not_mail_or_nests_without_end_is_refused(tmp_path):
    (tmp_path / "picture.eml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    depth = 3000
    nested = (
        "From: a@example.com\nSubject: nest\nMIME-Version: 1.0\n"
        + "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
        + "Content-Type: text/plain\n\nhello\n"
        + "".join(f"--b{i}--\n" for i in reversed(range(depth)))
    )
    (tmp_path / "nested.eml").write_text(nested)
    assert_refused(["reply", tmp_path / "picture.eml"], "is not an email")
    assert_refused(["reply", tmp_path / "nested.eml"], "MIME parts")


@pytest.mark.slow
@pytest.mark.parametrize("command", [["report", "sample_data/reviews.csv", "--format", "pdf"], ["sentiment", "sample_data/reviews.csv"]])
def test_an_output_folder_that_does_not_exist_is_refused_before_any_work(tmp_path, command):
    code, stderr, _ = run_measured(*command, "--out", tmp_path / "missing" / "out.file")
    assert code == 2 and stderr == f"error: The folder {tmp_path / 'missing'} does not exist: create it first or choose another output file."
