"""The stored queue: mail in (once, however often it is read), drafts saved as they land, and
a person's decisions (approve, edit, reject) with the edit kept as a diff."""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, replace
from typing import Sequence

import pandas as pd
from sqlalchemy import case
from sqlmodel import select

from core.brand import Brand
from core.db import EmailMessage, delete_row, insert_ignoring_duplicates, session_scope, utcnow
from core.errors import LLMError, PartialBatchError, UserError
from core.i18n import N_, Clause, Joined, Msg, plain, revive, stored
from core.llm.base import Progress
from core.llm.bulk import saved_after_stop
from core.mail.drafting import Draft, draft_replies, draft_reply, template_reply
from core.mail.reading import MAX_BODY_CHARS, ParsedEmail
from core.mail.triage import triage_many


def _as_parsed(row: EmailMessage) -> ParsedEmail:
    return ParsedEmail(
        sender=row.sender, subject=row.subject, body=row.body, received=row.received, message_id=row.message_id, references=row.thread_references
    )


def mail_identity(mail: ParsedEmail, source: str) -> str:
    """What makes a mail the same mail when it is read again: its Message-ID, else its content and origin."""
    if mail.message_id.strip():
        return "mid:" + mail.message_id.strip().lower()[:200]
    received = mail.received.isoformat() if mail.received else ""
    content = "\x1f".join((source, mail.sender, mail.subject, mail.body, received))
    return "sha:" + hashlib.sha256(content.encode("utf-8", "replace")).hexdigest()[:40]


def add_emails(mails: Sequence[ParsedEmail], source: str, *, spec=None, subjects: Sequence[str] | None = None) -> list[int]:
    """Store and triage mail (triage is fast: embeddings and rules unless a model is chosen).
    `subjects`, when given, are stored instead of the mails' own: Mercury's words, which triage does not read.

    A mail already in the queue (a rerun after a crash, the same file twice, two people at once)
    keeps its row, triage and draft: its id comes back and nothing is triaged or paid for again.
    """
    shown = list(subjects) if subjects is not None else [m.subject for m in mails]
    identities = [mail_identity(replace(m, subject=subject), source) for m, subject in zip(mails, shown)]
    queued = select(EmailMessage.identity, EmailMessage.id).where(EmailMessage.identity.in_(list(set(identities))))
    with session_scope() as session:
        known = dict(session.exec(queued).all())
    fresh = {identity: mail for identity, mail in zip(identities, mails) if identity not in known}
    stored_subject = dict(zip(identities, shown))
    stopped = None
    try:
        triages = triage_many(list(fresh.values()), spec) if fresh else []
    except PartialBatchError as error:  # every mail is triaged (by rules where the model did not answer): save, then say so
        triages, stopped = [error.finished[i] for i in range(error.total)], error
    with session_scope() as session:
        insert_ignoring_duplicates(session, EmailMessage, [
            {
                "created_at": utcnow(), "identity": identity, "source": source, "message_id": mail.message_id, "sender": mail.sender,
                "thread_references": mail.references, "no_reply_reason": stored(t.no_reply_reason) if t.no_reply_reason else "",
                "subject": stored_subject[identity], "body": mail.body, "received": mail.received, "language": t.language, "intent": t.intent,
                "urgency": t.urgency, "sentiment": t.sentiment, "needs_reply": t.needs_reply, "needs_review": t.needs_review,
                "review_reasons": plain(Joined(t.review_reasons)), "reason": stored(t.reason), "triage_source": stored(t.source),
                "status": "new" if t.needs_reply else "no_reply",
            }
            for (identity, mail), t in zip(fresh.items(), triages)
        ])
        session.commit()
        ids = dict(session.exec(queued).all()) if fresh else known
    if stopped is not None:
        raise LLMError(
            Msg(
                "{problem}; the {count} mails are saved, triaged by embeddings and rules where the model did not answer: draft them when the server "
                "answers again.",
                problem=Clause(stopped),
                count=len(fresh),
            )
        ) from stopped
    return [ids[identity] for identity in identities]


