"""Storage: SQLModel tables on SQLite (default, WAL mode) or PostgreSQL (DATABASE_URL).

The schema is Alembic's (core/migrations): every engine upgrades its database to the newest revision
when it is first opened, so a file written by any earlier Mercury opens with every row. A change to a
table here needs a revision beside it (`alembic revision --autogenerate -m "..."`). Columns that
hold structures are typed JSON: code reads and writes dicts and lists, never JSON text.
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Optional

from sqlalchemy import JSON, LargeBinary, UniqueConstraint, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, Session, SQLModel, create_engine

from core.config import database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
SCHEMA_CREATE_TRIES = 20


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class LLMCall(SQLModel, table=True):
    """One call to a language model: what it cost in tokens, seconds and money."""

    __tablename__ = "llm_call"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    page: str = Field(index=True)
    backend: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    # Hosted calls cost API money; local ones cost compute time on our own hardware.
    cost_usd: float = 0.0
    compute_s: float = 0.0
    ok: bool = True
    error: str = ""


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver-less spelling the user gave."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _json_text(value) -> str:
    """JSON columns as a person reads them in the database: Polish and Chinese as themselves."""
    return json.dumps(value, ensure_ascii=False)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL per process, with tables created on first use."""
    resolved = normalise_url(database_url(url))
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            if resolved.startswith("sqlite"):
                engine = create_engine(
                    resolved,
                    connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                    json_serializer=_json_text,
                )
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(resolved, pool_pre_ping=True, json_serializer=_json_text)
            init_db(engine)
            _engines[resolved] = engine
        return engine


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def init_db(engine: Engine) -> None:
    """Bring the database to Alembic's newest revision (a new file gets every table)."""
    from alembic import command

    for attempt in range(SCHEMA_CREATE_TRIES):
        try:
            with engine.begin() as connection:
                command.upgrade(_alembic_config(connection), "head")
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            # Two processes opening a new database at once both see a table missing and both create
            # it; the slower one fails. Once the faster one is done, looking again finds it upgraded.
            if attempt == SCHEMA_CREATE_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def head_revision() -> str:
    """The newest revision in core/migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def schema_revision(engine: Engine | None = None) -> str:
    """The revision the database is at (head_revision once get_engine has opened it)."""
    from alembic.runtime.migration import MigrationContext

    with (engine or get_engine()).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    with Session(get_engine(url), expire_on_commit=False) as session:
        yield session


def insert_ignoring_duplicates(session: Session, table: type[SQLModel], rows: list[dict], *, returning=None):
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL): two runs writing the same key
    both succeed and one row stays. With `returning` (a column) and one row, the result's
    scalar() is that column of the new row, or None when the row was already there."""
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing()
    if returning is not None:
        statement = statement.returning(returning)
    return connection.execute(statement, rows[0] if len(rows) == 1 else rows) if rows else None


def delete_row(table: type[SQLModel], row_id: int) -> None:
    """Delete one row by id; a row already gone is not an error."""
    with session_scope() as session:
        row = session.get(table, int(row_id))
        if row is not None:
            session.delete(row)
            session.commit()


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def ping(url: str | None = None) -> str:
    """The database's own name and version, to show that it answers."""
    with get_engine(url).connect() as connection:
        if connection.dialect.name == "sqlite":
            return "SQLite " + connection.execute(text("select sqlite_version()")).scalar_one()
        return connection.execute(text("select version()")).scalar_one().split(",")[0]


class Dataset(SQLModel, table=True):
    """An uploaded file of reviews, with how it was read and how far its scoring got."""

    __tablename__ = "dataset"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    created_at: datetime = Field(default_factory=utcnow)
    source: str = ""
    rows: int = 0
    skipped: int = 0
    skip_reasons: dict[str, int] = Field(default_factory=dict, sa_type=JSON)  # reason -> count
    mapping: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # role -> column
    columns: list[str] = Field(default_factory=list, sa_type=JSON)  # the file's columns, in order, for faithful exports
    classifier: str = ""
    # {"slope", "intercept", ...} once the user calibrated on their rated rows; None (JSON null) before
    calibration: Optional[dict[str, Any]] = Field(default=None, sa_type=JSON, nullable=False)
    # The file's content, column roles and classifier, hashed: the same file analysed again resumes this dataset.
    fingerprint: Optional[str] = Field(default=None, unique=True, index=True)


