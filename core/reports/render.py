"""A report in four formats: PDF (reportlab), DOCX (python-docx), self-contained HTML (plotly.js
inline) and Excel, all from one description of its sections (`describe`), in the report's
language. Static chart images are drawn with matplotlib (Agg): it needs no browser and downloads
nothing, so PDF and DOCX charts render offline on a fresh machine. Chinese text is set in Noto Sans
CJK (core/reports/fonts.py), embedded as a subset of the characters the report uses."""
from __future__ import annotations

import html
import io
from dataclasses import dataclass, field

import pandas as pd

from core.charts import SENTIMENT_COLOURS as COLOURS
from core.charts import stacked_labels, theme_bars
from core.exports import to_xlsx_bytes
from core.i18n import N_, Signed, format_date, format_number
from core.i18n import render as sentence
from core.reports.build import Report
from core.reports.fonts import CSS_FONT_STACK, EAST_ASIAN_FONT, chart_font, pdf_fonts
from core.sentiment.insights import period_labels
from core.text import trim_to

FORMATS = ("pdf", "docx", "html", "xlsx")
LABEL_CHARS = 34  # a product name longer than this is cut on the charts (whole in the tables)
MAX_TICKS = 12  # date labels on a trend's axis, so they never overprint
LABELS = ("negative", "neutral", "positive")
DOCX_LEVELS = {1: 1, 2: 1, 3: 2}  # Word's heading levels for the report's (its title is level 0)


@dataclass
class Chart:
    title: str
    table: pd.DataFrame
    x: str
    horizontal: bool
    themes: bool = False  # mean sentiment per theme, not stacked labels


@dataclass
class Block:
    """One section of the report: what it says, not how a format lays it out."""

    kind: str  # title, meta, warning, kpis, small, heading, paragraph, charts, issues, bullets, pagebreak, table
    text: str = ""
    level: int = 2
    items: list = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    table: pd.DataFrame | None = None


def charts(report: Report) -> list[Chart]:
    """The report's charts, most important first: the trend, then where (products, else channels), then themes."""
    b, say = report.board, report.say
    out = []
    if not b.over_time.empty:
        out.append(
            Chart(
                say("Reviews per {every}", every=say(b.every)),
                b.over_time.assign(period=period_labels(b.over_time["period"], b.every, report.language)),
                "period",
                False,
            )
        )
    for title, table, column in ((N_("By product (most reviewed)"), b.by_product, "product"), (N_("By channel"), b.by_channel, "channel")):
        if not table.empty:
            top = table.head(8).assign(**{column: table[column].head(8).map(lambda name: trim_to(str(name), LABEL_CHARS))})
            out.append(Chart(say(title), top.iloc[::-1], column, True))
    if len(b.by_language) > 1:
        out.append(Chart(say("By language"), b.by_language.head(8).iloc[::-1], "name", True))
    if not b.themes.empty:
        out.append(Chart(say("Themes: mean sentiment (-1 to 1)"), b.themes.assign(theme=b.themes["theme"].map(say)), "theme", True, themes=True))
    return out


def _period_text(report: Report) -> str:
    start, end = report.period
    if not (start and end):
        return report.say("all dates")
    return report.say("{start} to {end}", start=format_date(start, report.language, "medium"), end=format_date(end, report.language, "medium"))


def _kpis(report: Report) -> list[tuple[str, str, str]]:
    """(name, value, change) for the headline figures; the change is empty when nothing compares."""
    k, language, say = report.board.kpis, report.language, report.say

    def change(attr: str, points: bool) -> str:
        delta = k.delta(attr)
        if delta is None:
            return ""
        signed = Signed(round(delta) if attr == "volume" else round(delta, 1)).render(language)
        return say("{change} pts", change=signed) if points else signed

    return [
        (say("Reviews"), format_number(k.volume, language, 0), change("volume", False)),
        (say("Positive"), f"{format_number(k.positive_share, language, 1)}%", change("positive_share", True)),
        (say("Negative"), f"{format_number(k.negative_share, language, 1)}%", change("negative_share", True)),
        (say("Net sentiment"), Signed(round(k.net_sentiment, 1)).render(language), change("net_sentiment", False)),
    ]