def add_review(text: str, *, product: str = "", source: str = "review") -> int:
    """Queue a review for a reply, as the Sentiment page's "draft a reply" hands it over."""
    subject = f"Your review of {product}" if product else "Your review"
    return add_emails([ParsedEmail(body=text[:MAX_BODY_CHARS])], source, subjects=[subject])[0]


def reasons_of(row: EmailMessage) -> list[Msg | str]:
    """Why a stored mail was flagged for review."""
    return [revive(item) for item in row.review_reasons or []]


def draft_why(row: EmailMessage) -> Msg | None:
    """Why code wrote a stored draft (None when the model did)."""
    if row.draft_source in ("", "model"):
        return None
    why = revive(row.draft_source)
    return why.removeprefix("template: ") if isinstance(why, str) else why  # rows from before sentences were stored as Msg


def no_reply_why(row: EmailMessage) -> Msg | str | None:
    """Why a stored mail needs no reply (None when it needs one)."""
    return None if row.needs_reply else revive(row.no_reply_reason) if row.no_reply_reason else None


def facts_of(row: EmailMessage) -> list[str]:
    """The brand facts its draft was written from."""
    return list(row.facts_used or [])


def get_email(email_id: int) -> EmailMessage:
    with session_scope() as session:
        row = session.get(EmailMessage, int(email_id))
        if row is None:
            raise UserError(Msg("There is no email {email_id}.", email_id=str(email_id)))
        return row


def _save_draft(email_id: int, draft: Draft, spec) -> EmailMessage:
    with session_scope() as session:
        row = session.get(EmailMessage, int(email_id))
        row.draft, row.facts_used = draft.text, list(draft.facts_used)
        row.draft_source = stored(draft.why) if draft.why is not None else draft.source  # "model", or why code wrote it
        row.backend, row.model = (spec.kind, spec.model) if spec else ("embedded", "")
        row.status = "drafted"
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def draft_email(email_id: int, brand: Brand, *, spec=None, instruction: str = "", on_token=None) -> EmailMessage:
    """Draft (or redraft with an instruction) one stored email and save the draft."""
    row = get_email(email_id)
    try:
        draft = draft_reply(
            _as_parsed(row), brand, row.language, spec=spec, instruction=instruction, previous=row.draft if instruction else "", on_token=on_token
        )
    except LLMError as error:
        if instruction:  # a failed redraft leaves the draft there is
            raise
        _save_draft(email_id, template_reply(_as_parsed(row), brand, row.language, Msg("the model failed ({problem})", problem=Clause(error))), spec)
        raise LLMError(
            Msg("{problem}; email {email_id} got a reply written from the Brand profile's facts instead.", problem=Clause(error), email_id=str(email_id))
        ) from error
    return _save_draft(email_id, draft, spec)


def draft_pending(brand: Brand, *, spec=None, ids: Sequence[int] | None = None, progress: Progress | None = None, chunk: int = 8) -> int:
    """Draft every email still waiting for one, a chunk at a time, saving each chunk as it lands."""
    with session_scope() as session:
        query = select(EmailMessage).where(EmailMessage.status == "new")
        if ids is not None:
            query = query.where(EmailMessage.id.in_(list(ids)))
        rows = list(session.exec(query.order_by(EmailMessage.id)))
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        try:
            drafts = dict(enumerate(draft_replies([_as_parsed(r) for r in part], brand, [r.language for r in part], spec=spec)))
        except PartialBatchError as error:  # drafts that arrived before the batch stopped are saved; a rerun drafts the rest
            for i, draft in error.finished.items():
                _save_draft(part[i].id, draft, spec)
            raise saved_after_stop(error, start + len(error.finished), N_("drafts")) from error
        for i, draft in drafts.items():
            _save_draft(part[i].id, draft, spec)
        if progress:
            progress(min(start + chunk, len(rows)), len(rows))
    return len(rows)


