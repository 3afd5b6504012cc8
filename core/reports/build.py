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
from core.i18n import N_, Msg, Signed, language_name, render
from core.llm import complete
from core.llm.guarded import guard
from core.mail.queue import activity_frame
from core.sentiment.datasets import get_dataset
from core.sentiment.insights import Dashboard, dashboard, default_period, period_labels
from core.text import LANGUAGE_NAMES, UNKNOWN, detect_languages, trim_to
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
    language: str = "en"

    def say(self, text: str, **values) -> str:
        """A sentence of the report in its language."""
        return Msg(text, **values).render(self.language)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report by sheet name, names and headers in the report's language (the
        Excel file is exactly these, every row)."""
        b = self.board
        k = b.kpis
        kpi = pd.DataFrame(
            [
                {
                    "measure": self.say(name),
                    "value": round(getattr(k, attr), 1) if attr != "volume" else k.volume,
                    "change": None if k.delta(attr) is None else round(k.delta(attr), 1),
                    "change_basis": render(k.basis, self.language),
                }
                for name, attr in (
                    (N_("reviews"), "volume"),
                    (N_("positive share %"), "positive_share"),
                    (N_("negative share %"), "negative_share"),
                    (N_("net sentiment"), "net_sentiment"),
                )
            ]
        )
        over_time = b.over_time.assign(period=period_labels(b.over_time["period"], b.every, self.language), net_sentiment=b.over_time["net_sentiment"].round(1))
        tables = {
            N_("KPIs"): kpi,
            TREND_TABLE: over_time,
            N_("By product"): b.by_product.round(2),
            N_("By channel"): b.by_channel.round(2),
            N_("By language"): b.by_language.round(2),
            N_("Themes"): b.themes.round(3),
            N_("Negative drivers"): b.drivers["negative"].round(2),
            N_("Positive drivers"): b.drivers["positive"].round(2),
            N_("Notable reviews"): self.notable,
            N_("Alerts"): b.alerts,
            N_("Email replies"): self.email,
            N_("LLM usage"): self.usage,
        }
        return {
            self.say(name, every=self.say(b.every)): table.rename(columns=lambda c: self.say(COLUMN_NAMES[c]) if c in COLUMN_NAMES else c)
            for name, table in tables.items()
            if table is not None
        }

    def appendix(self, rows: int = APPENDIX_ROWS) -> list[tuple[str, pd.DataFrame, int]]:
        """(name, the first `rows` rows, how many there are) for the PDF and DOCX appendix; the trend
        table is whole (its granularity keeps it to tens of rows), the rest are cut to the top rows."""
        out = []
        trend = self.say(TREND_TABLE, every=self.say(self.board.every))
        for name, table in list(self.tables().items())[1:]:  # the KPIs are on page one
            if not table.empty:
                out.append((name, table if name == trend else table.head(rows), len(table)))
        return out


TREND_TABLE = N_("Over time (per {every})")
# Table headers a reader sees, by the column's name in code.
COLUMN_NAMES = {
    "period": N_("period"),
    "volume": N_("reviews"),
    "negative": N_("negative"),
    "neutral": N_("neutral"),
    "positive": N_("positive"),
    "net_sentiment": N_("net sentiment"),
    "mean_score": N_("mean score"),
    "negative_share": N_("negative %"),
    "positive_share": N_("positive %"),
    "product": N_("product"),
    "channel": N_("channel"),
    "language": N_("language"),
    "name": N_("language name"),
    "measured": N_("accuracy measured"),
    "theme": N_("theme"),
    "term": N_("term"),
    "z": N_("strength (z)"),
    "date": N_("date"),
    "sentiment": N_("sentiment"),
    "score": N_("score"),
    "text": N_("review"),
    "measure": N_("measure"),
    "value": N_("value"),
    "change": N_("change"),
    "change_basis": N_("compared"),
}


def _facts(board: Dashboard, language: str = "en") -> dict:
    k = board.kpis
    facts = {
        "reviews": k.volume,
        "positive_share_pct": round(k.positive_share, 1),
        "negative_share_pct": round(k.negative_share, 1),
        "net_sentiment": round(k.net_sentiment, 1),
    }
    if k.delta("negative_share") is not None:
        facts.update(
            change_basis=render(k.basis, language),
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
        facts.update(
            star_agreement_pct=round(100 * board.rating["agreement"], 1),
            star_agreement_balanced_pct=round(100 * board.rating["balanced_agreement"], 1),
            clearly_rated_reviews=board.rating["clear_rows"],
        )
    facts["alerts_fired"] = int(len(board.alerts))
    return facts


MIN_FIGURES_CITED = 2
MAX_SUMMARY_WORDS = 120


def summary_problems(text: str, facts: dict, period: tuple, language: str = "en") -> list[str]:
    """Why a model's summary cannot be used: wrong numbers, too few of the figures, or rambling."""
    unknown = figures_not_in(text, facts, period, language)
    problems = [Msg("figures not in the data: {figures}", figures=", ".join(unknown[:5]))] if unknown else []
    cited = figures_cited(text, facts, language)
    if len(cited) < MIN_FIGURES_CITED:
        problems.append(Msg("it cites {cited} of the computed figures (at least {needed} needed)", cited=len(cited), needed=MIN_FIGURES_CITED))
    if len(text.split()) > MAX_SUMMARY_WORDS:
        problems.append(Msg("it runs to {words} words (at most {most})", words=len(text.split()), most=MAX_SUMMARY_WORDS))
    written_in = detect_languages([text])[0]
    if written_in not in (language, UNKNOWN):  # a small model asked for Chinese often answers in English
        problems.append(Msg("it is written in {found}, not in {wanted}", found=language_name(written_in, language), wanted=language_name(language, language)))
    return [problem.render(language) for problem in problems]


