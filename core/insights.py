"""What a sentiment dataset says: shares and their change, trends, drivers, themes, alerts, calibration."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import select

from core.db import AlertRule, Dataset, Review, delete_row, session_scope
from core.sentiment import LABELS, label_for
from core.text import THEMES, detect_language, keywords_by_group, themes_of

FREQUENCIES = {"day": "D", "week": "W", "month": "M"}


@dataclass
class Kpis:
    volume: int
    positive_share: float
    negative_share: float
    net_sentiment: float  # positive share minus negative share, in points
    previous: "Kpis | None" = None

    def delta(self, name: str) -> float | None:
        if self.previous is None or self.previous.volume == 0:
            return None
        return getattr(self, name) - getattr(self.previous, name)


def _shares(frame: pd.DataFrame) -> tuple[int, float, float]:
    n = len(frame)
    if n == 0:
        return 0, 0.0, 0.0
    counts = frame["sentiment"].value_counts()
    return n, 100 * counts.get("positive", 0) / n, 100 * counts.get("negative", 0) / n


def kpis(frame: pd.DataFrame, start=None, end=None) -> Kpis:
    """Volume and shares in [start, end], against the period of the same length just before it."""
    scored = frame[frame["sentiment"].notna()]
    if start is None or end is None or scored["date"].isna().all():
        n, pos, neg = _shares(scored)
        return Kpis(n, pos, neg, pos - neg)
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    current = scored[(scored["date"] >= start) & (scored["date"] < end)]
    before = scored[(scored["date"] >= start - (end - start)) & (scored["date"] < start)]
    n, pos, neg = _shares(current)
    pn, ppos, pneg = _shares(before)
    return Kpis(n, pos, neg, pos - neg, Kpis(pn, ppos, pneg, ppos - pneg))


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


def rating_agreement(frame: pd.DataFrame) -> dict | None:
    """How often the text's sentiment agrees with the star rating (4-5 positive, 1-2 negative)."""
    rated = frame[frame["rating"].notna() & frame["score"].notna()]
    if rated.empty:
        return None
    low, high = rated["rating"].min(), rated["rating"].max()
    scale_top = 10 if high > 5 else 5
    positive = rated["rating"] >= 0.8 * scale_top
    negative = rated["rating"] <= 0.4 * scale_top
    clear = rated[positive | negative]
    agree = ((clear["score"] >= 0) == positive[clear.index]).mean() if len(clear) else float("nan")
    by_rating = rated.groupby("rating").agg(volume=("score", "size"), mean_score=("score", "mean"), negative_share=("sentiment", lambda s: 100 * (s == "negative").mean())).reset_index()
    return {"agreement": float(agree), "rated": int(len(rated)), "clear": int(len(clear)), "by_rating": by_rating, "scale": (float(low), float(high))}


def drivers(frame: pd.DataFrame, top: int = 15) -> dict[str, pd.DataFrame]:
    """The words and phrases that most set negative reviews apart from positive ones, and back."""
    scored = frame[frame["sentiment"].isin(["positive", "negative"])]
    language = detect_language(scored["text"].head(50).tolist()) if len(scored) else "en"
    found = keywords_by_group(scored["text"], scored["sentiment"], "negative", "positive", language=language, top=top, min_count=2 if len(scored) < 500 else 3)
    return {label: pd.DataFrame(rows, columns=["term", "z", "negative", "positive"]) for label, rows in found.items()}


def theme_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Per theme: volume, mean score and negative share; plus each review's themes."""
    scored = frame[frame["sentiment"].notna()]
    language = detect_language(scored["text"].head(50).tolist()) if len(scored) else "en"
    tagged = scored["text"].map(lambda t: themes_of(t, language))
    rows = []
    for theme in THEMES:
        mask = tagged.map(lambda found, theme=theme: theme in found)
        subset = scored[mask]
        if len(subset):
            rows.append(
                {
                    "theme": theme,
                    "volume": len(subset),
                    "mean_score": float(subset["score"].mean()),
                    "negative_share": 100 * float((subset["sentiment"] == "negative").mean()),
                    "positive_share": 100 * float((subset["sentiment"] == "positive").mean()),
                }
            )
    table = pd.DataFrame(rows, columns=["theme", "volume", "mean_score", "negative_share", "positive_share"])
    return table.sort_values("volume", ascending=False).reset_index(drop=True), tagged


