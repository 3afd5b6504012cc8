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
from core.sentiment.insights import period_labels
from core.text import trim_to

FORMATS = ("pdf", "docx", "html", "xlsx")
LABEL_CHARS = 34  # a product name longer than this is cut on the charts (whole in the tables)
MAX_TICKS = 12  # date labels on a trend's axis, so they never overprint


def chart_specs(report: Report) -> list[tuple[str, pd.DataFrame, str, bool]]:
    """The report's charts, most important first: the trend, then where (products, else channels)."""
    b = report.board
    specs = []
    if not b.over_time.empty:
        specs.append((f"Reviews per {b.every}", b.over_time.assign(period=period_labels(b.over_time["period"], b.every)), "period", False))
    for title, table, column in (("By product (most reviewed)", b.by_product, "product"), ("By channel", b.by_channel, "channel")):
        if not table.empty:
            specs.append((title, table.head(8).assign(**{column: table[column].head(8).map(lambda name: trim_to(str(name), LABEL_CHARS))}).iloc[::-1], column, True))
    if len(b.by_language) > 1:
        specs.append(("By language", b.by_language.head(8).iloc[::-1], "name", True))
    return specs


def static_charts(report: Report) -> list[tuple[str, bytes]]:
    """PNG images of the report's charts, drawn with matplotlib (no browser, nothing downloaded):
    the trend first, the themes last."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def png(figure) -> bytes:
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        return buffer.getvalue()

    images = []
    for title, table, x, horizontal in chart_specs(report):
        figure, axis = plt.subplots(figsize=(8, 3.0) if not horizontal else (5.2, 3.4), dpi=120)
        bottom = None
        labels = table[x].astype(str).tolist()
        positions = range(len(labels))
        for label in ("negative", "neutral", "positive"):
            values = table[label].to_numpy()
            if horizontal:
                axis.barh(positions, values, left=bottom, color=COLOURS[label], label=label)
            else:
                axis.bar(positions, values, bottom=bottom, color=COLOURS[label], label=label)
            bottom = values if bottom is None else bottom + values
        if horizontal:
            axis.set_yticks(list(positions), labels, fontsize=7.5)
        else:
            step = max(1, -(-len(labels) // MAX_TICKS))
            axis.set_xticks(list(positions)[::step], labels[::step], fontsize=8, rotation=30, ha="right")
        axis.set_title(title, loc="left", fontsize=10)
        axis.legend(frameon=False, fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.14 if horizontal else -0.3))
        axis.spines[["top", "right"]].set_visible(False)
        images.append((title, png(figure)))
    b = report.board
    if not b.themes.empty:
        figure, axis = plt.subplots(figsize=(5.2, 3.4), dpi=120)
        themes = b.themes.sort_values("mean_score")
        colours = [COLOURS["negative"] if s < 0 else COLOURS["positive"] for s in themes["mean_score"]]
        axis.barh(themes["theme"], themes["mean_score"], color=colours)
        axis.axvline(0, color="#555", linewidth=0.8)
        axis.set_xlim(-1, 1)
        axis.tick_params(axis="y", labelsize=7.5)
        axis.set_title("Themes: mean sentiment (-1 to 1)", loc="left", fontsize=10)
        axis.spines[["top", "right"]].set_visible(False)
        images.append(("Themes", png(figure)))
    return images


def page_one_charts(report: Report) -> tuple[tuple[str, bytes] | None, list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(the trend, the two charts beside each other under it, the rest for the appendix)."""
    images = static_charts(report)
    trend = images.pop(0) if images and not report.board.over_time.empty else None
    themes = [image for image in images if image[0] == "Themes"]
    where = [image for image in images if image[0] != "Themes"]
    pair = (where[:1] + themes)[:2]
    return trend, pair, [image for image in images if image not in pair]


# --- renderers ---------------------------------------------------------------------------------


def _period_text(report: Report) -> str:
    start, end = report.period
    return f"{start:%d %b %Y} to {end:%d %b %Y}" if start and end else "all dates"


