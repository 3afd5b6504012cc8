"""Executive reports on a sentiment dataset: figures computed by code, a summary written by the
active model and checked number by number, and four formats (PDF, DOCX, self-contained HTML, Excel).

Static chart images are drawn with matplotlib (Agg): it needs no browser and downloads nothing,
so PDF and DOCX charts render offline on a fresh machine. Plotly's own image export (kaleido)
drives a Chrome it must find or fetch, which this product cannot rely on. The HTML report embeds
plotly.js inline, so its charts stay interactive without any external script.
"""
from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from core.config import data_dir
from core.db import ReportDefinition, ReportRun, session_scope, utcnow
from core.exports import to_xlsx_bytes
from core.insights import Dashboard, dashboard, date_range
from core.sentiment import get_dataset

FORMATS = ("pdf", "docx", "html", "xlsx")
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")


@dataclass
class Report:
    title: str
    dataset_name: str
    period: tuple[date | None, date | None]
    generated_at: datetime
    board: Dashboard
    facts: dict
    summary: str
    summary_source: str
    recommendations: list[str]
    notable: pd.DataFrame
    usage: pd.DataFrame | None = None
    email: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report by sheet name (the Excel file is exactly these)."""
        b = self.board
        kpi = pd.DataFrame(
            [
                {"measure": "reviews", "value": b.kpis.volume, "previous_period": None if b.kpis.previous is None else b.kpis.previous.volume},
                {"measure": "positive share %", "value": round(b.kpis.positive_share, 1), "previous_period": None if b.kpis.previous is None else round(b.kpis.previous.positive_share, 1)},
                {"measure": "negative share %", "value": round(b.kpis.negative_share, 1), "previous_period": None if b.kpis.previous is None else round(b.kpis.previous.negative_share, 1)},
                {"measure": "net sentiment", "value": round(b.kpis.net_sentiment, 1), "previous_period": None if b.kpis.previous is None else round(b.kpis.previous.net_sentiment, 1)},
            ]
        )
        tables = {
            "KPIs": kpi,
            "Over time": b.over_time,
            "By product": b.by_product,
            "By channel": b.by_channel,
            "Themes": b.themes.round(3),
            "Negative drivers": b.drivers["negative"].round(2),
            "Positive drivers": b.drivers["positive"].round(2),
            "Notable reviews": self.notable,
            "Alerts": b.alerts,
        }
        if self.email is not None:
            tables["Email replies"] = self.email
        if self.usage is not None:
            tables["LLM usage"] = self.usage
        return {name: table for name, table in tables.items() if table is not None}


def _facts(board: Dashboard) -> dict:
    k = board.kpis
    facts = {
        "reviews": k.volume,
        "positive_share_pct": round(k.positive_share, 1),
        "negative_share_pct": round(k.negative_share, 1),
        "net_sentiment": round(k.net_sentiment, 1),
    }
    if k.previous is not None and k.previous.volume:
        facts.update(
            previous_reviews=k.previous.volume,
            negative_share_change_points=round(k.negative_share - k.previous.negative_share, 1),
            net_sentiment_change=round(k.net_sentiment - k.previous.net_sentiment, 1),
        )
    if not board.themes.empty:
        worst = board.themes.sort_values("negative_share", ascending=False).iloc[0]
        facts.update(most_negative_theme=worst["theme"], most_negative_theme_negative_share_pct=round(float(worst["negative_share"]), 1))
    if not board.by_product.empty:
        worst = board.by_product[board.by_product["volume"] >= 5].sort_values("net_sentiment").head(1)
        if len(worst):
            facts.update(weakest_product=str(worst.iloc[0]["product"]), weakest_product_net_sentiment=round(float(worst.iloc[0]["net_sentiment"]), 1))
    facts["alerts_fired"] = int(len(board.alerts))
    return facts


def _allowed_numbers(facts: dict, period: tuple) -> set[float]:
    allowed: set[float] = set()
    for value in facts.values():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for variant in (value, round(value), round(value, 1), abs(value), abs(round(value)), abs(round(value, 1))):
                allowed.add(float(variant))
    for day in period:
        if day:
            allowed.update({float(day.year), float(day.month), float(day.day)})
    return allowed


def _matches(value: float, allowed: set[float]) -> bool:
    return any(abs(abs(value) - candidate) < 0.051 for candidate in allowed)


def numbers_check(text: str, facts: dict, period: tuple) -> list[str]:
    """The numbers in a text that are not among the computed figures (empty when all are)."""
    allowed = _allowed_numbers(facts, period)
    return [match.rstrip(",") for match in NUMBER.findall(text) if not _matches(float(match.replace(",", "")), allowed)]


MIN_FIGURES_CITED = 2
MAX_SUMMARY_WORDS = 120


def summary_problems(text: str, facts: dict, period: tuple) -> list[str]:
    """Why a model's summary cannot be used: wrong numbers, too few of the figures, or rambling."""
    problems = [f"figures not in the data: {', '.join(numbers_check(text, facts, period)[:5])}"] if numbers_check(text, facts, period) else []
    cited = {match for match in NUMBER.findall(text) if _matches(float(match.replace(",", "")), _allowed_numbers(facts, {}))}
    if len(cited) < MIN_FIGURES_CITED:
        problems.append(f"it cites {len(cited)} of the computed figures (at least {MIN_FIGURES_CITED} needed)")
    if len(text.split()) > MAX_SUMMARY_WORDS:
        problems.append(f"it runs to {len(text.split())} words (at most {MAX_SUMMARY_WORDS})")
    return problems


