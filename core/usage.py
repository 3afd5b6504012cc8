"""What the team spends: every LLM call is a row, with tokens, seconds and (for hosted APIs) dollars."""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime

import pandas as pd
from sqlmodel import select

from core.config import redact
from core.db import LLMCall, session_scope
from core.llm import Call, on_call
from core.llm.base import is_hosted

log = logging.getLogger(__name__)

USAGE_COLUMNS = ["created_at", "page", "backend", "model", "tokens_in", "tokens_out", "latency_s", "cost_usd", "compute_s", "ok", "error"]


def record_call(
    *,
    page: str,
    backend: str,
    model: str,
    tokens_in: int,
    tokens_out: int,
    latency_s: float,
    cost_usd: float = 0.0,
    hosted: bool | None = None,
    ok: bool = True,
    error: str = "",
) -> None:
    """Write one usage row. Losing a usage row must never lose the user's answer, so failures are logged."""
    row = LLMCall(
        page=page,
        backend=backend,
        model=model,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_s=latency_s,
        cost_usd=cost_usd,
        # hosted calls cost dollars; ours cost compute seconds (unsaid: as the backend registered under that name says)
        compute_s=0.0 if (is_hosted(backend) if hosted is None else hosted) else latency_s,
        ok=ok,
        error=redact(error)[:500],
    )
    try:
        with session_scope() as session:
            session.add(row)
            session.commit()
    except Exception:  # noqa: BLE001 - recording usage is best effort by design
        log.exception("could not record LLM usage")


def record(call: Call) -> None:
    record_call(**asdict(call))


def install() -> None:
    """Store a usage row for every model call this process makes (the app and the CLI call this)."""
    on_call(record)


def calls_frame(since: datetime | None = None) -> pd.DataFrame:
    query = select(LLMCall).order_by(LLMCall.created_at.desc())
    if since is not None:
        query = query.where(LLMCall.created_at >= since)
    with session_scope() as session:
        rows = [call.model_dump() for call in session.exec(query)]
    frame = pd.DataFrame(rows, columns=["id", *USAGE_COLUMNS]).drop(columns="id")
    # Rows stored before errors were scrubbed may still hold a key: scrub again on the way out.
    frame["error"] = frame["error"].fillna("").map(redact)
    return frame


def totals(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Calls, tokens, dollars and compute seconds per day or per page."""
    if frame.empty:
        return pd.DataFrame(columns=[by, "calls", "tokens_in", "tokens_out", "cost_usd", "compute_s"])
    keyed = frame.assign(day=pd.to_datetime(frame["created_at"]).dt.date.astype(str))
    grouped = keyed.groupby(by, as_index=False).agg(
        calls=("model", "size"),
        tokens_in=("tokens_in", "sum"),
        tokens_out=("tokens_out", "sum"),
        cost_usd=("cost_usd", "sum"),
        compute_s=("compute_s", "sum"),
    )
    return grouped.sort_values(by)

