"""Approved replies out: .eml files with threading headers (in a zip), and tables."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid
from typing import Sequence

import pandas as pd
from sqlmodel import select

from core.brand import Brand
from core.db import EmailMessage, session_scope
from core.i18n import Msg, render
from core.mail.queue import draft_why, no_reply_why


def _approved(ids: Sequence[int] | None = None) -> list[EmailMessage]:
    with session_scope() as session:
        query = select(EmailMessage).where(EmailMessage.status == "approved")
        if ids is not None:
            query = query.where(EmailMessage.id.in_(list(ids)))
        return list(session.exec(query.order_by(EmailMessage.id)))


def reply_message(row: EmailMessage, brand: Brand, *, text: str | None = None) -> MimeMessage:
    """The approved reply (or `text`) as an email ready to send from the user's own mail client,
    threaded under the mail it answers."""
    reply = MimeMessage()
    reply["From"] = f"{brand.name} <{brand.reply_from}>" if brand.reply_from else brand.name
    if row.sender:
        reply["To"] = row.sender
    subject = row.subject or "Your message"
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = format_datetime(datetime.now(timezone.utc))
    reply["Message-ID"] = make_msgid(domain=(brand.reply_from.split("@")[-1] if "@" in brand.reply_from else None))
    if row.message_id:
        reply["In-Reply-To"] = row.message_id
        reply["References"] = " ".join([*row.thread_references.split(), row.message_id][-20:])  # RFC 5322: theirs, then its own
    reply.set_content(row.approved_text if text is None else text)
    return reply


def export_eml_zip(brand: Brand, ids: Sequence[int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in _approved(ids):
            slug = re.sub(r"[^a-z0-9]+", "-", (row.subject or "reply").lower()).strip("-")[:40] or "reply"
            archive.writestr(f"{row.id:05d}-{slug}.eml", bytes(reply_message(row, brand)))
    return buffer.getvalue()


def approved_frame(ids: Sequence[int] | None = None) -> pd.DataFrame:
    columns = ["id", "sender", "subject", "intent", "urgency", "language", "approved_text", "edited", "facts_used", "decided_at"]
    rows = [{c: getattr(r, c) for c in columns} for r in _approved(ids)]
    frame = pd.DataFrame(rows, columns=columns).rename(columns={"sender": "to", "approved_text": "reply"})
    frame["facts_used"] = frame["facts_used"].map(lambda v: " | ".join(v) if isinstance(v, list) else "")
    return frame


def batch_frame(frame: pd.DataFrame, ids: Sequence[int], language: str = "en") -> pd.DataFrame:
    """The input table with each email's triage and draft beside it (for `reply --batch`), its
    sentences (why code wrote a draft) in `language`."""
    by_id = {}
    with session_scope() as session:
        for row in session.exec(select(EmailMessage).where(EmailMessage.id.in_(list(ids)))):
            by_id[row.id] = row
    out = frame.copy()
    for column in ("intent", "urgency", "needs_review", "needs_reply", "language", "sentiment", "draft"):
        out[column] = [getattr(by_id[i], column) for i in ids]
    out["draft_source"] = [_draft_source(by_id[i], language) for i in ids]
    out["no_reply_reason"] = [render(no_reply_why(by_id[i]) or "", language) for i in ids]
    return out


def _draft_source(row: EmailMessage, language: str) -> str:
    """"model", why code wrote the draft (in `language`), or "" before it is drafted."""
    why = draft_why(row)
    return row.draft_source if why is None else Msg("written by code: {why}", why=why).render(language)