def describe(report: Report) -> list[Block]:
    """The report's sections in order, every word in the report's language; each format renders these."""
    say, b = report.say, report.board
    generated = f"{format_date(report.generated_at, report.language, 'medium')} {report.generated_at:%H:%M} UTC"
    blocks = [
        Block("title", report.title),
        Block(
            "meta", say("{period} · dataset {dataset} · generated {when} by Mercury", period=_period_text(report), dataset=report.dataset_name, when=generated)
        ),
    ]
    if b.warning:
        blocks.append(Block("warning", sentence(b.warning, report.language)))
    blocks += [Block("small", note) for note in report.notes]  # what to keep in mind before reading the figures
    basis = say("Changes: {basis}.", basis=sentence(b.kpis.basis, report.language)) if b.kpis.basis else say("No earlier period to compare with.")
    blocks += [Block("kpis", items=_kpis(report)), Block("small", basis), Block("heading", say("Executive summary")), Block("paragraph", report.summary)]
    all_charts = charts(report)
    trend = [c for c in all_charts if c.x == "period"]
    others = [c for c in all_charts if c.x != "period"]
    pair = ([c for c in others if not c.themes][:1] + [c for c in others if c.themes])[:2]
    blocks += [Block("charts", charts=trend, level=1), Block("charts", charts=pair)]
    issues = [
        (
            say("{theme}: {share}% negative of {reviews} reviews", theme=say(i["theme"]).capitalize(), share=round(i["negative_share"]), reviews=i["volume"]),
            i["example"],
        )
        for i in report.issues
    ]
    blocks += [Block("heading", say("Top issues")), Block("issues", items=issues or [(say("No theme is often negative in this period."), "")])]
    blocks += [Block("heading", say("Recommendations")), Block("bullets", items=report.recommendations)]
    blocks += [Block("pagebreak"), Block("heading", say("Appendix"), level=1), Block("charts", charts=[c for c in others if c not in pair])]
    for name, shown, total in report.appendix():
        title = (
            name
            if len(shown) == total
            else say("{table} (top {shown} of {total}; every row is in the Excel report)", table=name, shown=len(shown), total=total)
        )
        blocks += [Block("heading", title, level=3), Block("table", table=shown)]
    return blocks


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


# --- chart images (PDF and DOCX) ---------------------------------------------------------------