def template_summary(facts: dict, language: str = "en") -> str:
    """The summary written by code from the figures alone, in the report's language: used when the model's one is wrong."""
    parts = [
        Msg(
            "This period had {reviews} reviews: {positive}% positive and {negative}% negative, a net sentiment of {net}.",
            reviews=facts["reviews"],
            positive=facts["positive_share_pct"],
            negative=facts["negative_share_pct"],
            net=Signed(facts["net_sentiment"]),
        )
    ]
    if "negative_share_change_points" in facts:
        change = facts["negative_share_change_points"]
        text = (
            N_("The negative share is up {points} points ({basis}, {reviews} reviews).")
            if change > 0
            else N_("The negative share is down {points} points ({basis}, {reviews} reviews).")
            if change < 0
            else N_("The negative share is unchanged ({basis}, {reviews} reviews).")
        )
        parts.append(Msg(text, points=abs(change), basis=facts["change_basis"], reviews=facts["compared_reviews"]))
    if "most_negative_theme" in facts:
        parts.append(
            Msg(
                "The most negative theme is {theme} ({share}% negative).",
                theme=Msg(facts["most_negative_theme"]),
                share=facts["most_negative_theme_negative_share_pct"],
            )
        )
    if "weakest_product" in facts:
        parts.append(
            Msg("The weakest product is {product} (net sentiment {net}).", product=facts["weakest_product"], net=Signed(facts["weakest_product_net_sentiment"]))
        )
    if "star_agreement_pct" in facts:
        parts.append(
            Msg(
                "Sentiment agrees with the star ratings on {share}% of {rows} clearly rated reviews ({balanced}% balanced).",
                share=facts["star_agreement_pct"],
                rows=facts["clearly_rated_reviews"],
                balanced=facts["star_agreement_balanced_pct"],
            )
        )
    if facts["alerts_fired"]:
        parts.append(Msg("{count} alerts fired.", count=facts["alerts_fired"]))
    return ("" if language == "zh" else " ").join(part.render(language) for part in parts)  # Chinese sentences run on without spaces