def template_summary(facts: dict) -> str:
    """The summary written by code from the figures alone: used when the model's one is wrong."""
    parts = [
        f"This period had {facts['reviews']:,} reviews: {facts['positive_share_pct']}% positive and "
        f"{facts['negative_share_pct']}% negative, a net sentiment of {facts['net_sentiment']:+}."
    ]
    if "negative_share_change_points" in facts:
        direction = "up" if facts["negative_share_change_points"] > 0 else "down"
        parts.append(f"The negative share is {direction} {abs(facts['negative_share_change_points'])} points on the previous period ({facts['previous_reviews']:,} reviews).")
    if "most_negative_theme" in facts:
        parts.append(f"The most negative theme is {facts['most_negative_theme']} ({facts['most_negative_theme_negative_share_pct']}% negative).")
    if "weakest_product" in facts:
        parts.append(f"The weakest product is {facts['weakest_product']} (net sentiment {facts['weakest_product_net_sentiment']:+}).")
    if facts["alerts_fired"]:
        parts.append(f"{facts['alerts_fired']} alerts fired.")
    return " ".join(parts)


def write_summary(facts: dict, period: tuple, spec=None) -> tuple[str, str, list[str]]:
    """(summary, source, notes): the model's summary if every number in it is a computed figure,
    after at most one rewrite; otherwise the template."""
    from core.llm import LLMError, complete

    prompt = (
        "Write a 3-sentence executive summary of customer review sentiment for a marketing lead. "
        "Use only these figures, exactly as given, and no other numbers:\n" + json.dumps(facts)
    )
    messages = [{"role": "system", "content": "You write short, plain business summaries. Never invent figures."}, {"role": "user", "content": prompt}]
    notes = []
    try:
        for attempt in range(2):
            text = complete(messages, spec=spec, page="reports", max_tokens=120, temperature=0.2).text.strip()
            problems = summary_problems(text, facts, period)
            if not problems:
                return text, "model", notes
            notes.append(f"The model's summary was not used ({'; '.join(problems)}); " + ("asked for a rewrite." if attempt == 0 else "the template was used instead."))
            messages += [{"role": "assistant", "content": text}, {"role": "user", "content": f"Not usable: {'; '.join(problems)}. Rewrite it, citing the given figures exactly."}]
    except LLMError as error:
        notes.append(f"The model could not write the summary ({error}); the template was used instead.")
    return template_summary(facts), "template", notes


def recommendations(board: Dashboard) -> list[str]:
    out = []
    themes = board.themes[board.themes["volume"] >= 5].sort_values("negative_share", ascending=False)
    for row in themes.head(2).itertuples():
        if row.negative_share >= 40:
            out.append(f"Look into {row.theme}: {row.negative_share:.0f}% of the {row.volume:,} reviews that mention it are negative.")
    products = board.by_product[board.by_product["volume"] >= 5].sort_values("net_sentiment")
    for row in products.head(1).itertuples():
        if row.net_sentiment < 0:
            out.append(f"Review {row.product}: its net sentiment is {row.net_sentiment:+.0f} over {row.volume:,} reviews.")
    if not board.drivers["negative"].empty:
        terms = ", ".join(f"'{t}'" for t in board.drivers["negative"]["term"].head(3))
        out.append(f"Answer the complaints behind {terms} in support replies and product copy.")
    if not board.drivers["positive"].empty:
        terms = ", ".join(f"'{t}'" for t in board.drivers["positive"]["term"].head(3))
        out.append(f"Use what customers praise ({terms}) in marketing content.")
    if not board.alerts.empty:
        out.append(f"{len(board.alerts)} alert(s) fired: check the alerts table and the reviews behind them.")
    return out or ["No theme, product or alert stands out this period; keep monitoring."]


def notable_reviews(board: Dashboard, per_side: int = 5) -> pd.DataFrame:
    scored = board.reviews[board.reviews["score"].notna()]
    sides = [scored.nsmallest(per_side, "score"), scored.nlargest(per_side, "score")]
    table = pd.concat(sides)[["date", "product", "channel", "sentiment", "score", "text"]].copy()
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    table["text"] = table["text"].str.slice(0, 400)
    return table.reset_index(drop=True)


