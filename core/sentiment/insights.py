"""What a sentiment dataset says: shares and their change, trends, by product and channel, agreement
with the stars, drivers and themes, all for one period and filter (the dashboard and the reports)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
from sqlalchemy import func
from sqlmodel import select

from core.db import Review, session_scope
from core.i18n import N_, Msg, format_month
from core.models.sentiment import LABELS
from core.sentiment.alerts import evaluate_alerts, rules_for
from core.sentiment.checks import agreement_warning, rating_agreement
from core.sentiment.datasets import get_dataset, language_notice, reviews_frame
from core.text import LANGUAGE_NAMES, READS_WELL, UNKNOWN, keywords_by_group

FREQUENCIES = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
# The bucket for a span of days: a trend chart of tens of points, not hundreds.
GRANULARITY = (("day", 60), ("week", 420), ("month", 1830), ("quarter", None))
LATEST_ON_PREVIOUS = {"day": N_("latest day on the day before"), "week": N_("latest week on the week before"),
                      "month": N_("latest month on the month before"), "quarter": N_("latest quarter on the quarter before")}
# The first view is the shortest of these recent windows that holds a meaningful share of the reviews.
RECENT_WINDOWS = (30, 90, 365)
MEANINGFUL_SHARE = 0.5


@dataclass
class Kpis:
    volume: int
    positive_share: float
    negative_share: float
    net_sentiment: float  # positive share minus negative share, in points
    previous: "Kpis | None" = None  # what the change is measured against
    latest: "Kpis | None" = None  # what is compared with `previous` when it is not the whole period
    basis: Msg | str = ""  # the comparison in words: "on the previous 30 days", "latest month on the month before"

    def delta(self, name: str) -> float | None:
        if self.previous is None or self.previous.volume == 0:
            return None
        return getattr(self.latest or self, name) - getattr(self.previous, name)


def _shares(frame: pd.DataFrame) -> Kpis:
    n = len(frame)
    if n == 0:
        return Kpis(0, 0.0, 0.0, 0.0)
    counts = frame["sentiment"].value_counts()
    pos, neg = 100 * counts.get("positive", 0) / n, 100 * counts.get("negative", 0) / n
    return Kpis(n, pos, neg, pos - neg)


def kpis(frame: pd.DataFrame, start=None, end=None, every: str | None = None) -> Kpis:
    """Volume and shares in [start, end], against the period of the same length just before it;
    when nothing came before (the period is all there is), the latest `every` against the one before."""
    scored = frame[frame["sentiment"].notna()]
    if start is None or end is None or scored["date"].isna().all():
        return _shares(scored)
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    current = scored[(scored["date"] >= start) & (scored["date"] < end)]
    result = _shares(current)
    before = _shares(scored[(scored["date"] >= start - (end - start)) & (scored["date"] < start)])
    if before.volume:
        result.previous, result.basis = before, Msg("on the previous {days} days", days=(end - start).days)
    elif every and current["date"].notna().any():
        buckets = current["date"].dt.tz_localize(None).dt.to_period(FREQUENCIES[every])
        last = buckets.max()
        earlier = _shares(current[buckets == last - 1])
        if earlier.volume:
            result.latest, result.previous, result.basis = _shares(current[buckets == last]), earlier, Msg(LATEST_ON_PREVIOUS[every])
    return result


def filter_period(frame: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    if start is None or end is None:
        return frame
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    return frame[(frame["date"] >= start) & (frame["date"] < end)]


def over_time(frame: pd.DataFrame, every: str = "week") -> pd.DataFrame:
    """Reviews per period and label, with the period's net sentiment."""
    dated = frame[frame["date"].notna() & frame["sentiment"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=["period", *LABELS, "volume", "net_sentiment"])
    periods = dated["date"].dt.tz_localize(None).dt.to_period(FREQUENCIES[every]).dt.start_time
    table = dated.groupby([periods.rename("period"), "sentiment"]).size().unstack(fill_value=0)
    table = table.reindex(columns=list(LABELS), fill_value=0).reset_index()
    table["volume"] = table[list(LABELS)].sum(axis=1)
    table["net_sentiment"] = 100 * (table["positive"] - table["negative"]) / table["volume"]
    return table


def by_column(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Counts per label and net sentiment for each product or channel, most reviewed first."""
    present = frame[(frame[column].astype(str) != "") & frame["sentiment"].notna()]
    if present.empty:
        return pd.DataFrame(columns=[column, *LABELS, "volume", "net_sentiment", "mean_score"])
    table = present.groupby([column, "sentiment"]).size().unstack(fill_value=0).reindex(columns=list(LABELS), fill_value=0)
    table["volume"] = table.sum(axis=1)
    table["net_sentiment"] = 100 * (table["positive"] - table["negative"]) / table["volume"]
    table["mean_score"] = present.groupby(column)["score"].mean()
    return table.sort_values("volume", ascending=False).reset_index()


def drivers(frame: pd.DataFrame, top: int = 15) -> dict[str, pd.DataFrame]:
    """The words and phrases that most set negative reviews apart from positive ones, and back."""
    scored = frame[frame["sentiment"].isin(["positive", "negative"])]
    languages = scored["language"].fillna(UNKNOWN)  # each review cut into words by its own language's rules
    found = keywords_by_group(scored["text"], scored["sentiment"], "negative", "positive", language=languages, top=top, min_count=2 if len(scored) < 500 else 3)
    return {label: pd.DataFrame(rows, columns=["term", "z", "negative", "positive"]) for label, rows in found.items()}


def theme_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per theme (found in the dataset's own reviews): volume, mean score and negative share, largest first."""
    scored = frame[frame["sentiment"].notna() & (frame["themes"].fillna("") != "")]
    columns = ["theme", "volume", "mean_score", "negative_share", "positive_share"]
    if scored.empty:
        return pd.DataFrame(columns=columns)
    grouped = scored.groupby("themes")
    table = pd.DataFrame(
        {
            "volume": grouped.size(),
            "mean_score": grouped["score"].mean(),
            "negative_share": 100 * grouped["sentiment"].apply(lambda s: (s == "negative").mean()),
            "positive_share": 100 * grouped["sentiment"].apply(lambda s: (s == "positive").mean()),
        }
    )
    return table.rename_axis("theme").reset_index()[columns].sort_values("volume", ascending=False).reset_index(drop=True)


def by_language(frame: pd.DataFrame) -> pd.DataFrame:
    """by_column over the review's language, named, with whether Mercury's reading of it is measured."""
    table = by_column(frame[["sentiment", "score"]].assign(language=frame["language"].fillna(UNKNOWN)), "language")
    table.insert(1, "name", table["language"].map(lambda code: LANGUAGE_NAMES.get(code, code)))
    table.insert(2, "measured", table["language"].isin(READS_WELL))
    return table


@dataclass
class Dashboard:
    reviews: pd.DataFrame  # the filtered reviews
    kpis: Kpis
    over_time: pd.DataFrame
    by_product: pd.DataFrame
    by_channel: pd.DataFrame
    by_language: pd.DataFrame
    language_notice: str | None
    themes: pd.DataFrame
    drivers: dict[str, pd.DataFrame]
    rating: dict | None
    alerts: pd.DataFrame
    unscored: int
    every: str = "week"
    warning: str | None = None  # sentiment and stars disagree: read this before the figures


def dashboard(dataset_id: int, *, start=None, end=None, every: str | None = None, products=(), channels=(), languages=()) -> Dashboard:
    """Everything the Sentiment page and the reports show for one dataset, period and filter; the
    trend's bucket follows the period's length unless `every` is given."""
    every = every or granularity_for(start, end)
    everything = reviews_frame(dataset_id)
    for column, chosen in (("product", products), ("channel", channels), ("language", languages)):
        if chosen:
            everything = everything[everything[column].isin(chosen)]
    current = filter_period(everything, start, end)
    languages_table = by_language(current)
    rating = rating_agreement(current)
    return Dashboard(
        reviews=current.assign(themes=current["themes"].fillna("")),
        kpis=kpis(everything, start, end, every),
        over_time=over_time(current, every),
        by_product=by_column(current, "product"),
        by_channel=by_column(current, "channel"),
        by_language=languages_table,
        language_notice=language_notice(dict(zip(languages_table["language"], languages_table["volume"]))),
        themes=theme_table(current),
        drivers=drivers(current),
        rating=rating,
        alerts=evaluate_alerts(everything, rules_for(dataset_id)),
        unscored=int((everything["sentiment"].isna() | everything["language"].isna() | everything["themes"].isna()).sum()),
        every=every,
        warning=agreement_warning(rating, (get_dataset(dataset_id).mapping or {}).get("text", "")),
    )


def filter_choices(dataset_id: int, *, start=None, end=None) -> dict:
    """What the page's filters offer for a period, read from the kept reviews without computing a
    dashboard: its products and channels (sorted), its languages by volume ({code: name})."""
    current = filter_period(reviews_frame(dataset_id), start, end)
    languages = current["language"].fillna(UNKNOWN).value_counts().index
    return {
        "product": sorted(p for p in current["product"].unique() if p),
        "channel": sorted(c for c in current["channel"].unique() if c),
        "language": {code: LANGUAGE_NAMES.get(code, code) for code in languages},
    }


def reviews_behind(reviews: pd.DataFrame, dimension: str, value, *, label: str | None = None, every: str = "week") -> pd.DataFrame:
    """The reviews behind one clicked chart element: a period (of `every`), a product or channel,
    a language (by name), a theme or a driver term; narrowed to one sentiment label when the element was one."""
    if dimension == "period":
        begins = pd.Timestamp(value, tz="UTC")
        ends = (begins.tz_localize(None).to_period(FREQUENCIES[every]).end_time + pd.Timedelta(microseconds=1)).tz_localize("UTC")
        reviews = reviews[(reviews["date"] >= begins) & (reviews["date"] < ends)]
    elif dimension in ("product", "channel"):
        reviews = reviews[reviews[dimension] == value]
    elif dimension == "language_name":
        reviews = reviews[reviews["language"].fillna(UNKNOWN).map(lambda code: LANGUAGE_NAMES.get(code, code)) == value]
    elif dimension == "theme":
        reviews = reviews[reviews["themes"] == str(value)]
    elif dimension == "term":
        reviews = reviews[reviews["text"].str.contains(str(value).split()[0], case=False, regex=False)]
    return reviews[reviews["sentiment"] == label] if label else reviews


def default_period(dataset_id: int, days: int | None = None) -> tuple[date | None, date | None]:
    """The first view's period: the last `days` days when given, else the shortest recent window
    (30, 90 or 365 days) holding at least half the dated reviews, else every date there is."""
    low, high = date_range(dataset_id)
    if high is None or days:
        return last_days(low, high, days or 30)
    dated = (Review.dataset_id == dataset_id) & Review.date.is_not(None)
    with session_scope() as session:  # counted by the database on its date index: the page asks on every rerun
        total = session.exec(select(func.count()).where(dated)).one()
        for window in RECENT_WINDOWS:
            start, end = last_days(low, high, window)
            since = datetime.combine(start, time.min, timezone.utc)
            if session.exec(select(func.count()).where(dated, Review.date >= since)).one() >= MEANINGFUL_SHARE * total:
                return start, end
    return low.date(), high.date()


def period_labels(periods: pd.Series, every: str, language: str = "en") -> list[str]:
    """A bucket's start as a reader names it, in the reader's language: 03 Mar, 03 Mar 2025,
    Mar 2025, Q1 2025 (gru 2025, 2025年12月 ...)."""
    stamps = pd.to_datetime(periods)
    if every == "quarter":
        return [Msg("Q{quarter} {year}", quarter=stamp.quarter, year=str(stamp.year)).render(language) for stamp in stamps]
    return [format_month(stamp, language, {"day": "dMMM", "week": "yMMMd", "month": "yMMM"}[every]) for stamp in stamps]


def granularity_for(start, end) -> str:
    """Day, week, month or quarter: whichever gives the period's trend tens of points."""
    if start is None or end is None:
        return "week"
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days + 1
    return next(name for name, most in GRANULARITY if most is None or days <= most)


def last_days(low, high, days: int = 30) -> tuple[date | None, date | None]:
    """The last `days` days up to high, not before low; (None, None) for undated data."""
    if high is None:
        return None, None
    return max(low.date(), high.date() - timedelta(days=days - 1)), high.date()


def date_range(dataset_id: int):
    with session_scope() as session:
        low, high = session.exec(select(func.min(Review.date), func.max(Review.date)).where(Review.dataset_id == dataset_id)).one()
    return low, high