class Review(SQLModel, table=True):
    __tablename__ = "review"
    id: Optional[int] = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    row_index: int
    text: str
    date: Optional[datetime] = Field(default=None, index=True)
    product: str = ""
    channel: str = ""
    rating: Optional[float] = None
    external_id: str = ""
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the file's other columns, so exports keep every input column
    sentiment: Optional[str] = Field(default=None, index=True)
    score: Optional[float] = None
    confidence: Optional[float] = None
    model: str = ""
    language: Optional[str] = Field(default=None, index=True)  # ISO 639-1, "und" when it cannot be told
    themes: Optional[str] = None  # the name of its theme (core.sentiment.themes), "" for none; None until analysed


class ThemeScope(SQLModel, table=True):
    """How one scope's review vectors were centred before its themes were found (per language and per
    sentiment label, each group's mean moved to the overall mean), so later reviews are centred alike."""

    __tablename__ = "theme_scope"
    scope: str = Field(primary_key=True)
    offsets: dict[str, list[float]] = Field(default_factory=dict, sa_type=JSON)  # "language:pl" -> vector added
    created_at: datetime = Field(default_factory=utcnow)


class ReviewTheme(SQLModel, table=True):
    """A theme found in the reviews of one scope (a dataset's name): a newer export of the same file
    meets the same themes. Two processes finding a scope's themes at once: the second one's keys clash
    and it meets the first one's themes instead."""

    __tablename__ = "review_theme"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_review_theme_scope_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    scope: str = Field(index=True)
    key: str
    name: str  # the fixed theme's key when it matches one, else its distinctive words
    fixed: str = ""
    words: list[str] = Field(default_factory=list, sa_type=JSON)
    centroid: list[float] = Field(default_factory=list, sa_type=JSON)
    reviews: int = 0  # reviews it held when found
    created_at: datetime = Field(default_factory=utcnow)


class SentimentCache(SQLModel, table=True):
    """One score per (model, text): the same text is never scored twice by the same model."""

    __tablename__ = "sentiment_cache"
    model: str = Field(primary_key=True)
    text_hash: str = Field(primary_key=True)
    sentiment: str
    score: float
    confidence: float


class AlertRule(SQLModel, table=True):
    __tablename__ = "alert_rule"
    id: Optional[int] = Field(default=None, primary_key=True)
    dataset_id: Optional[int] = Field(default=None, foreign_key="dataset.id", ondelete="CASCADE")
    name: str
    kind: str  # "negative_share_above" (percent in a period) or "negative_share_up" (points against the previous period)
    threshold: float
    period: str = "W"  # pandas period alias: D, W, M
    scope_column: str = ""  # "", "product" or "channel": evaluated per value when set
    min_reviews: int = 20  # a period (per scope) with fewer reviews cannot fire: a few bad reviews are noise, not news


class ReportDefinition(SQLModel, table=True):
    """A saved report: which data and sections, re-run for a new period in one click."""

    __tablename__ = "report_definition"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    period_days: int = 30  # re-runs cover the last N days of the dataset
    products: list[str] = Field(default_factory=list, sa_type=JSON)
    channels: list[str] = Field(default_factory=list, sa_type=JSON)
    include_usage: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ReportRun(SQLModel, table=True):
    __tablename__ = "report_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    definition_id: Optional[int] = Field(default=None, foreign_key="report_definition.id", ondelete="CASCADE")
    dataset_id: int
    title: str
    period_start: str = ""
    period_end: str = ""
    summary_source: str = ""  # "model" when the LLM's summary passed the number check, else "template"
    files: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # format -> path under the data folder
    created_at: datetime = Field(default_factory=utcnow)


class BrandProfile(SQLModel, table=True):
    """The brand's voice and the facts the assistant may state; shared by email and content."""

    __tablename__ = "brand_profile"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    tone: str = ""
    sign_off: str = ""
    reply_from: str = ""  # the From address on exported replies
    phrases_use: list[str] = Field(default_factory=list, sa_type=JSON)
    phrases_avoid: list[str] = Field(default_factory=list, sa_type=JSON)
    facts: list[str] = Field(default_factory=list, sa_type=JSON)
    examples: list[str] = Field(default_factory=list, sa_type=JSON)  # past content shown to the model as examples of the voice
    reply_examples: list[str] = Field(default_factory=list, sa_type=JSON)  # "[intent, language] text": the team's own replies, from Sent
    internal_notes: str = ""  # for the team only: never put in a prompt, an output or an export
    updated_at: datetime = Field(default_factory=utcnow)