def chart_png(chart: Chart, report: Report, text: str) -> bytes:
    """A chart as a PNG, drawn with matplotlib in a font that holds every character of `text`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = not chart.horizontal
    with plt.rc_context({"font.family": chart_font(text)}):
        figure, axis = plt.subplots(figsize=(8, 2.6) if wide else (5.2, 3.4), dpi=120)
        labels = chart.table[chart.x].astype(str).tolist()
        positions = list(range(len(labels)))
        if chart.themes:
            themes = chart.table.sort_values("mean_score")
            axis.barh(
                themes[chart.x].astype(str), themes["mean_score"], color=[COLOURS["negative"] if s < 0 else COLOURS["positive"] for s in themes["mean_score"]]
            )
            axis.axvline(0, color="#555", linewidth=0.8)
            axis.set_xlim(-1, 1)
            axis.tick_params(axis="y", labelsize=7.5)
        else:
            bottom = None
            for label in LABELS:
                values = chart.table[label].to_numpy()
                draw = axis.barh if chart.horizontal else axis.bar
                draw(positions, values, **{"left" if chart.horizontal else "bottom": bottom}, color=COLOURS[label], label=report.say(label))
                bottom = values if bottom is None else bottom + values
            if chart.horizontal:
                axis.set_yticks(positions, labels, fontsize=7.5)
            else:
                step = max(1, -(-len(labels) // MAX_TICKS))
                axis.set_xticks(positions[::step], labels[::step], fontsize=8, rotation=30, ha="right")
            axis.legend(frameon=False, fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.14 if chart.horizontal else -0.3))
        axis.set_title(chart.title, loc="left", fontsize=10)
        axis.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
    return buffer.getvalue()


def _report_text(blocks: list[Block]) -> str:
    """Every character a report prints, so fonts cover (and PDF subsets hold) just those."""
    parts = []
    for block in blocks:
        parts += [block.text, *map(str, block.items)]
        parts += [c.title + " ".join(map(str, c.table[c.x])) for c in block.charts]
        if block.table is not None:
            parts += [" ".join(map(str, block.table.columns)), block.table.astype(str).to_string()]
    return "".join(parts) + "".join(LABELS)


# --- renderers ---------------------------------------------------------------------------------


def render_html(report: Report) -> bytes:
    """One self-contained file: styles inline, plotly.js inline once, no external resource; charts interactive."""
    import plotly.io as pio

    e, first_chart = html.escape, [True]

    def figure_html(chart: Chart) -> str:
        figure = (
            theme_bars(chart.table, title=chart.title, labels={"theme": report.say("theme"), "mean_score": report.say("mean score")})
            if chart.themes
            else stacked_labels(chart.table, chart.x, title=chart.title, horizontal=chart.horizontal, names={label: report.say(label) for label in LABELS})
        )
        figure.update_yaxes(automargin=True)
        figure.update_xaxes(automargin=True, nticks=MAX_TICKS + 1)
        figure.update_layout(font_family=CSS_FONT_STACK)
        out = pio.to_html(figure, full_html=False, include_plotlyjs=first_chart[0], config={"displaylogo": False, "displayModeBar": False})
        first_chart[0] = False
        return out

    parts = []
    for block in describe(report):
        if block.kind == "title":
            parts.append(f"<h1>{e(block.text)}</h1>")
        elif block.kind in ("meta", "small"):
            parts.append(f"<p class='meta'>{e(block.text)}</p>")
        elif block.kind == "warning":
            parts.append(f"<p class='warn'>{e(block.text)}</p>")
        elif block.kind == "kpis":
            parts.append(
                "<div class='kpis'>" + "".join(f"<div class='kpi'><span>{e(n)}</span><b>{e(v)}</b><i>{e(c)}</i></div>" for n, v, c in block.items) + "</div>"
            )
        elif block.kind == "heading":
            parts.append(f"<h{block.level}>{e(block.text)}</h{block.level}>")
        elif block.kind == "paragraph":
            parts.append(f"<p>{e(block.text)}</p>")
        elif block.kind == "charts":
            parts += [figure_html(chart) for chart in block.charts]
        elif block.kind == "issues":
            parts.append(
                "<ul>" + "".join(f"<li><b>{e(head)}</b>" + (f"<br><q>{e(example)}</q>" if example else "") + "</li>" for head, example in block.items) + "</ul>"
            )
        elif block.kind == "bullets":
            parts.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in block.items) + "</ul>")
        elif block.kind == "table":
            parts.append(block.table.to_html(index=False, border=0, classes="table", na_rep="", float_format=lambda v: f"{v:,.2f}", escape=True))
    body = f"""<!doctype html><html lang="{report.language}"><head><meta charset="utf-8"><title>{e(report.title)}</title>