def reply_to(mail: ParsedEmail, brand: Brand, *, spec=None) -> dict:
    """Store one email, triage it, draft a reply when it needs one: what `python -m core reply` prints."""
    (email_id,) = add_emails([mail], "cli", spec=spec)
    row = get_email(email_id)
    if row.needs_reply:
        row = draft_email(email_id, brand, spec=spec)
    return {
        "id": row.id,
        "intent": row.intent,
        "urgency": row.urgency,
        "sentiment": row.sentiment,
        "language": row.language,
        "needs_reply": row.needs_reply,
        "no_reply_reason": no_reply_why(row),
        "needs_review": row.needs_review,
        "review_reasons": reasons_of(row),
        "reason": revive(row.reason),
        "draft": row.draft,
        "draft_source": "model" if row.draft_source == "model" else "template",
        "draft_why": draft_why(row),
        "facts_used": facts_of(row),
    }


def _decide(email_id: int, status: str, text: str = "") -> EmailMessage:
    with session_scope() as session:
        row = session.get(EmailMessage, int(email_id))
        if row is None:
            raise UserError(Msg("There is no email {email_id}.", email_id=str(email_id)))
        if status == "approved" and not (text.strip() or row.draft.strip()):
            raise UserError(Msg("There is no draft to approve yet: draft a reply first."))
        row.status, row.decided_at = status, utcnow()
        if status == "approved":
            final = text.strip() or row.draft
            row.approved_text = final
            row.edited = final.strip() != row.draft.strip()
            row.edit_diff = "\n".join(difflib.unified_diff(row.draft.splitlines(), final.splitlines(), "draft", "approved", lineterm="")) if row.edited else ""
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def approve(email_id: int, text: str = "") -> EmailMessage:
    """Approve the draft, or the person's edit of it (the edit is kept as a diff)."""
    return _decide(email_id, "approved", text)


def reject(email_id: int) -> EmailMessage:
    return _decide(email_id, "rejected")


def delete_email(email_id: int) -> None:
    delete_row(EmailMessage, email_id)


QUEUE_COLUMNS = ["id", "urgency", "intent", "subject", "sender", "status", "needs_review", "language", "sentiment", "received", "created_at"]


def queue_frame(statuses: Sequence[str] | None = None) -> pd.DataFrame:
    """The queue, most urgent first, then oldest first."""
    rank = case({"high": 0, "normal": 1, "low": 2}, value=EmailMessage.urgency, else_=3)
    with session_scope() as session:
        query = select(EmailMessage)
        if statuses:
            query = query.where(EmailMessage.status.in_(list(statuses)))
        rows = session.exec(query.order_by(rank, EmailMessage.received, EmailMessage.id)).all()
    return pd.DataFrame([{c: getattr(r, c) for c in QUEUE_COLUMNS} for r in rows], columns=QUEUE_COLUMNS)


@dataclass
class QueueFigures:
    total: int
    waiting: int  # drafted, waiting for a person
    approved: int
    approved_unedited: int
    rejected: int

    @property
    def unedited_share(self) -> float | None:
        return self.approved_unedited / self.approved if self.approved else None


def queue_figures() -> QueueFigures:
    with session_scope() as session:
        rows = session.exec(select(EmailMessage.status, EmailMessage.edited)).all()
    statuses = [s for s, _ in rows]
    return QueueFigures(
        total=len(rows),
        waiting=statuses.count("drafted"),
        approved=statuses.count("approved"),
        approved_unedited=sum(1 for s, edited in rows if s == "approved" and not edited),
        rejected=statuses.count("rejected"),
    )


def activity_frame() -> pd.DataFrame:
    """Emails per intent and what people decided, with a row for all: the report's email section."""
    with session_scope() as session:
        rows = session.exec(select(EmailMessage.intent, EmailMessage.status, EmailMessage.edited)).all()
    frame = pd.DataFrame(rows, columns=["intent", "status", "edited"])
    if frame.empty:
        return pd.DataFrame(columns=["intent", "emails", "approved", "approved_without_edits", "rejected", "waiting"])
    frame["approved"] = frame["status"] == "approved"
    frame["approved_without_edits"] = frame["approved"] & ~frame["edited"].astype(bool)
    frame["rejected"] = frame["status"] == "rejected"
    frame["waiting"] = frame["status"].isin(["new", "drafted"])
    counted = ["approved", "approved_without_edits", "rejected", "waiting"]
    table = frame.groupby("intent")[counted].sum().astype(int)
    table.insert(0, "emails", frame.groupby("intent").size())
    table.loc["all"] = table.sum()
    return table.reset_index()
