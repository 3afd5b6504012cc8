"""The team's figures for the home page, gathered from the database in one place."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select

from core.db import ContentPiece, Dataset, EmailMessage, Review, session_scope, utcnow
from core.usage import calls_frame


@dataclass
class TeamFigures:
    llm_calls_month: int
    spend_month_usd: float
    compute_s_month: float
    tokens_month: int
    reviews_analysed: int
    datasets: int
    drafts_waiting: int
    content_saved: int


def team_figures() -> TeamFigures:
    start = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    calls = calls_frame(since=start)
    with session_scope() as session:
        reviews = session.exec(select(func.count()).select_from(Review).where(Review.sentiment.is_not(None))).one()
        datasets = session.exec(select(func.count()).select_from(Dataset)).one()
        content_saved = session.exec(select(func.count()).select_from(ContentPiece)).one()
        drafts_waiting = session.exec(select(func.count()).select_from(EmailMessage).where(EmailMessage.status == "drafted")).one()
    return TeamFigures(
        llm_calls_month=len(calls),
        spend_month_usd=float(calls["cost_usd"].sum()) if len(calls) else 0.0,
        compute_s_month=float(calls["compute_s"].sum()) if len(calls) else 0.0,
        tokens_month=int(calls["tokens_in"].sum() + calls["tokens_out"].sum()) if len(calls) else 0,
        reviews_analysed=int(reviews),
        datasets=int(datasets),
        drafts_waiting=int(drafts_waiting),
        content_saved=int(content_saved),
    )
