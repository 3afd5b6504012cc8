"""The content library: saved pieces with their brief and checks, A/B pairs, and exports."""
from __future__ import annotations

import io
import uuid
from dataclasses import asdict

import pandas as pd
from sqlmodel import select

from core.content.brief import Brief, Variant
from core.db import ContentPiece, delete_row, session_scope


def save_piece(brief: Brief, text: str, *, checks: dict, backend: str = "", model: str = "", ab_group: str = "", edited: bool = False) -> int:
    with session_scope() as session:
        row = ContentPiece(
            kind=brief.kind, platform=brief.platform, topic=brief.topic, brief=asdict(brief), text=text,
            checks=dict(checks), backend=backend, model=model, ab_group=ab_group, edited=edited,
        )
        session.add(row)
        session.commit()
        return row.id


def save_ab_pair(brief: Brief, first: Variant, second: Variant) -> str:
    group = uuid.uuid4().hex[:8]
    for variant in (first, second):
        save_piece(brief, variant.text, checks=variant.checks, backend=variant.backend, model=variant.model, ab_group=group)
    return group


LIBRARY_COLUMNS = ["id", "created_at", "kind", "platform", "topic", "text", "backend", "model", "ab_group", "edited", "checks"]


def library_frame(query: str = "", kind: str | None = None) -> pd.DataFrame:
    with session_scope() as session:
        statement = select(ContentPiece)
        if kind:
            statement = statement.where(ContentPiece.kind == kind)
        rows = session.exec(statement.order_by(ContentPiece.created_at.desc(), ContentPiece.id.desc())).all()
    frame = pd.DataFrame([{c: getattr(r, c) for c in LIBRARY_COLUMNS} for r in rows], columns=LIBRARY_COLUMNS)
    if query.strip() and not frame.empty:
        needle = query.strip().lower()
        frame = frame[frame["topic"].str.lower().str.contains(needle, regex=False) | frame["text"].str.lower().str.contains(needle, regex=False)]
    return frame.reset_index(drop=True)


def delete_piece(piece_id: int) -> None:
    delete_row(ContentPiece, piece_id)


def ab_frame() -> pd.DataFrame:
    """Saved A/B pairs side by side, one row per pair."""
    frame = library_frame()
    frame = frame[frame["ab_group"] != ""].sort_values("id")
    rows = [
        {"ab_group": g, "kind": part["kind"].iloc[0], "topic": part["topic"].iloc[0], "variant_a": part["text"].iloc[0], "variant_b": part["text"].iloc[-1]}
        for g, part in frame.groupby("ab_group", sort=False)
        if len(part) == 2
    ]
    return pd.DataFrame(rows, columns=["ab_group", "kind", "topic", "variant_a", "variant_b"])


def export_markdown(frame: pd.DataFrame) -> bytes:
    parts = [f"## {row.kind}{' · ' + row.platform if row.platform else ''}: {row.topic}\n\n{row.text}\n" for row in frame.itertuples()]
    return ("# Mercury content library\n\n" + "\n---\n\n".join(parts)).encode("utf-8")


def export_docx(frame: pd.DataFrame) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("Mercury content library", level=0)
    for row in frame.itertuples():
        document.add_heading(f"{row.kind}{' · ' + row.platform if row.platform else ''}: {row.topic}", level=1)
        for paragraph in str(row.text).split("\n\n"):
            document.add_paragraph(paragraph.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