class EmailMessage(SQLModel, table=True):
    """One customer email: its triage, the draft reply and what a person decided."""

    __tablename__ = "email_message"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    source: str = ""  # file name, "pasted", "review #id"
    message_id: str = ""
    # Message-ID, or a hash of source, sender, subject, body and date: a mail read twice is queued once.
    identity: Optional[str] = Field(default=None, unique=True, index=True)
    thread_references: str = ""  # the original's References header: a reply's References are these and its Message-ID
    sender: str = ""
    subject: str = ""
    body: str = ""
    received: Optional[datetime] = None
    language: str = ""
    intent: str = Field(default="", index=True)
    urgency: str = ""
    sentiment: str = ""
    needs_reply: bool = True
    no_reply_reason: str = ""  # why a mail needs no reply (automatic, bulk, spam, says so): a stored Msg
    needs_review: bool = False
    review_reasons: list[Any] = Field(default_factory=list, sa_type=JSON)  # why the mail was flagged, as core.i18n.plain sentences
    reason: str = ""
    triage_source: str = ""
    status: str = Field(default="new", index=True)  # new, drafted, approved, rejected
    draft: str = ""
    draft_source: str = ""  # "model", or why code wrote the draft (a stored Msg: core.i18n.stored)
    facts_used: list[str] = Field(default_factory=list, sa_type=JSON)
    backend: str = ""
    model: str = ""
    approved_text: str = ""
    edited: bool = False
    edit_diff: str = ""
    decided_at: Optional[datetime] = None
    # The copy of the reply in the mailbox's Drafts folder (core/mail/mailbox.py): which, and what it held.
    pushed_uid: Optional[int] = None
    pushed_uidvalidity: Optional[int] = None
    pushed_digest: str = ""


class Job(SQLModel, table=True):
    """A long action run by a worker (core/jobs): what was asked, by whom, how far it got, what it made."""

    __tablename__ = "job"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # core.jobs.kinds: sentiment, mailbox_pull, mailbox_push
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    payload: Optional[bytes] = Field(default=None, sa_type=LargeBinary)  # an uploaded file, so a worker on any machine reads it
    requested_by: str = ""  # the browser session's name, or "cli"
    state: str = Field(default="queued", index=True)  # queued, running, done, failed, cancelled
    done: int = 0
    total: int = 0
    progress: str = ""  # a stored Msg: "scored 12,480 of 40,000"
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str = ""  # a stored Msg
    attempts: int = 0
    cancel_requested: bool = False
    worker: str = ""  # host:pid of the worker running it
    heartbeat_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None


class WorkerSeen(SQLModel, table=True):
    """When each worker last said it was alive: pages submit jobs only while one is."""

    __tablename__ = "worker_seen"
    name: str = Field(primary_key=True)  # host:pid
    seen_at: datetime = Field(default_factory=utcnow)


class MailboxState(SQLModel, table=True):
    """What `mailbox pull` has read of one folder: UIDs up to last_uid of this UIDVALIDITY."""

    __tablename__ = "mailbox_state"
    account: str = Field(primary_key=True)  # user@host/folder, never the password
    uidvalidity: int = 0
    last_uid: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class ContentPiece(SQLModel, table=True):
    """One saved piece of marketing content with the brief it answers and its code checks."""

    __tablename__ = "content_piece"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    kind: str = Field(default="", index=True)  # blog, social, email, product, ad
    platform: str = ""
    topic: str = ""
    brief: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the whole brief
    text: str = ""
    checks: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the checks at save time
    backend: str = ""
    model: str = ""
    ab_group: str = ""  # variants saved together as an A/B pair share a group
    edited: bool = False


class LabRun(SQLModel, table=True):
    """One evaluation of a classifier on a labelled file, kept to compare runs over time."""

    __tablename__ = "lab_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    task: str = "sentiment"
    input: str = ""
    model: str = ""
    n: int = 0
    accuracy: Optional[float] = None  # classification tasks
    macro_f1: Optional[float] = None
    bleu: Optional[float] = None  # generation against reference texts
    rouge_l: Optional[float] = None
    rows_per_s: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # per-class figures and the confusion matrix, or per-row scores
