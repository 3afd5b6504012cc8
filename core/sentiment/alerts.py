"""Alert rules: the negative share above a threshold in a period, or up by some points on the
previous period, over all reviews or per product or channel, only where a period holds enough
reviews to mean something."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlmodel import select

from core.db import AlertRule, delete_row, session_scope
from core.errors import UserError
from core.i18n import N_, Capital, Msg

ALERT_KINDS = {"negative_share_above": N_("negative share above"), "negative_share_up": N_("negative share up")}  # as the rule form names them
PERIOD_NAMES = {"D": N_("day"), "W": N_("week"), "M": N_("month")}
MIN_REVIEWS = 20


# Each kind and period in its own words: languages decline a period after "in a" and "the previous".
WATCHING = {
    ("negative_share_above", "D"): N_("negative share above {threshold}% in a day"),
    ("negative_share_above", "W"): N_("negative share above {threshold}% in a week"),
    ("negative_share_above", "M"): N_("negative share above {threshold}% in a month"),
    ("negative_share_up", "D"): N_("negative share up {threshold} points on the previous day"),
    ("negative_share_up", "W"): N_("negative share up {threshold} points on the previous week"),
    ("negative_share_up", "M"): N_("negative share up {threshold} points on the previous month"),
}
PER_SCOPE = {"product": N_("{what}, per product"), "channel": N_("{what}, per channel")}


def _watching(kind: str, threshold: float, period: str, scope: str = "") -> Msg:
    what = Msg(WATCHING[kind, period], threshold=float(threshold))
    return Msg(PER_SCOPE[scope], what=what) if scope else what


def watches(kind: str, threshold: float, period: str, scope: str = "") -> str:
    """What a rule watches, in words (English: the name it is stored under unless the user gives one)."""
    text = _watching(kind, threshold, period, scope).render()
    return text[0].upper() + text[1:]


def describe_rule(rule: AlertRule) -> Msg:
    """The rule as a person reads it, in any language: its name, what it watches, and its minimum."""
    what = _watching(rule.kind, rule.threshold, rule.period, rule.scope_column)
    if rule.name == watches(rule.kind, rule.threshold, rule.period, rule.scope_column):
        return Msg("{what} (periods of {count} reviews or more)", what=Capital(what), count=rule.min_reviews)
    return Msg("{name}: {what} (periods of {count} reviews or more)", name=rule.name, what=what, count=rule.min_reviews)


def save_rule(rule: AlertRule) -> AlertRule:
    """Store a rule; the same rule submitted again (a double Enter, a rerun) is the one already stored."""
    if rule.kind not in ALERT_KINDS or rule.period not in PERIOD_NAMES or rule.scope_column not in ("", "product", "channel"):
        raise UserError(Msg("That alert rule is not one Mercury knows."))
    if rule.min_reviews < 1:
        raise UserError(Msg("An alert needs at least one review in a period to fire."))
    with session_scope() as session:
        same = session.exec(
            select(AlertRule).where(
                (AlertRule.dataset_id == rule.dataset_id) if rule.dataset_id is not None else AlertRule.dataset_id.is_(None),
                AlertRule.kind == rule.kind, AlertRule.threshold == rule.threshold, AlertRule.period == rule.period,
                AlertRule.scope_column == rule.scope_column, AlertRule.min_reviews == rule.min_reviews, AlertRule.name == rule.name,
            )
        ).first()
        if same is not None:
            return same
        session.add(rule)
        session.commit()
        session.refresh(rule)
    return rule


def add_rule(
    dataset_id: int | None, *, kind: str, threshold: float, period: str = "W", scope: str = "", name: str = "", min_reviews: int = MIN_REVIEWS
) -> AlertRule:
    """Store a rule for one dataset (or every dataset when dataset_id is None), named for what it
    watches unless a name is given."""
    if kind not in ALERT_KINDS or period not in PERIOD_NAMES:
        raise UserError(Msg("That alert rule is not one Mercury knows."))
    name = name.strip() or watches(kind, float(threshold), period, scope)
    return save_rule(
        AlertRule(dataset_id=dataset_id, name=name, kind=kind, threshold=float(threshold), period=period, scope_column=scope, min_reviews=int(min_reviews))
    )


def rules_for(dataset_id: int) -> list[AlertRule]:
    with session_scope() as session:
        return list(session.exec(select(AlertRule).where((AlertRule.dataset_id == dataset_id) | (AlertRule.dataset_id.is_(None)))))


def delete_rule(rule_id: int) -> None:
    delete_row(AlertRule, rule_id)


def evaluate_alerts(frame: pd.DataFrame, rules: list[AlertRule]) -> pd.DataFrame:
    """Every (rule, period, scope) where a rule fired, newest first. A period with fewer reviews
    than the rule's minimum is left out, and a change is measured only against a previous period
    that also had that many: two bad reviews out of three is noise, not news."""
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
            table["share"] = 100 * table["negative"] / table["volume"].where(table["volume"] >= rule.min_reviews, np.nan)
            table["change"] = table["share"].diff()
            for period, row in table.iterrows():
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
