"""A report's content: the figures (computed by code), a summary by the active model that may cite
only those figures (one rewrite, then a summary code writes), recommendations and notable reviews."""
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
from core.sentiment.insights import Dashboard, dashboard, default_period
from core.usage import calls_frame, totals


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
            "By language": b.by_language,
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
    messages = [
        {"role": "system", "content": "You write short, plain business summaries. Never invent figures."},
        {"role": "user", "content": "Write a 3-sentence executive summary of customer review sentiment for a marketing lead. "
         "Use only these figures, exactly as given, and no other numbers:\n" + json.dumps(facts)},
    ]

    def ask(conversation: list[dict]) -> str:
        return complete(conversation, spec=spec, page="reports", max_tokens=120, temperature=0.2).text.strip()

    def rewrite(text: str, problems: list[str]) -> str:
        return ask(messages + [{"role": "assistant", "content": text}, {"role": "user", "content": f"Not usable: {'; '.join(problems)}. Rewrite it, citing the given figures exactly."}])

    try:
        first = ask(messages)
    except LLMError as error:
        return template_summary(facts), "template", [f"The model could not write the summary ({error}); the template was used instead."]
    result = guard(first, lambda text: summary_problems(text, facts, period), lambda text, problems: template_summary(facts), repair=rewrite)
    last = len(result.rounds) - 1 if result.source == "fallback" else None  # the refusal that handed over to the template
    notes = [
        f"The model's summary was not used ({'; '.join(problems)}); " + ("the template was used instead." if n == last else "asked for a rewrite.")
        for n, problems in enumerate(result.rounds)
    ]
    return result.value, "template" if result.source == "fallback" else "model", notes


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
        usage=usage,
        email=None if email.empty else email,
        notes=notes + ([board.language_notice] if board.language_notice else []),
    )


