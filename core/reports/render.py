"""A report in four formats: PDF (reportlab), DOCX (python-docx), self-contained HTML (plotly.js
inline) and Excel. Static chart images are drawn with matplotlib (Agg): it needs no browser and
downloads nothing, so PDF and DOCX charts render offline on a fresh machine."""
from __future__ import annotations

import html
import io

import pandas as pd

from core.charts import SENTIMENT_COLOURS as COLOURS
from core.charts import stacked_labels, theme_bars
from core.exports import to_xlsx_bytes
from core.reports.build import Report

FORMATS = ("pdf", "docx", "html", "xlsx")



def chart_specs(report: Report) -> list[tuple[str, pd.DataFrame, str, bool]]:
    b = report.board
    specs = []
    if not b.over_time.empty:
        specs.append(("Sentiment over time (reviews per week)", b.over_time.assign(period=b.over_time["period"].dt.strftime("%d %b")), "period", False))
    if not b.by_product.empty:
        specs.append(("By product", b.by_product.head(12), "product", True))
    if not b.by_channel.empty:
        specs.append(("By channel", b.by_channel.head(12), "channel", True))
    if len(b.by_language) > 1:
        specs.append(("By language", b.by_language.head(12), "name", True))
    return specs


def static_charts(report: Report) -> list[tuple[str, bytes]]:
    """PNG images of the report's charts, drawn with matplotlib (no browser, nothing downloaded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    for title, table, x, horizontal in chart_specs(report):
        figure, axis = plt.subplots(figsize=(8, 3.6), dpi=110)
        bottom = None
        labels = table[x].astype(str).tolist()
        for label in ("negative", "neutral", "positive"):
            values = table[label].to_numpy()
            if horizontal:
                axis.barh(labels, values, left=bottom, color=COLOURS[label], label=label)
            else:
                axis.bar(labels, values, bottom=bottom, color=COLOURS[label], label=label)
            bottom = values if bottom is None else bottom + values
        axis.set_title(title, loc="left", fontsize=11)
        axis.legend(frameon=False, fontsize=8, loc="best")
        axis.spines[["top", "right"]].set_visible(False)
        if not horizontal:
            axis.tick_params(axis="x", labelrotation=45, labelsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        images.append((title, buffer.getvalue()))
    b = report.board
    if not b.themes.empty:
        figure, axis = plt.subplots(figsize=(8, 3.2), dpi=110)
        colours = [COLOURS["negative"] if s < 0 else COLOURS["positive"] for s in b.themes["mean_score"]]
        axis.bar(b.themes["theme"], b.themes["mean_score"], color=colours)
        axis.axhline(0, color="#555", linewidth=0.8)
        axis.set_ylim(-1, 1)
        axis.set_title("Themes: mean sentiment (-1 to 1)", loc="left", fontsize=11)
        axis.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        images.append(("Themes", buffer.getvalue()))
    return images


# --- renderers ---------------------------------------------------------------------------------


def _period_text(report: Report) -> str:
    start, end = report.period
    return f"{start:%d %b %Y} to {end:%d %b %Y}" if start and end else "all dates"


def _kpi_line(report: Report) -> list[tuple[str, str]]:
    k = report.board.kpis
    rows = [("Reviews", f"{k.volume:,}"), ("Positive", f"{k.positive_share:.1f}%"), ("Negative", f"{k.negative_share:.1f}%"), ("Net sentiment", f"{k.net_sentiment:+.1f}")]
    if k.previous is not None and k.previous.volume:
        rows = [
            (name, f"{value} ({change})")
            for (name, value), change in zip(
                rows,
                [f"{k.volume - k.previous.volume:+,}", f"{k.delta('positive_share'):+.1f} pts", f"{k.delta('negative_share'):+.1f} pts", f"{k.delta('net_sentiment'):+.1f}"],
            )
        ]
    return rows


def _table_html(table: pd.DataFrame) -> str:
    return table.to_html(index=False, border=0, classes="table", na_rep="", float_format=lambda v: f"{v:,.2f}", escape=True)


def render_html(report: Report) -> bytes:
    """One self-contained file: styles inline, plotly.js inline once, no external resource."""
    import plotly.io as pio

    figures = [stacked_labels(table, x, title=title, horizontal=horizontal) for title, table, x, horizontal in chart_specs(report)]
    if not report.board.themes.empty:
        figures.append(theme_bars(report.board.themes))
    chart_html = "".join(
        pio.to_html(figure, full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False, "displayModeBar": False})
        for i, figure in enumerate(figures)
    )
    e = html.escape
    kpis = "".join(f"<div class='kpi'><span>{e(name)}</span><b>{e(value)}</b></div>" for name, value in _kpi_line(report))
    sections = "".join(f"<h2>{e(name)}</h2>{_table_html(table)}" for name, table in report.tables().items() if name != "KPIs" and not table.empty)
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(report.title)}</title>
<style>body{{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:2rem auto;color:#1d1b2f;padding:0 1rem}}
h1{{margin-bottom:0}}.meta{{color:#666}}.kpis{{display:flex;gap:1rem;margin:1rem 0}}.kpi{{background:#f4f3fb;padding:.8rem 1rem;border-radius:8px;flex:1}}
.kpi span{{display:block;color:#666;font-size:.85rem}}.kpi b{{font-size:1.3rem}}table.table{{border-collapse:collapse;width:100%;font-size:.85rem}}
.table th,.table td{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}}li{{margin:.3rem 0}}</style></head><body>
<h1>{e(report.title)}</h1><p class="meta">{e(_period_text(report))} · generated {report.generated_at:%d %b %Y %H:%M} UTC · dataset {e(report.dataset_name)}</p>
<h2>Executive summary</h2><p>{e(report.summary)}</p><div class="kpis">{kpis}</div>
<h2>Recommendations</h2><ul>{"".join(f"<li>{e(r)}</li>" for r in report.recommendations)}</ul>
<h2>Charts</h2>{chart_html}{sections}</body></html>"""
    return body.encode("utf-8")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_docx(report: Report) -> bytes:
    from docx import Document
    from docx.shared import Inches, Pt

    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(report.title, level=0)
    document.add_paragraph(f"{_period_text(report)} · generated {report.generated_at:%d %b %Y %H:%M} UTC · dataset {report.dataset_name}")
    document.add_page_break()
    document.add_heading("Executive summary", level=1)
    document.add_paragraph(report.summary)
    kpi_table = document.add_table(rows=1, cols=2)
    kpi_table.style = "Light Grid Accent 1"
    kpi_table.rows[0].cells[0].text, kpi_table.rows[0].cells[1].text = "Measure", "Value (change)"
    for name, value in _kpi_line(report):
        row = kpi_table.add_row().cells
        row[0].text, row[1].text = name, value
    document.add_heading("Recommendations", level=1)
    for line in report.recommendations:
        document.add_paragraph(line, style="List Bullet")
    document.add_heading("Charts", level=1)
    for title, image in static_charts(report):
        document.add_paragraph(title)
        document.add_picture(io.BytesIO(image), width=Inches(6.2))
    for name, table in report.tables().items():
        if name == "KPIs" or table.empty:
            continue
        document.add_heading(name, level=1)
        shown = table.head(30)
        grid = document.add_table(rows=1, cols=len(shown.columns))
        grid.style = "Light Grid Accent 1"
        for cell, column in zip(grid.rows[0].cells, shown.columns):
            cell.text = str(column)
        for values in shown.itertuples(index=False):
            for cell, value in zip(grid.add_row().cells, values):
                cell.text = _cell(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def render_pdf(report: Report) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, ListFlowable, ListItem, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    e = html.escape
    story = [
        Spacer(1, 6 * cm),
        Paragraph(e(report.title), styles["Title"]),
        Paragraph(e(f"{_period_text(report)} · dataset {report.dataset_name}"), styles["Normal"]),
        Paragraph(e(f"Generated {report.generated_at:%d %b %Y %H:%M} UTC by Mercury"), styles["Normal"]),
        PageBreak(),
        Paragraph("Executive summary", styles["Heading1"]),
        Paragraph(e(report.summary), styles["BodyText"]),
        Spacer(1, 0.3 * cm),
    ]
    grid_style = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f3fb")), ("FONTSIZE", (0, 0), (-1, -1), 8), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    story.append(Table([["Measure", "Value (change)"], *_kpi_line(report)], style=grid_style, hAlign="LEFT"))
    story += [Paragraph("Recommendations", styles["Heading1"]), ListFlowable([ListItem(Paragraph(e(r), styles["BodyText"])) for r in report.recommendations], bulletType="bullet")]
    story.append(Paragraph("Charts", styles["Heading1"]))
    for title, image in static_charts(report):
        story += [Image(io.BytesIO(image), width=16 * cm, height=7.2 * cm), Spacer(1, 0.2 * cm)]
    cell_style = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    for name, table in report.tables().items():
        if name == "KPIs" or table.empty:
            continue
        shown = table.head(30)
        rows = [[Paragraph(e(str(c)), cell_style) for c in shown.columns]] + [[Paragraph(e(_cell(v)), cell_style) for v in values] for values in shown.itertuples(index=False)]
        story += [Paragraph(e(name), styles["Heading2"]), Table(rows, style=grid_style, hAlign="LEFT", repeatRows=1)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=report.title, leftMargin=1.8 * cm, rightMargin=1.8 * cm).build(story)
    return buffer.getvalue()


def render_xlsx(report: Report) -> bytes:
    sheets = {"Summary": pd.DataFrame({"item": ["title", "period", "summary", *[f"recommendation {i + 1}" for i in range(len(report.recommendations))]], "value": [report.title, _period_text(report), report.summary, *report.recommendations]})}
    for name, table in report.tables().items():
        frame = table.copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].dt.strftime("%Y-%m-%d")
        sheets[name] = frame
    return to_xlsx_bytes(sheets)


RENDERERS = {"pdf": render_pdf, "docx": render_docx, "html": render_html, "xlsx": render_xlsx}


def render(report: Report, fmt: str) -> bytes:
    if fmt not in RENDERERS:
        raise ValueError(f"Unknown format '{fmt}': choose pdf, docx, html or xlsx.")
    return RENDERERS[fmt](report)


