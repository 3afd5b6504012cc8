"""A report's content: the figures (computed by code), a summary by the active model that may cite
only those figures (asked once: a summary that fails the number check is replaced by one code writes
from the figures, without asking again), the top issues with example reviews, recommendations, and
appendix tables aggregated to the report's granularity."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from core.db import utcnow
from core.errors import LLMError, UserError
from core.grounding import figures_cited, figures_not_in
from core.llm import complete
from core.llm.guarded import guard
from core.mail.queue import activity_frame
from core.sentiment.datasets import get_dataset
from core.sentiment.insights import Dashboard, dashboard, default_period, period_labels
from core.text import trim_to
from core.usage import calls_frame, totals

APPENDIX_ROWS = 10  # rows of each detailed table in the PDF and DOCX appendix (the Excel file has them all)


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
    issues: list[dict] = field(default_factory=list)
    usage: pd.DataFrame | None = None
    email: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report by sheet name (the Excel file is exactly these, every row)."""
        b = self.board
        k = b.kpis
        kpi = pd.DataFrame(
            [
                {"measure": name, "value": round(getattr(k, attr), 1) if attr != "volume" else k.volume,
                 "change": None if k.delta(attr) is None else round(k.delta(attr), 1), "change_basis": k.basis}
                for name, attr in (("reviews", "volume"), ("positive share %", "positive_share"), ("negative share %", "negative_share"), ("net sentiment", "net_sentiment"))
            ]
        )
        tables = {
            "KPIs": kpi,
            f"Over time (per {b.every})": b.over_time.assign(period=period_labels(b.over_time["period"], b.every), net_sentiment=b.over_time["net_sentiment"].round(1)),
            "By product": b.by_product.round(2),
            "By channel": b.by_channel.round(2),
            "By language": b.by_language.round(2),
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

    def appendix(self, rows: int = APPENDIX_ROWS) -> list[tuple[str, pd.DataFrame, int]]:
        """(name, the first `rows` rows, how many there are) for the PDF and DOCX appendix; the trend
        table is whole (its granularity keeps it to tens of rows), the rest are cut to the top rows."""
        out = []
        for name, table in self.tables().items():
            if name == "KPIs" or table.empty:
                continue
            whole = name.startswith("Over time")
            out.append((name, table if whole else table.head(rows), len(table)))
        return out


def _facts(board: Dashboard) -> dict:
    k = board.kpis
    facts = {
        "reviews": k.volume,
        "positive_share_pct": round(k.positive_share, 1),
        "negative_share_pct": round(k.negative_share, 1),
        "net_sentiment": round(k.net_sentiment, 1),
    }
    if k.delta("negative_share") is not None:
        facts.update(
            change_basis=k.basis,
            compared_reviews=k.previous.volume,
            negative_share_change_points=round(k.delta("negative_share"), 1),
            net_sentiment_change=round(k.delta("net_sentiment"), 1),
        )
    if not board.themes.empty:
        worst = board.themes.sort_values("negative_share", ascending=False).iloc[0]
        facts.update(most_negative_theme=worst["theme"], most_negative_theme_negative_share_pct=round(float(worst["negative_share"]), 1))
    if not board.by_product.empty:
        worst = board.by_product[board.by_product["volume"] >= 5].sort_values("net_sentiment").head(1)
        if len(worst):
            facts.update(weakest_product=str(worst.iloc[0]["product"]), weakest_product_net_sentiment=round(float(worst.iloc[0]["net_sentiment"]), 1))
    if board.rating and board.rating["balanced_agreement"] is not None:
        facts.update(star_agreement_pct=round(100 * board.rating["agreement"], 1), star_agreement_balanced_pct=round(100 * board.rating["balanced_agreement"], 1), clearly_rated_reviews=board.rating["clear_rows"])
    facts["alerts_fired"] = int(len(board.alerts))
    return facts


MIN_FIGURES_CITED = 2
MAX_SUMMARY_WORDS = 120


def summary_problems(text: str, facts: dict, period: tuple) -> list[str]:
    """Why a model's summary cannot be used: wrong numbers, too few of the figures, or rambling."""
    unknown = figures_not_in(text, facts, period)
    problems = [f"figures not in the data: {', '.join(unknown[:5])}"] if unknown else []
    cited = figures_cited(text, facts)
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
        change = facts["negative_share_change_points"]
        direction = "up" if change > 0 else "down" if change < 0 else "unchanged, moving"
        parts.append(f"The negative share is {direction} {abs(facts['negative_share_change_points'])} points ({facts['change_basis']}, {facts['compared_reviews']:,} reviews).")
    if "most_negative_theme" in facts:
        parts.append(f"The most negative theme is {facts['most_negative_theme']} ({facts['most_negative_theme_negative_share_pct']}% negative).")
    if "weakest_product" in facts:
        parts.append(f"The weakest product is {facts['weakest_product']} (net sentiment {facts['weakest_product_net_sentiment']:+}).")
    if "star_agreement_pct" in facts:
        parts.append(f"Sentiment agrees with the star ratings on {facts['star_agreement_pct']}% of {facts['clearly_rated_reviews']:,} clearly rated reviews ({facts['star_agreement_balanced_pct']}% balanced).")
    if facts["alerts_fired"]:
        parts.append(f"{facts['alerts_fired']} alerts fired.")
    return " ".join(parts)


def write_summary(facts: dict, period: tuple, spec=None) -> tuple[str, str, list[str]]:
    """(summary, source, notes): the model's summary if every number in it is a computed figure;
    otherwise the template. The model is asked once: on a backend that cannot pass the number check,
    asking again costs minutes and rarely passes."""
    messages = [
        {"role": "system", "content": "You write short, plain business summaries. Never invent figures."},
        {"role": "user", "content": "Write a 3-sentence executive summary of customer review sentiment for a marketing lead. "
         "Use only these figures, exactly as given, and no other numbers:\n" + json.dumps(facts)},
    ]
    try:
        text = complete(messages, spec=spec, page="reports", max_tokens=120, temperature=0.2).text.strip()
    except LLMError as error:
        return template_summary(facts), "template", [f"The model could not write the summary ({error}); the template was used instead."]
    result = guard(text, lambda text: summary_problems(text, facts, period), lambda text, problems: template_summary(facts))
    if result.source == "fallback":
        return result.value, "template", [f"The model's summary was not used ({'; '.join(result.rounds[-1])}); the summary written from the figures was used instead."]
    return result.value, "model", []


def top_issues(board: Dashboard, count: int = 3) -> list[dict]:
    """The themes most often negative (in at least five reviews), each with a short negative review
    that shows it."""
    reviews = board.reviews
    issues = []
    for row in board.themes[board.themes["volume"] >= 5].sort_values("negative_share", ascending=False).head(count).itertuples():
        if row.negative_share < 10:
            break
        negative = reviews[(reviews["sentiment"] == "negative") & reviews["themes"].str.contains(row.theme, regex=False)]
        example = negative.assign(length=negative["text"].str.len()).query("length >= 30").nsmallest(1, "score") if len(negative) else negative
        issues.append(
            {
                "theme": row.theme,
                "volume": int(row.volume),
                "negative_share": round(float(row.negative_share), 1),
                "example": _excerpt(example["text"].iloc[0]) if len(example) else "",
            }
        )
    return issues


def _excerpt(text: str, limit: int = 220) -> str:
    return trim_to(" ".join(str(text).split()), limit)


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
    table["text"] = table["text"].map(_excerpt)
    return table.reset_index(drop=True)


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
    board = dashboard(dataset_id, start=start, end=end, products=products, channels=channels)
    if board.reviews.empty:
        raise UserError("There are no scored reviews in that period and filter.")
    facts = _facts(board)
    summary, source, notes = write_summary(facts, (start, end), spec)
    usage = None
    if include_usage:
        calls = calls_frame()
        usage = totals(calls, "page") if not calls.empty else None
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
        issues=top_issues(board),
        usage=usage,
        email=None if email.empty else email,
        notes=[n for n in (board.warning, *notes, board.language_notice) if n],
    )


