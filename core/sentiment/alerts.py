"""Alert rules: the negative share above a threshold in a period, or up by some points on the
previous period, over all reviews or per product or channel."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlmodel import select

from core.db import AlertRule, delete_row, session_scope
from core.errors import UserError

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
        raise UserError("That alert rule is not one Mercury knows.")
    with session_scope() as session:
        session.add(rule)
        session.commit()
        session.refresh(rule)
    return rule


def add_rule(dataset_id: int | None, *, name: str, kind: str, threshold: float, period: str = "W", scope: str = "") -> AlertRule:
    """Store a rule for one dataset (or every dataset when dataset_id is None)."""
    return save_rule(AlertRule(dataset_id=dataset_id, name=name.strip() or "Alert", kind=kind, threshold=float(threshold), period=period, scope_column=scope))


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