<style>body{{font-family:{CSS_FONT_STACK};max-width:1000px;margin:2rem auto;color:#1d1b2f;padding:0 1rem}}
h1{{margin-bottom:0}}.meta{{color:#666}}.kpis{{display:flex;gap:1rem;margin:1rem 0}}.kpi{{background:#f4f3fb;padding:.8rem 1rem;border-radius:8px;flex:1}}
.kpi span{{display:block;color:#666;font-size:.85rem}}.kpi b{{font-size:1.3rem}}.kpi i{{display:block;color:#555;font-size:.8rem;font-style:normal}}
.warn{{background:#fdecea;border-left:4px solid #d9534f;padding:.6rem 1rem}}q{{color:#444}}table.table{{border-collapse:collapse;width:100%;font-size:.85rem}}
.table th,.table td{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}}li{{margin:.3rem 0}}</style></head><body>
{"".join(parts)}</body></html>"""
    return body.encode("utf-8")


def render_docx(report: Report) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Inches, Pt, RGBColor

    blocks = describe(report)
    text = _report_text(blocks)
    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(10)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)  # Chinese in Word's own CJK font
    for section in document.sections:
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Inches(0.7)
    for block in blocks:
        if block.kind == "title":
            document.add_heading(block.text, level=0)
        elif block.kind == "meta":
            document.add_paragraph(block.text)
        elif block.kind == "warning":
            document.add_paragraph().add_run(block.text).font.color.rgb = RGBColor(0xB0, 0x2A, 0x25)
        elif block.kind == "kpis":
            grid = document.add_table(rows=3, cols=len(block.items))
            grid.style = "Light Grid Accent 1"
            for column, (name, value, change) in enumerate(block.items):
                grid.cell(0, column).text, grid.cell(1, column).text, grid.cell(2, column).text = name, value, change or "–"
        elif block.kind == "small":
            document.add_paragraph().add_run(block.text).font.size = Pt(8)
        elif block.kind == "heading":
            document.add_heading(block.text, level=DOCX_LEVELS[block.level])
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        elif block.kind == "charts" and block.charts:
            images = [chart_png(chart, report, text) for chart in block.charts]
            if block.level == 1 and len(images) == 1:
                document.add_picture(io.BytesIO(images[0]), width=Inches(6.9))
            else:
                row = document.add_table(rows=1, cols=2).rows[0] if len(images) > 1 else None
                for index, image in enumerate(images):
                    if row is not None and index < 2:
                        row.cells[index].paragraphs[0].add_run().add_picture(io.BytesIO(image), width=Inches(3.3))
                    else:
                        document.add_picture(io.BytesIO(image), width=Inches(4.2))
        elif block.kind == "issues":
            for head, example in block.items:
                item = document.add_paragraph(style="List Bullet")
                item.add_run(head).bold = True
                if example:
                    item.add_run(f"\n“{example}”").italic = True
        elif block.kind == "bullets":
            for line in block.items:
                document.add_paragraph(line, style="List Bullet")
        elif block.kind == "pagebreak":
            document.add_page_break()
        elif block.kind == "table":
            grid = document.add_table(rows=1, cols=len(block.table.columns))
            grid.style = "Light Grid Accent 1"
            for cell, column in zip(grid.rows[0].cells, block.table.columns):
                cell.text = str(column)
            for values in block.table.itertuples(index=False):
                for cell, value in zip(grid.add_row().cells, values):
                    cell.text = _cell(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


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

    blocks = describe(report)
    text = _report_text(blocks)
    regular, bold = pdf_fonts(text)
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        if hasattr(style, "fontName"):
            style.fontName = bold if "Bold" in style.fontName or style.name.startswith(("Heading", "Title")) else regular
            style.wordWrap = "CJK" if regular != "DejaVuSans" else style.wordWrap  # Chinese breaks between any two characters
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9, textColor=colors.HexColor("#555555"))
    warning = styles["BodyText"].clone("warning", textColor=colors.HexColor("#b02a25"), backColor=colors.HexColor("#fdecea"), borderPadding=4)
    quote = styles["BodyText"].clone("quote", fontSize=8.5, leading=10.5, textColor=colors.HexColor("#444444"), leftIndent=8)
    cell_style = styles["BodyText"].clone("cell", fontSize=7, leading=8.2)
    kpi_style = TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f4f3fb")),
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("FONTNAME", (0, 1), (-1, 1), bold),
            ("FONTSIZE", (0, 0), (-1, 0), 8),
            ("FONTSIZE", (0, 1), (-1, 1), 14),
            ("FONTSIZE", (0, 2), (-1, 2), 8),
            ("LEADING", (0, 1), (-1, 1), 17),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor("#555555")),
            ("LINEAFTER", (0, 0), (-2, -1), 2, colors.white),
        ]
    )
    grid_style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f3fb")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
    )
    headings = {1: styles["Heading1"], 2: styles["Heading2"], 3: styles["Heading3"]}
    e = html.escape
    story = []
    for block in blocks:
        if block.kind == "title":
            story.append(Paragraph(e(block.text), styles["Title"]))
        elif block.kind == "meta":
            story += [Paragraph(e(block.text), small), Spacer(1, 0.3 * cm)]
        elif block.kind == "warning":
            story += [Paragraph(e(block.text), warning), Spacer(1, 0.3 * cm)]
        elif block.kind == "kpis":
            rows = [[n for n, _, _ in block.items], [v for _, v, _ in block.items], [c or "–" for _, _, c in block.items]]
            story.append(Table(rows, colWidths=[4.3 * cm] * len(block.items), style=kpi_style, hAlign="LEFT"))
        elif block.kind == "small":
            story.append(Paragraph(e(block.text), small))
        elif block.kind == "heading":
            story.append(Paragraph(e(block.text), headings[block.level]))
        elif block.kind == "paragraph":
            story.append(Paragraph(e(block.text), styles["BodyText"]))
        elif block.kind == "charts" and block.charts:
            images = [chart_png(chart, report, text) for chart in block.charts]
            if block.level == 1 and len(images) == 1:
                story.append(Image(io.BytesIO(images[0]), width=17.2 * cm, height=5.6 * cm))  # with two notes above it, page one still holds the summary
            else:
                story.append(
                    Table(
                        [[Image(io.BytesIO(image), width=8.5 * cm, height=5.55 * cm) for image in images[i : i + 2]] for i in range(0, len(images), 2)],
                        hAlign="LEFT",
                    )
                )
        elif block.kind == "issues":
            items = [
                ListItem([Paragraph(f"<b>{e(head)}</b>", styles["BodyText"])] + ([Paragraph(f"“{e(example)}”", quote)] if example else []))
                for head, example in block.items
            ]
            story.append(ListFlowable(items, bulletType="bullet", bulletFontName=regular))
        elif block.kind == "bullets":
            story.append(ListFlowable([ListItem(Paragraph(e(line), styles["BodyText"])) for line in block.items], bulletType="bullet", bulletFontName=regular))
        elif block.kind == "pagebreak":
            story.append(PageBreak())
        elif block.kind == "table":
            cells = [[_cell(v) for v in values] for values in block.table.itertuples(index=False)]
            rows = [[Paragraph(e(str(c)), cell_style) for c in block.table.columns]] + [[Paragraph(e(v), cell_style) for v in values] for values in cells]
            story.append(Table(rows, colWidths=_widths(block.table.columns, cells, 17.8 * cm), style=grid_style, hAlign="LEFT", repeatRows=1))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=report.title, leftMargin=1.6 * cm, rightMargin=1.6 * cm, topMargin=1.4 * cm, bottomMargin=1.4 * cm).build(
        story
    )
    return buffer.getvalue()


def render_xlsx(report: Report) -> bytes:
    say = report.say
    items = [say("title"), say("period"), say("summary"), *[say("recommendation {number}", number=i + 1) for i in range(len(report.recommendations))]]
    sheets = {say("Summary"): pd.DataFrame({say("item"): items, say("value"): [report.title, _period_text(report), report.summary, *report.recommendations]})}
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