# --- alerts ------------------------------------------------------------------------------------


ALERT_KINDS = {
    "negative_share_above": "negative share above {threshold:g}% in a {period}",
    "negative_share_up": "negative share up {threshold:g} points against the previous {period}",
}
PERIOD_NAMES = {"D": "day", "W": "week", "M": "month"}


def describe_rule(rule: AlertRule) -> str:
    text = ALERT_KINDS[rule.kind].format(threshold=rule.threshold, period=PERIOD_NAMES[rule.period])
    return f"{rule.name}: {text}" + (f", per {rule.scope_column}" if rule.scope_column else "")


def save_rule(rule: AlertRule) -> AlertRule:
    if rule.kind not in ALERT_KINDS or rule.period not in PERIOD_NAMES or rule.scope_column not in ("", "product", "channel"):
        raise ValueError("That alert rule is not one Mercury knows.")
    with session_scope() as session:
        session.add(rule)
        session.commit()
        session.refresh(rule)
    return rule


def rules_for(dataset_id: int) -> list[AlertRule]:
    with session_scope() as session:
        return list(session.exec(select(AlertRule).where((AlertRule.dataset_id == dataset_id) | (AlertRule.dataset_id.is_(None)))))


def delete_rule(rule_id: int) -> None:
    delete_row(AlertRule, rule_id)


def evaluate_alerts(frame: pd.DataFrame, rules: list[AlertRule], min_volume: int = 5) -> pd.DataFrame:
    """Every (rule, period, scope) where a rule fired, newest first. Periods with fewer than
    `min_volume` reviews are left out: two bad reviews out of three is noise, not news."""
    fired = []
    dated = frame[frame["date"].notna() & frame["sentiment"].notna()]
    for rule in rules:
        if dated.empty:
            break
        scopes = [("", dated)] if not rule.scope_column else [(value, group) for value, group in dated.groupby(rule.scope_column) if value != ""]
        for scope, group in scopes:
            periods = group["date"].dt.tz_localize(None).dt.to_period(rule.period)
            table = group.groupby(periods).agg(volume=("sentiment", "size"), negative=("sentiment", lambda s: int((s == "negative").sum())))
            table = table.reindex(pd.period_range(table.index.min(), table.index.max(), freq=rule.period), fill_value=0)
            table["share"] = 100 * table["negative"] / table["volume"].replace(0, np.nan)
            table["change"] = table["share"].diff()
            for period, row in table.iterrows():
                if row["volume"] < min_volume:
                    continue
                value = row["share"] if rule.kind == "negative_share_above" else row["change"]
                if pd.notna(value) and value > rule.threshold:
                    fired.append(
                        {
                            "rule": rule.name,
                            "period_start": period.start_time.date(),
                            "scope": f"{rule.scope_column}: {scope}" if scope else "all reviews",
                            "negative_share": round(float(row["share"]), 1),
                            "change_points": None if pd.isna(row["change"]) else round(float(row["change"]), 1),
                            "volume": int(row["volume"]),
                        }
                    )
    out = pd.DataFrame(fired, columns=["rule", "period_start", "scope", "negative_share", "change_points", "volume"])
    return out.sort_values("period_start", ascending=False).reset_index(drop=True)


# --- calibration on the user's own rated rows --------------------------------------------------


def rating_labels(frame: pd.DataFrame) -> pd.Series:
    """1 for clearly positive ratings, 0 for clearly negative ones, NaN for the middle and unrated."""
    top = 10 if frame["rating"].max() > 5 else 5
    labels = pd.Series(np.nan, index=frame.index)
    labels[frame["rating"] >= 0.8 * top] = 1
    labels[frame["rating"] <= 0.4 * top] = 0
    return labels