def _kpi_line(report: Report) -> list[tuple[str, str, str]]:
    """(name, value, change) for the headline figures; the change is empty when nothing compares."""
    k = report.board.kpis
    values = [("Reviews", f"{k.volume:,}", "volume", "{:+,}"), ("Positive", f"{k.positive_share:.1f}%", "positive_share", "{:+.1f} pts"),
              ("Negative", f"{k.negative_share:.1f}%", "negative_share", "{:+.1f} pts"), ("Net sentiment", f"{k.net_sentiment:+.1f}", "net_sentiment", "{:+.1f}")]
    return [(name, value, "" if k.delta(attr) is None else form.format(k.delta(attr))) for name, value, attr, form in values]


def _basis(report: Report) -> str:
    k = report.board.kpis
    return f"Changes: {k.basis}." if k.basis else "No earlier period to compare with."


def _issue_lines(report: Report) -> list[tuple[str, str]]:
    return [
        (f"{issue['theme'].capitalize()}: {issue['negative_share']:.0f}% negative of {issue['volume']:,} reviews", issue["example"])
        for issue in report.issues
    ]


def _appendix_title(name: str, shown: pd.DataFrame, total: int) -> str:
    return name + (f" (top {len(shown)} of {total:,}; every row is in the Excel report)" if len(shown) < total else "")


def _table_html(table: pd.DataFrame) -> str:
    return table.to_html(index=False, border=0, classes="table", na_rep="", float_format=lambda v: f"{v:,.2f}", escape=True)


