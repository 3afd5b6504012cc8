"""Reports in four formats, each opened by an independent reader."""
import io
import json
import subprocess
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest
from docx import Document
from pypdf import PdfReader

from core.grounding import figures_not_in
from core.ingest import Table
from core.llm import BackendSpec
from core.reports.build import build_report, template_summary
from core.reports.render import render
from core.sentiment.datasets import analyse_table
from tests.conftest import run_cli
from tests.openai_server import Reply, ScriptedOpenAIServer
from tests.system_tools import requires_command

PAYLOADS = ['=HYPERLINK("http://evil.example","x") awful', "+1+1 terrible product", "@SUM(1) broke fast", "-2+3 awful support"]


@pytest.fixture
def dataset_id():
    rows = []
    for day in range(1, 57):
        when = f"2026-{1 + (day - 1) // 28:02d}-{1 + (day - 1) % 28:02d}"
        rows.append(
            {
                "date": when,
                "product": "=cmd|' /C calc'!A0" if day % 7 == 0 else "Kettle",
                "channel": "Web",
                "review": "Lovely kettle, boils fast and looks great",
            }
        )
        rows.append(
            {"date": when, "product": "Toaster", "channel": "Shop", "review": PAYLOADS[day % 4] if day > 40 else "The toaster broke and support never replied"}
        )
    dataset, _ = analyse_table(Table(frame=pd.DataFrame(rows), source="kitchen.csv"), name="Kitchen")
    return dataset


def summary_backend(server) -> BackendSpec:
    return BackendSpec(kind="openai", model="writer", base_url=server.base_url, api_key="k", timeout=5, max_retries=0)


@pytest.fixture
def report(dataset_id):
    from datetime import date

    with ScriptedOpenAIServer([Reply(text="Sentiment held steady.")]) as server:
        return build_report(dataset_id, start=date(2026, 2, 1), end=date(2026, 2, 28), spec=summary_backend(server))


@pytest.mark.model
def test_summary_with_a_wrong_number_is_replaced_without_asking_again(dataset_id):
    with ScriptedOpenAIServer([Reply(text="We had 9,999 reviews and 12% were negative.")]) as server:
        report = build_report(dataset_id, spec=summary_backend(server))
    assert len(server.requests) == 1  # a backend that fails the number check is not asked twice in a report
    assert report.summary_source == "template"
    assert report.summary == template_summary(report.facts)
    assert figures_not_in(report.summary, report.facts, report.period) == []
    assert "9,999" in report.notes[0]


def test_a_summary_citing_the_figures_is_kept(dataset_id):
    from datetime import date

    probe = build_report(
        dataset_id,
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
        spec=BackendSpec(kind="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="k", timeout=1, max_retries=0),
    )
    facts = probe.facts
    text = f"There were {facts['reviews']} reviews; {facts['negative_share_pct']}% were negative and net sentiment was {facts['net_sentiment']}."
    with ScriptedOpenAIServer([Reply(text=text)]) as server:
        report = build_report(dataset_id, start=date(2026, 2, 1), end=date(2026, 2, 28), spec=summary_backend(server))
    assert report.summary_source == "model" and report.summary == text
    kpis = report.tables()["KPIs"].set_index("measure")["value"]
    assert kpis["reviews"] == facts["reviews"] and kpis["negative share %"] == facts["negative_share_pct"]
    assert "could not write the summary" in probe.notes[0]  # an unreachable backend falls back, no crash


@pytest.mark.slow
@requires_command("pdftotext", "pdftoppm")
def test_pdf_reads_back_and_its_pages_are_not_blank(report, tmp_path):
    from PIL import Image, ImageStat

    data = render(report, "pdf")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Customer sentiment: Kitchen" in text and "Executive summary" in text and "Recommendations" in text
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    assert "Executive summary" in subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(reader.pages) >= 2
    first = reader.pages[0].extract_text()
    assert all(part in first for part in ("Executive summary", "Net sentiment", "Top issues", "Recommendations"))
    assert len(reader.pages[0].images) >= 2  # the trend and the charts beside it are on page one
    for page in pages:
        stats = ImageStat.Stat(Image.open(page).convert("L"))
        assert stats.stddev[0] > 10, f"{page.name} looks blank"


@pytest.mark.slow
def test_docx_has_real_headings_tables_and_images(report):
    document = Document(io.BytesIO(render(report, "docx")))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {"Executive summary", "Top issues", "Recommendations", "Appendix", "By product"} <= set(headings)
    assert len(document.tables) >= 4
    assert len(document.inline_shapes) >= 3


@pytest.mark.slow
def test_xlsx_keeps_numbers_and_never_makes_formulas(report):
    workbook = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    assert {"Summary", "KPIs", "By product", "Notable reviews"} <= set(workbook.sheetnames)
    kpis = workbook["KPIs"]
    assert isinstance(kpis["B2"].value, (int, float))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "@", "-", "\t", "\r")), f"{sheet.title}!{cell.coordinate}"


class ResourceFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.external, self.scripts = [], 0

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        for name, value in attrs:
            if name in ("src", "href") and value and value.strip().lower().startswith(("http:", "https:", "//")):
                self.external.append((tag, value))


def test_html_is_one_self_contained_file(report):
    page = render(report, "html").decode("utf-8")
    finder = ResourceFinder()
    finder.feed(page)
    assert finder.external == []
    assert finder.scripts >= 2 and "Plotly.newPlot" in page
    assert "<h2>Executive summary</h2>" in page


@pytest.mark.slow
def test_cli_report_from_a_file_and_bad_period(tmp_path):
    source = tmp_path / "reviews.csv"
    source.write_text("date,text\n" + "".join(f"2026-03-{d:02d},{'Great blender, love it' if d % 2 else 'Blender leaked and broke'}\n" for d in range(1, 29)))
    out = tmp_path / "report.docx"
    result = run_cli("report", source, "--format", "docx", "--out", out)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reviews"] == 28
    assert Document(str(out)).paragraphs[0].text.startswith("Customer sentiment")
    bad = run_cli("report", source, "--format", "pdf", "--out", out, "--period", "March")
    assert bad.returncode == 2 and "--period must be START:END" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.model
def test_email_activity_joins_the_report_once_there_is_mail(dataset_id):
    from core.mail.queue import add_emails, approve, draft_email
    from core.mail.reading import ParsedEmail

    assert build_report(dataset_id).email is None
    ids = add_emails(
        [
            ParsedEmail(subject="Refund", body="When will my refund for the returned kettle arrive?"),
            ParsedEmail(subject="Out of office", body="I am out of the office. No need to reply."),
        ],
        "test",
    )
    with ScriptedOpenAIServer([Reply(text="Hi,\n\nRefunds arrive within 5 working days of the return reaching us.")]) as server:
        approve(draft_email(ids[0], email_brand(), spec=summary_backend(server)).id)
    workbook = openpyxl.load_workbook(io.BytesIO(render(build_report(dataset_id), "xlsx")))
    rows = {row[0]: row[1:] for row in workbook["Email replies"].iter_rows(min_row=2, values_only=True)}
    assert rows["all"] == (2, 1, 1, 0, 0) and rows["refund_return"] == (1, 1, 1, 0, 0)


def email_brand():
    from core.brand import Brand

    return Brand(name="Kettles Ltd", facts=["Refunds arrive within 5 working days of the return reaching us."])


@pytest.mark.model
@requires_command("pdftoppm")
def test_a_year_of_a_vendor_export_makes_a_short_report_an_executive_reads(tmp_path):
    from tests.exports import amazon_export

    dataset, _ = analyse_table(Table(frame=amazon_export(900, start="2025-01-01", end="2025-12-31"), source="devices.csv"), name="Devices")
    report = build_report(dataset)
    assert report.board.every == "week" and report.facts["reviews"] > 450  # the first view holds most of the year
    pdf = PdfReader(io.BytesIO(render(report, "pdf")))
    assert len(pdf.pages) <= 4
    first = pdf.pages[0].extract_text()
    assert "Executive summary" in first and "Changes: " in first and len(pdf.pages[0].images) >= 2
    over_time = report.tables()["Over time (per week)"]
    assert len(over_time) > 40 and over_time["period"].iloc[-1].endswith("2025")  # every week, the last ones included
    shown = dict((name, len(table)) for name, table, _ in report.appendix())
    assert shown["Over time (per week)"] == len(over_time) and shown["By product"] <= 10
    kpis = report.tables()["KPIs"]
    assert kpis["change"].notna().all() and kpis["compared"].iloc[0]
    document = Document(io.BytesIO(render(report, "docx")))
    assert document.paragraphs[0].text == "Customer sentiment: Devices" and len(document.inline_shapes) >= 3


@pytest.mark.model
def test_a_rated_file_reports_its_agreement_with_the_stars():
    from tests.exports import amazon_export

    dataset, _ = analyse_table(Table(frame=amazon_export(300), source="devices.csv"), name="Devices")
    report = build_report(dataset)
    assert report.facts["clearly_rated_reviews"] > 250 and report.facts["star_agreement_balanced_pct"] > 80
    assert "agrees with the star ratings" in template_summary(report.facts)