def calibrate(frame: pd.DataFrame, seed: int = 0) -> dict:
    """Refit the score's slope and offset on half of the rated rows; measure on the other half.

    The classifier's direction is kept; only how its score maps to positive and negative moves,
    which is what differs between domains (what a '3 out of 5' review sounds like, say)."""
    from sklearn.linear_model import LogisticRegression

    labels = rating_labels(frame)
    usable = frame[labels.notna() & frame["score"].notna()]
    y = labels[usable.index].astype(int).to_numpy()
    if len(usable) < 20 or len(set(y)) < 2:
        raise ValueError("Calibration needs at least 20 rated reviews, some clearly positive (4-5 stars) and some clearly negative (1-2).")
    p = np.clip((usable["score"].to_numpy() + 1) / 2, 1e-4, 1 - 1e-4)
    logit = np.log(p / (1 - p)).reshape(-1, 1)
    order = np.random.default_rng(seed).permutation(len(usable))
    fit, test = order[: len(order) // 2], order[len(order) // 2 :]
    model = LogisticRegression().fit(logit[fit], y[fit])
    before = float(((logit[test, 0] >= 0).astype(int) == y[test]).mean())
    after = float((model.predict(logit[test]) == y[test]).mean())
    return {"slope": float(model.coef_[0][0]), "intercept": float(model.intercept_[0]), "accuracy_before": before, "accuracy_after": after, "fit_rows": int(len(fit)), "test_rows": int(len(test))}


def apply_calibration(dataset_id: int, calibration: dict) -> None:
    """Re-map the dataset's current scores through a calibration fitted on them, and record it."""
    from sqlalchemy import update

    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        rows = session.exec(select(Review.id, Review.score).where(Review.dataset_id == dataset_id, Review.score.is_not(None))).all()
        updates = []
        for rid, score in rows:
            p = min(max((score + 1) / 2, 1e-4), 1 - 1e-4)
            logit = np.log(p / (1 - p))
            q = 1 / (1 + np.exp(-(calibration["slope"] * logit + calibration["intercept"])))
            new = round(float(2 * q - 1), 4)
            updates.append({"id": rid, "score": new, "sentiment": label_for(new), "confidence": round(float(max(q, 1 - q)), 4)})
        if updates:
            session.execute(update(Review), updates)
        dataset.calibration = json.dumps(calibration)
        session.add(dataset)
        session.commit()


@dataclass
class Dashboard:
    reviews: pd.DataFrame  # the filtered reviews, with a `themes` column
    kpis: Kpis
    over_time: pd.DataFrame
    by_product: pd.DataFrame
    by_channel: pd.DataFrame
    themes: pd.DataFrame
    drivers: dict[str, pd.DataFrame]
    rating: dict | None
    alerts: pd.DataFrame
    unscored: int


def dashboard(dataset_id: int, *, start=None, end=None, every: str = "week", products=(), channels=()) -> Dashboard:
    """Everything the Sentiment page and the reports show for one dataset, period and filter."""
    from core.sentiment import reviews_frame

    everything = reviews_frame(dataset_id)
    if products:
        everything = everything[everything["product"].isin(products)]
    if channels:
        everything = everything[everything["channel"].isin(channels)]
    current = filter_period(everything, start, end)
    themes, tagged = theme_table(current)
    current = current.assign(themes=tagged.reindex(current.index).map(lambda t: ", ".join(t) if isinstance(t, list) else ""))
    return Dashboard(
        reviews=current,
        kpis=kpis(everything, start, end),
        over_time=over_time(current, every),
        by_product=by_column(current, "product"),
        by_channel=by_column(current, "channel"),
        themes=themes,
        drivers=drivers(current),
        rating=rating_agreement(current),
        alerts=evaluate_alerts(everything, rules_for(dataset_id)),
        unscored=int(everything["sentiment"].isna().sum()),
    )


def date_range(dataset_id: int):
    from sqlalchemy import func

    with session_scope() as session:
        low, high = session.exec(select(func.min(Review.date), func.max(Review.date)).where(Review.dataset_id == dataset_id)).one()
    return low, high