def render_html(report: Report) -> bytes:
    """One self-contained file: styles inline, plotly.js inline once, no external resource."""
    import plotly.io as pio

    figures = []
    for title, table, x, horizontal in chart_specs(report):
        figure = stacked_labels(table, x, title=title, horizontal=horizontal)
        figure.update_yaxes(automargin=True)
        figure.update_xaxes(automargin=True, nticks=MAX_TICKS + 1)
        figures.append(figure)
    if not report.board.themes.empty:
        figures.append(theme_bars(report.board.themes))
    chart_html = "".join(
        pio.to_html(figure, full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False, "displayModeBar": False})
        for i, figure in enumerate(figures)
    )
    e = html.escape
    kpis = "".join(f"<div class='kpi'><span>{e(name)}</span><b>{e(value)}</b><i>{e(change)}</i></div>" for name, value, change in _kpi_line(report))
    warning = f"<p class='warn'>{e(report.board.warning)}</p>" if report.board.warning else ""
    issues = "".join(f"<li><b>{e(head)}</b>" + (f"<br><q>{e(example)}</q>" if example else "") + "</li>" for head, example in _issue_lines(report))
    sections = "".join(f"<h3>{e(_appendix_title(name, shown, total))}</h3>{_table_html(shown)}" for name, shown, total in report.appendix())
    notes = "".join(f"<li>{e(note)}</li>" for note in report.notes)
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(report.title)}</title>
<style>body{{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:2rem auto;color:#1d1b2f;padding:0 1rem}}
h1{{margin-bottom:0}}.meta{{color:#666}}.kpis{{display:flex;gap:1rem;margin:1rem 0}}.kpi{{background:#f4f3fb;padding:.8rem 1rem;border-radius:8px;flex:1}}
.kpi span{{display:block;color:#666;font-size:.85rem}}.kpi b{{font-size:1.3rem}}.kpi i{{display:block;color:#555;font-size:.8rem;font-style:normal}}
.warn{{background:#fdecea;border-left:4px solid #d9534f;padding:.6rem 1rem}}q{{color:#444}}table.table{{border-collapse:collapse;width:100%;font-size:.85rem}}
.table th,.table td{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}}li{{margin:.3rem 0}}</style></head><body>
<h1>{e(report.title)}</h1><p class="meta">{e(_period_text(report))} · generated {report.generated_at:%d %b %Y %H:%M} UTC · dataset {e(report.dataset_name)}</p>
{warning}<div class="kpis">{kpis}</div><p class="meta">{e(_basis(report))}</p>
<h2>Executive summary</h2><p>{e(report.summary)}</p>{chart_html}
<h2>Top issues</h2><ul>{issues or "<li>No theme is often negative in this period.</li>"}</ul>
<h2>Recommendations</h2><ul>{"".join(f"<li>{e(r)}</li>" for r in report.recommendations)}</ul>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}<h2>Appendix</h2>{sections}</body></html>"""
    return body.encode("utf-8")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


def render_docx(report: Report) -> bytes:
    from docx import Document
    from docx.shared import Inches, Pt, RGBColor

    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    for section in document.sections:
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Inches(0.7)
    document.add_heading(report.title, level=0)
    document.add_paragraph(f"{_period_text(report)} · generated {report.generated_at:%d %b %Y %H:%M} UTC · dataset {report.dataset_name}")
    if report.board.warning:
        document.add_paragraph().add_run(report.board.warning).font.color.rgb = RGBColor(0xB0, 0x2A, 0x25)
    kpi_table = document.add_table(rows=3, cols=4)
    kpi_table.style = "Light Grid Accent 1"
    for column, (name, value, change) in enumerate(_kpi_line(report)):
        kpi_table.cell(0, column).text, kpi_table.cell(1, column).text, kpi_table.cell(2, column).text = name, value, change or "–"
    document.add_paragraph(_basis(report)).runs[0].font.size = Pt(8)
    document.add_heading("Executive summary", level=1)
    document.add_paragraph(report.summary)
    trend, pair, rest = page_one_charts(report)
    if trend:
        document.add_picture(io.BytesIO(trend[1]), width=Inches(6.9))
    if pair:
        row = document.add_table(rows=1, cols=len(pair)).rows[0]
        for cell, (_, image) in zip(row.cells, pair):
            cell.paragraphs[0].add_run().add_picture(io.BytesIO(image), width=Inches(3.3))
    document.add_heading("Top issues", level=1)
    for head, example in _issue_lines(report) or [("No theme is often negative in this period.", "")]:
        item = document.add_paragraph(style="List Bullet")
        item.add_run(head).bold = True
        if example:
            item.add_run(f"\n“{example}”").italic = True
    document.add_heading("Recommendations", level=1)
    for line in report.recommendations:
        document.add_paragraph(line, style="List Bullet")
    for note in report.notes:
        document.add_paragraph(note).runs[0].font.size = Pt(8)
    document.add_page_break()
    document.add_heading("Appendix", level=1)
    for title, image in rest:
        document.add_picture(io.BytesIO(image), width=Inches(4.2))
    for name, shown, total in report.appendix():
        document.add_heading(_appendix_title(name, shown, total), level=2)
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


def _pdf_fonts() -> tuple[str, str]:
    """DejaVu Sans (shipped with matplotlib) for the PDF: Helvetica has no ł, ș or ț."""
    import os

    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
        pdfmetrics.registerFont(TTFont("DejaVuSans", os.path.join(folder, "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", os.path.join(folder, "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold", italic="DejaVuSans", boldItalic="DejaVuSans-Bold")
    return "DejaVuSans", "DejaVuSans-Bold"


def _widths(columns, cells: list[list[str]], total: float) -> list[float]:
    """Column widths in proportion to what they hold (a review's text wide, a count narrow)."""
    longest = [max(min(max([len(str(c)), *(len(row[i]) for row in cells)]), 70), 8) + 4 for i, c in enumerate(columns)]
    return [total * n / sum(longest) for n in longest]


def render_pdf(report: Report) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, ListFlowable, ListItem, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _pdf_fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        if hasattr(style, "fontName"):
            style.fontName = bold if "Bold" in style.fontName or style.name.startswith(("Heading", "Title")) else regular
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9, textColor=colors.HexColor("#555555"))
    warning = styles["BodyText"].clone("warning", textColor=colors.HexColor("#b02a25"), backColor=colors.HexColor("#fdecea"), borderPadding=4)
    quote = styles["BodyText"].clone("quote", fontSize=8.5, leading=10.5, textColor=colors.HexColor("#444444"), leftIndent=8)
    e = html.escape
    story = [
        Paragraph(e(report.title), styles["Title"]),
        Paragraph(e(f"{_period_text(report)} · dataset {report.dataset_name} · generated {report.generated_at:%d %b %Y %H:%M} UTC by Mercury"), small),
        Spacer(1, 0.3 * cm),
    ]
    if report.board.warning:
        story += [Paragraph(e(report.board.warning), warning), Spacer(1, 0.3 * cm)]
    kpi_style = TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f4f3fb")), ("FONTNAME", (0, 0), (-1, -1), regular), ("FONTNAME", (0, 1), (-1, 1), bold),
        ("FONTSIZE", (0, 0), (-1, 0), 8), ("FONTSIZE", (0, 1), (-1, 1), 14), ("FONTSIZE", (0, 2), (-1, 2), 8), ("LEADING", (0, 1), (-1, 1), 17),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor("#555555")), ("LINEAFTER", (0, 0), (-2, -1), 2, colors.white),
    ])
    kpis = _kpi_line(report)
    story += [
        Table([[n for n, _, _ in kpis], [v for _, v, _ in kpis], [c or "–" for _, _, c in kpis]], colWidths=[4.3 * cm] * 4, style=kpi_style, hAlign="LEFT"),
        Paragraph(e(_basis(report)), small),
        Paragraph("Executive summary", styles["Heading2"]),
        Paragraph(e(report.summary), styles["BodyText"]),
    ]
    trend, pair, rest = page_one_charts(report)
    if trend:
        story.append(Image(io.BytesIO(trend[1]), width=17.2 * cm, height=6.45 * cm))
    if pair:
        story.append(Table([[Image(io.BytesIO(image), width=8.5 * cm, height=5.55 * cm) for _, image in pair]], hAlign="LEFT"))
    issues = [ListItem([Paragraph(f"<b>{e(head)}</b>", styles["BodyText"])] + ([Paragraph(f"“{e(example)}”", quote)] if example else [])) for head, example in _issue_lines(report)]
    story += [Paragraph("Top issues", styles["Heading2"]), ListFlowable(issues, bulletType="bullet") if issues else Paragraph("No theme is often negative in this period.", styles["BodyText"])]
    story += [Paragraph("Recommendations", styles["Heading2"]), ListFlowable([ListItem(Paragraph(e(r), styles["BodyText"])) for r in report.recommendations], bulletType="bullet")]
    story += [Paragraph(e(note), small) for note in report.notes]
    story += [PageBreak(), Paragraph("Appendix", styles["Heading1"])]
    if rest:
        story.append(Table([[Image(io.BytesIO(image), width=8.5 * cm, height=5.55 * cm) for _, image in rest[i : i + 2]] for i in range(0, len(rest), 2)], hAlign="LEFT"))
    grid_style = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f3fb")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
    cell_style = styles["BodyText"].clone("cell", fontSize=7, leading=8.2)
    for name, shown, total in report.appendix():
        cells = [[_cell(v) for v in values] for values in shown.itertuples(index=False)]
        rows = [[Paragraph(e(str(c)), cell_style) for c in shown.columns]] + [[Paragraph(e(v), cell_style) for v in values] for values in cells]
        story += [Paragraph(e(_appendix_title(name, shown, total)), styles["Heading3"]), Table(rows, colWidths=_widths(shown.columns, cells, 17.8 * cm), style=grid_style, hAlign="LEFT", repeatRows=1)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=report.title, leftMargin=1.6 * cm, rightMargin=1.6 * cm, topMargin=1.4 * cm, bottomMargin=1.4 * cm).build(story)
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


