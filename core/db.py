"""Storage: SQLModel tables on SQLite (default, WAL mode) or PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Optional

from sqlalchemy import event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, Session, SQLModel, create_engine, select

from core.config import database_url

SCHEMA_VERSION = 9
SQLITE_BUSY_TIMEOUT_MS = 30_000
SCHEMA_CREATE_TRIES = 20


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: int
    applied_at: datetime = Field(default_factory=utcnow)


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
                )
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(resolved, pool_pre_ping=True)
            init_db(engine)
            _engines[resolved] = engine
        return engine


# Numbered steps that bring an older database up to SCHEMA_VERSION in place. create_all makes new
# tables but never alters one, so a column added to an existing table needs its step here.
# Each step is (table, column, DDL for the column, DDL after it or None); it runs only where the column is missing.
MIGRATIONS: dict[int, list[tuple[str, str, str, str | None]]] = {
    7: [
        ("dataset", "fingerprint", "ALTER TABLE dataset ADD COLUMN fingerprint VARCHAR",
         "CREATE UNIQUE INDEX IF NOT EXISTS ix_dataset_fingerprint ON dataset (fingerprint)"),
        ("email_message", "identity", "ALTER TABLE email_message ADD COLUMN identity VARCHAR",
         "CREATE UNIQUE INDEX IF NOT EXISTS ix_email_message_identity ON email_message (identity)"),
    ],
    8: [
        ("review", "language", "ALTER TABLE review ADD COLUMN language VARCHAR", "CREATE INDEX IF NOT EXISTS ix_review_language ON review (language)"),
        ("review", "themes", "ALTER TABLE review ADD COLUMN themes VARCHAR", None),
    ],
    9: [("alert_rule", "min_reviews", "ALTER TABLE alert_rule ADD COLUMN min_reviews INTEGER NOT NULL DEFAULT 20", None)],
}


def _migrate(engine: Engine) -> None:
    for version in sorted(MIGRATIONS):
        for table, column, add_column, after in MIGRATIONS[version]:
            if column in {c["name"] for c in inspect(engine).get_columns(table)}:
                continue
            try:
                with engine.begin() as connection:
                    connection.execute(text(add_column))
                    if after:
                        connection.execute(text(after))
            except (OperationalError, ProgrammingError):
                # another process migrated first: fine when the column is now there
                if column not in {c["name"] for c in inspect(engine).get_columns(table)}:
                    raise


def init_db(engine: Engine) -> None:
    for attempt in range(SCHEMA_CREATE_TRIES):
        try:
            SQLModel.metadata.create_all(engine)
            break
        except (OperationalError, ProgrammingError, IntegrityError):
            # Two processes opening a new database at once both see a table missing and both create
            # it; the slower one fails. Once the faster one is done, looking again finds every table.
            if attempt == SCHEMA_CREATE_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    _migrate(engine)
    with Session(engine) as session:
        current = session.exec(select(SchemaVersion).order_by(SchemaVersion.version.desc())).first()
        if current is None or current.version < SCHEMA_VERSION:
            session.add(SchemaVersion(version=SCHEMA_VERSION))
            session.commit()


def schema_version(engine: Engine | None = None) -> int:
    with Session(engine or get_engine()) as session:
        row = session.exec(select(SchemaVersion).order_by(SchemaVersion.version.desc())).first()
        return row.version if row else 0


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
    skip_reasons: str = "{}"  # JSON: reason -> count
    mapping: str = "{}"  # JSON: role -> column
    columns: str = "[]"  # JSON: the file's columns, in order, for faithful exports
    classifier: str = ""
    calibration: str = ""  # JSON {"slope", "intercept", ...} when the user calibrated on their rated rows
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
    extra: str = "{}"  # JSON of the file's other columns, so exports keep every input column
    sentiment: Optional[str] = Field(default=None, index=True)
    score: Optional[float] = None
    confidence: Optional[float] = None
    model: str = ""
    language: Optional[str] = Field(default=None, index=True)  # ISO 639-1, "und" when it cannot be told
    themes: Optional[str] = None  # comma-separated theme names, "" for none; None until analysed


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
    products: str = "[]"
    channels: str = "[]"
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
    files: str = "{}"  # JSON: format -> path under the data folder
    created_at: datetime = Field(default_factory=utcnow)


class BrandProfile(SQLModel, table=True):
    """The brand's voice and the facts the assistant may state; shared by email and content."""

    __tablename__ = "brand_profile"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    tone: str = ""
    sign_off: str = ""
    reply_from: str = ""  # the From address on exported replies
    phrases_use: str = "[]"  # JSON lists of strings
    phrases_avoid: str = "[]"
    facts: str = "[]"
    examples: str = "[]"  # past content shown to the model as examples of the voice
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
    sender: str = ""
    subject: str = ""
    body: str = ""
    received: Optional[datetime] = None
    language: str = ""
    intent: str = Field(default="", index=True)
    urgency: str = ""
    sentiment: str = ""
    needs_reply: bool = True
    needs_review: bool = False
    review_reasons: str = "[]"  # JSON: why the mail was flagged
    reason: str = ""
    triage_source: str = ""
    status: str = Field(default="new", index=True)  # new, drafted, approved, rejected
    draft: str = ""
    draft_source: str = ""  # "model", or why code wrote the draft (a stored Msg: core.i18n.stored)
    facts_used: str = "[]"
    backend: str = ""
    model: str = ""
    approved_text: str = ""
    edited: bool = False
    edit_diff: str = ""
    decided_at: Optional[datetime] = None


class ContentPiece(SQLModel, table=True):
    """One saved piece of marketing content with the brief it answers and its code checks."""

    __tablename__ = "content_piece"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    kind: str = Field(default="", index=True)  # blog, social, email, product, ad
    platform: str = ""
    topic: str = ""
    brief: str = "{}"  # JSON of the whole brief
    text: str = ""
    checks: str = "{}"  # JSON of the checks at save time
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
    details: str = "{}"  # JSON: per-class figures and the confusion matrix, or per-row scores
