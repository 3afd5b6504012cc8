"""Saved report definitions (re-run for the latest period in one click) and the history of runs,
whose files are kept under the data folder."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from sqlmodel import select

from core.config import data_dir
from core.db import ReportDefinition, ReportRun, session_scope, utcnow
from core.reports.build import Report, build_report
from core.reports.render import FORMATS, render
from core.sentiment.insights import default_period


def save_definition(
    name: str, dataset_id: int, *, start: date | None = None, end: date | None = None, products=(), channels=(), include_usage: bool = True
) -> ReportDefinition:
    """Save a report to re-run later over the same number of days, ending at the dataset's latest date."""
    definition = ReportDefinition(
        name=name, dataset_id=dataset_id, period_days=((end - start).days + 1) if start and end else 30,
        products=list(products), channels=list(channels), include_usage=include_usage,
    )
    with session_scope() as session:
        session.add(definition)
        session.commit()
        session.refresh(definition)
    return definition


def definitions() -> list[ReportDefinition]:
    with session_scope() as session:
        return list(session.exec(select(ReportDefinition).order_by(ReportDefinition.created_at.desc())))


def run_definition(definition: ReportDefinition, *, spec=None, formats=FORMATS, language: str = "en") -> ReportRun:
    """Build the saved report for the last `period_days` days of its dataset, in `language`, and keep its files."""
    start, end = default_period(definition.dataset_id, definition.period_days)
    report = build_report(
        definition.dataset_id, start=start, end=end, products=definition.products, channels=definition.channels,
        spec=spec, include_usage=definition.include_usage, title=definition.name, language=language,
    )
    return store_run(report, definition_id=definition.id, dataset_id=definition.dataset_id, formats=formats)


def store_run(report: Report, *, dataset_id: int, definition_id: int | None = None, formats=FORMATS) -> ReportRun:
    folder = data_dir() / "reports" / f"{utcnow():%Y%m%d-%H%M%S}-{dataset_id}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt in formats:
        path = folder / f"report.{fmt}"
        path.write_bytes(render(report, fmt))
        files[fmt] = str(path)
    run = ReportRun(
        definition_id=definition_id,
        dataset_id=dataset_id,
        title=report.title,
        period_start=str(report.period[0] or ""),
        period_end=str(report.period[1] or ""),
        summary_source=report.summary_source,
        files=files,
    )
    with session_scope() as session:
        session.add(run)
        session.commit()
        session.refresh(run)
    return run


def history() -> pd.DataFrame:
    with session_scope() as session:
        rows = [r.model_dump() for r in session.exec(select(ReportRun).order_by(ReportRun.created_at.desc()))]
    return pd.DataFrame(rows, columns=["id", "definition_id", "dataset_id", "title", "period_start", "period_end", "summary_source", "files", "created_at"])


def stored_file(path: str) -> bytes | None:
    """A past report's file, if it still exists under the data folder."""
    candidate = Path(path)
    try:
        candidate.resolve().relative_to(data_dir().resolve())
    except ValueError:
        return None
    return candidate.read_bytes() if candidate.exists() else None