def default_period(dataset_id: int, days: int = 30) -> tuple[date | None, date | None]:
    low, high = date_range(dataset_id)
    if high is None:
        return None, None
    return max(low.date(), high.date() - timedelta(days=days - 1)), high.date()


def build_report(
    dataset_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    products=(),
    channels=(),
    spec=None,
    include_usage: bool = True,
    title: str | None = None,
) -> Report:
    dataset = get_dataset(dataset_id)
    if start is None and end is None:
        start, end = default_period(dataset_id)
    board = dashboard(dataset_id, start=start, end=end, every="week", products=products, channels=channels)
    if board.reviews.empty:
        raise ValueError("There are no scored reviews in that period and filter.")
    facts = _facts(board)
    summary, source, notes = write_summary(facts, (start, end), spec)
    usage = None
    if include_usage:
        from core.usage import calls_frame, totals

        calls = calls_frame()
        usage = totals(calls, "page") if not calls.empty else None
    from core.email import activity_frame

    email = activity_frame()
    return Report(
        title=title or f"Customer sentiment: {dataset.name}",
        dataset_name=dataset.name,
        period=(start, end),
        generated_at=utcnow(),
        board=board,
        facts=facts,
        summary=summary,
        summary_source=source,
        recommendations=recommendations(board),
        notable=notable_reviews(board),
        usage=usage,
        email=None if email.empty else email,
        notes=notes,
    )


# --- charts ------------------------------------------------------------------------------------

from core.charts import SENTIMENT_COLOURS as COLOURS  # noqa: E402  (one palette for app and reports)


def chart_specs(report: Report) -> list[tuple[str, pd.DataFrame, str, bool]]:
    b = report.board
    specs = []
    if not b.over_time.empty:
        specs.append(("Sentiment over time (reviews per week)", b.over_time.assign(period=b.over_time["period"].dt.strftime("%d %b")), "period", False))
    if not b.by_product.empty:
        specs.append(("By product", b.by_product.head(12), "product", True))
    if not b.by_channel.empty:
        specs.append(("By channel", b.by_channel.head(12), "channel", True))
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

    from core.charts import stacked_labels, theme_bars

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


# --- saved definitions and history -------------------------------------------------------------


def save_definition(definition: ReportDefinition) -> ReportDefinition:
    with session_scope() as session:
        session.add(definition)
        session.commit()
        session.refresh(definition)
    return definition


def definitions() -> list[ReportDefinition]:
    from sqlmodel import select

    with session_scope() as session:
        return list(session.exec(select(ReportDefinition).order_by(ReportDefinition.created_at.desc())))


def run_definition(definition: ReportDefinition, *, spec=None, formats=FORMATS) -> ReportRun:
    """Build the saved report for the last `period_days` days of its dataset and keep its files."""
    start, end = default_period(definition.dataset_id, definition.period_days)
    report = build_report(
        definition.dataset_id, start=start, end=end, products=json.loads(definition.products), channels=json.loads(definition.channels),
        spec=spec, include_usage=definition.include_usage, title=definition.name,
    )
    return store_run(report, definition_id=definition.id, dataset_id=definition.dataset_id, formats=formats)


def store_run(report: Report, *, dataset_id: int, definition_id: int | None = None, formats=FORMATS) -> ReportRun:
    folder = data_dir() / "reports" / f"{utcnow():%Y%m%d-%H%M%S}-{dataset_id}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt in formats:
        path = folder / f"report.{fmt}"
        path.write_bytes(render(report, fmt))
        files[fmt] = str(path)
    run = ReportRun(
        definition_id=definition_id,
        dataset_id=dataset_id,
        title=report.title,
        period_start=str(report.period[0] or ""),
        period_end=str(report.period[1] or ""),
        summary_source=report.summary_source,
        files=json.dumps(files),
    )
    with session_scope() as session:
        session.add(run)
        session.commit()
        session.refresh(run)
    return run


def history() -> pd.DataFrame:
    from sqlmodel import select

    with session_scope() as session:
        rows = [r.model_dump() for r in session.exec(select(ReportRun).order_by(ReportRun.created_at.desc()))]
    return pd.DataFrame(rows, columns=["id", "definition_id", "dataset_id", "title", "period_start", "period_end", "summary_source", "files", "created_at"])


def stored_file(path: str) -> bytes | None:
    """A past report's file, if it still exists under the data folder."""
    candidate = Path(path)
    try:
        candidate.resolve().relative_to(data_dir().resolve())
    except ValueError:
        return None
    return candidate.read_bytes() if candidate.exists() else None
