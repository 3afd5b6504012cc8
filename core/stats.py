"""The team's figures for the home page, gathered from the database in one place."""
from __future__ import annotations

from dataclasses import dataclass

from core.db import utcnow
from core.usage import calls_frame


@dataclass
class TeamFigures:
    llm_calls_month: int
    spend_month_usd: float
    compute_s_month: float
    tokens_month: int


def team_figures() -> TeamFigures:
    start = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    calls = calls_frame(since=start)
    return TeamFigures(
        llm_calls_month=len(calls),
        spend_month_usd=float(calls["cost_usd"].sum()) if len(calls) else 0.0,
        compute_s_month=float(calls["compute_s"].sum()) if len(calls) else 0.0,
        tokens_month=int(calls["tokens_in"].sum() + calls["tokens_out"].sum()) if len(calls) else 0,
    )