def write_summary(facts: dict, period: tuple, spec=None, language: str = "en") -> tuple[str, str, list[str]]:
    """(summary, source, notes): the model's summary, asked for in the report's language, if every
    number in it is a computed figure (read with that language's decimal comma or point); otherwise
    the template. The model is asked once: on a backend that cannot pass the number check, asking
    again costs minutes and rarely passes."""
    messages = [
        {"role": "system", "content": "You write short, plain business summaries. Never invent figures."},
        {
            "role": "user",
            "content": f"Write a 3-sentence executive summary of customer review sentiment for a marketing lead, in {LANGUAGE_NAMES.get(language, 'English')}. "
            "Use only these figures, exactly as given, and no other numbers:\n" + json.dumps(facts, ensure_ascii=False),
        },
    ]
    try:
        text = complete(messages, spec=spec, page="reports", max_tokens=160, temperature=0.2).text.strip()
    except LLMError as error:
        return (
            template_summary(facts, language),
            "template",
            [Msg("The model could not write the summary ({problem}); the template was used instead.", problem=render(error, language)).render(language)],
        )
    result = guard(text, lambda text: summary_problems(text, facts, period, language), lambda text, problems: template_summary(facts, language))
    if result.source == "fallback":
        return (
            result.value,
            "template",
            [
                Msg(
                    "The model's summary was not used ({problems}); the summary written from the figures was used instead.",
                    problems="; ".join(result.rounds[-1]),
                ).render(language)
            ],
        )
    return result.value, "model", []


def top_issues(board: Dashboard, count: int = 3) -> list[dict]:
    """The themes most often negative (in at least five reviews), each with a short negative review
    that shows it."""
    reviews = board.reviews
    issues = []
    for row in board.themes[board.themes["volume"] >= 5].sort_values("negative_share", ascending=False).head(count).itertuples():
        if row.negative_share < 10:
            break
        negative = reviews[(reviews["sentiment"] == "negative") & (reviews["themes"] == row.theme)]
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


def recommendations(board: Dashboard, language: str = "en") -> list[str]:
    out = []
    themes = board.themes[board.themes["volume"] >= 5].sort_values("negative_share", ascending=False)
    for row in themes.head(2).itertuples():
        if row.negative_share >= 40:
            out.append(
                Msg(
                    "Look into {theme}: {share}% of the {reviews} reviews that mention it are negative.",
                    theme=Msg(row.theme),
                    share=round(row.negative_share),
                    reviews=int(row.volume),
                )
            )
    products = board.by_product[board.by_product["volume"] >= 5].sort_values("net_sentiment")
    for row in products.head(1).itertuples():
        if row.net_sentiment < 0:
            out.append(
                Msg(
                    "Review {product}: its net sentiment is {net} over {reviews} reviews.",
                    product=row.product,
                    net=Signed(round(row.net_sentiment)),
                    reviews=int(row.volume),
                )
            )
    if not board.drivers["negative"].empty:
        terms = ", ".join(f"'{t}'" for t in board.drivers["negative"]["term"].head(3))
        out.append(Msg("Answer the complaints behind {terms} in support replies and product copy.", terms=terms))
    if not board.drivers["positive"].empty:
        terms = ", ".join(f"'{t}'" for t in board.drivers["positive"]["term"].head(3))
        out.append(Msg("Use what customers praise ({terms}) in marketing content.", terms=terms))
    if not board.alerts.empty:
        out.append(Msg("{count} alert(s) fired: check the alerts table and the reviews behind them.", count=len(board.alerts)))
    return [m.render(language) for m in out or [Msg("No theme, product or alert stands out this period; keep monitoring.")]]


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
    language: str = "en",
) -> Report:
    """The report of a dataset's period, every sentence in `language` (en, ro, pl or zh)."""
    dataset = get_dataset(dataset_id)
    if start is None and end is None:
        start, end = default_period(dataset_id)
    board = dashboard(dataset_id, start=start, end=end, products=products, channels=channels)
    if board.reviews.empty:
        raise UserError(Msg("There are no scored reviews in that period and filter."))
    facts = _facts(board, language)
    summary, source, notes = write_summary(facts, (start, end), spec, language)
    usage = None
    if include_usage:
        calls = calls_frame()
        usage = totals(calls, "page") if not calls.empty else None
    email = activity_frame()
    return Report(
        title=title or Msg("Customer sentiment: {name}", name=dataset.name).render(language),
        dataset_name=dataset.name,
        period=(start, end),
        generated_at=utcnow(),
        board=board,
        facts=facts,
        summary=summary,
        summary_source=source,
        recommendations=recommendations(board, language),
        notable=notable_reviews(board),
        issues=top_issues(board),
        usage=usage,
        email=None if email.empty else email,
        notes=[render(n, language) for n in (board.warning, *notes, board.language_notice) if n],
        language=language,
    )
