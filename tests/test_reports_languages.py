"""Reports in the reader's language: Chinese that prints as text (a CJK font embedded as a subset),
Polish and Romanian with their number and date formats, one description rendered to every format."""
import io
import json
import subprocess
import zipfile

import pandas as pd
import pytest

from core.ingest import Table
from core.reports.build import build_report
from core.reports.render import describe, render
from core.sentiment.datasets import analyse_table
from tests.conftest import run_cli
from tests.system_tools import requires_command
from tests.test_real_shapes import DOUBAN

NEGATIVE = ("较差", "很差")


@pytest.fixture(scope="module")
def chinese_reviews(tmp_path_factory):
    rows = [
        {"日期": f"2026-{1 + i % 12:02d}-{1 + i % 27:02d}", "评论": f"{text}，第{i}位观众", "产品": ["星际穿越", "流浪地球", "霸王别姬"][i % 3], "评分": rating}
        for i, (rating, text) in enumerate(DOUBAN * 6)
    ]
    path = tmp_path_factory.mktemp("zh") / "douban.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.slow
@requires_command("pdftotext", "pdffonts")
def test_a_chinese_report_prints_chinese_headings_and_excerpts_with_a_cjk_font_embedded(chinese_reviews, tmp_path):
    out = tmp_path / "r.pdf"
    result = run_cli("report", chinese_reviews, "--format", "pdf", "--language", "zh", "--out", out)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "管理层摘要" in text and "主要问题" in text and "建议" in text and "附录" in text
    printed = json.loads(result.stdout)
    flat = "".join(text.split())  # pdftotext breaks Chinese lines anywhere
    assert "".join(printed["summary"].split())[:40] in flat  # whichever wrote it, the summary prints as text
    if printed["summary_source"] == "template":  # the summary written from the figures, in Chinese
        assert "本期共有120条评论" in flat
    assert any(review[:8] in flat for stars, review in DOUBAN if stars in NEGATIVE)  # a review excerpt prints as text, not boxes
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    embedded = [line for line in fonts.splitlines() if "NotoSansCJK" in line]
    assert embedded and all(" yes yes " in line for line in embedded)  # embedded, as a subset
    assert out.stat().st_size < 3_000_000
    assert all("the" not in note.split() for note in printed["notes"])


@pytest.mark.model
def test_the_same_chinese_report_in_docx_html_and_excel(chinese_reviews):
    from docx import Document

    table = Table(frame=pd.read_csv(chinese_reviews, dtype=str), source="douban.csv")
    dataset_id, _ = analyse_table(table)
    report = build_report(dataset_id, language="zh")
    document = Document(io.BytesIO(render(report, "docx")))
    paragraphs = [p.text for p in document.paragraphs]
    excerpts = [issue["example"] for issue in report.issues]
    assert "管理层摘要" in paragraphs and excerpts and any(excerpts[0] in p for p in paragraphs)
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")  # Word sets Chinese in a CJK font
    page = render(report, "html").decode("utf-8")
    assert '<html lang="zh">' in page and "管理层摘要" in page and "Microsoft YaHei" in page
    with zipfile.ZipFile(io.BytesIO(render(report, "xlsx"))) as workbook:
        sheets = workbook.read("xl/workbook.xml").decode("utf-8")
    assert "摘要" in sheets and "关键指标" in sheets


@pytest.mark.parametrize(
    "language, heading, month",
    [("pl", "Podsumowanie dla zarządu", "kwi"), ("ro", "Rezumat executiv", "apr."), ("en", "Executive summary", "Apr")],
)
@pytest.mark.model
def test_polish_and_romanian_reports_use_their_words_numbers_and_dates(language, heading, month):
    rows = [
        {"date": f"2026-{1 + i % 6:02d}-{1 + i % 27:02d}", "review": text, "stars": stars}
        for i, (text, stars) in enumerate(
            [
                ("Great blender, quiet and strong, love it", "5"),
                ("Leaked after a week, very disappointed", "1"),
                ("Works fine for smoothies every morning", "4"),
            ]
            * 40
        )
    ]
    dataset_id, _ = analyse_table(Table(frame=pd.DataFrame(rows), source="blender.csv"))
    report = build_report(dataset_id, language=language)
    blocks = describe(report)
    assert any(b.kind == "heading" and b.text == heading for b in blocks)
    kpis = next(b for b in blocks if b.kind == "kpis").items
    assert all(("," in value) == (language != "en") for _, value, _ in kpis[1:3])  # 56,7% in Polish and Romanian, 56.7% in English
    trend = next(b for b in blocks if b.kind == "charts" and b.charts).charts[0]
    assert month in " ".join(trend.table[trend.x])  # the trend's dates name April in the report's language
    assert report.summary == report.summary.strip() and str(report.facts["reviews"]) in report.summary.replace("\xa0", "")


def test_a_model_summary_in_the_wrong_language_is_not_used():
    from core.reports.build import summary_problems

    facts = {"reviews": 120, "positive_share": 57.5, "negative_share": 40.0, "net_sentiment": 17.5}
    period = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-27"))
    english = "This period had 120 reviews, 57.5% positive and 40% negative, for a net sentiment of +17.5."
    chinese = "本期共有 120 条评论，正面 57.5%，负面 40%，净情感值 +17.5。"
    assert summary_problems(chinese, facts, period, "zh") == []
    assert summary_problems(english, facts, period, "zh") == ["它是用英语写的，而不是中文"]
    assert summary_problems(english, facts, period, "en") == []
