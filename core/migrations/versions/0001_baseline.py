"""baseline: the schema Mercury had before Alembic (schema_version 9)

Revision ID: 0001
Revises:
Created: 2026-12-02 18:41:00.677851
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Every table as schema 9 had it. A database from before Alembic (no alembic_version) already
    has some of them: those are kept as they are, and the columns schema 7 to 9 added are added where
    missing (what core/db.py's numbered steps did), so schema 6, 7, 8 and 9 files all arrive here."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "brand_profile" not in existing:
        op.create_table(
            "brand_profile",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("tone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("sign_off", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("reply_from", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("phrases_use", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("phrases_avoid", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("facts", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("examples", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("internal_notes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )

    if "content_piece" not in existing:
        op.create_table(
            "content_piece",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("brief", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("checks", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("backend", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("ab_group", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("edited", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("content_piece", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_content_piece_created_at"), ["created_at"], unique=False)
            batch_op.create_index(batch_op.f("ix_content_piece_kind"), ["kind"], unique=False)

    if "dataset" not in existing:
        op.create_table(
            "dataset",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("rows", sa.Integer(), nullable=False),
            sa.Column("skipped", sa.Integer(), nullable=False),
            sa.Column("skip_reasons", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("mapping", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("columns", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("classifier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("calibration", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("dataset", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_dataset_fingerprint"), ["fingerprint"], unique=True)

    if "email_message" not in existing:
        op.create_table(
            "email_message",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("identity", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("received", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("intent", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("urgency", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("sentiment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("needs_reply", sa.Boolean(), nullable=False),
            sa.Column("needs_review", sa.Boolean(), nullable=False),
            sa.Column("review_reasons", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("triage_source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("draft", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("draft_source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("facts_used", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("backend", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("approved_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("edited", sa.Boolean(), nullable=False),
            sa.Column("edit_diff", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("email_message", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_email_message_created_at"), ["created_at"], unique=False)
            batch_op.create_index(batch_op.f("ix_email_message_identity"), ["identity"], unique=True)
            batch_op.create_index(batch_op.f("ix_email_message_intent"), ["intent"], unique=False)
            batch_op.create_index(batch_op.f("ix_email_message_status"), ["status"], unique=False)

    if "lab_run" not in existing:
        op.create_table(
            "lab_run",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("task", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("input", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.Column("accuracy", sa.Float(), nullable=True),
            sa.Column("macro_f1", sa.Float(), nullable=True),
            sa.Column("bleu", sa.Float(), nullable=True),
            sa.Column("rouge_l", sa.Float(), nullable=True),
            sa.Column("rows_per_s", sa.Float(), nullable=False),
            sa.Column("details", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("lab_run", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_lab_run_created_at"), ["created_at"], unique=False)

    if "llm_call" not in existing:
        op.create_table(
            "llm_call",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("page", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("backend", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("tokens_in", sa.Integer(), nullable=False),
            sa.Column("tokens_out", sa.Integer(), nullable=False),
            sa.Column("latency_s", sa.Float(), nullable=False),
            sa.Column("cost_usd", sa.Float(), nullable=False),
            sa.Column("compute_s", sa.Float(), nullable=False),
            sa.Column("ok", sa.Boolean(), nullable=False),
            sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("llm_call", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_llm_call_created_at"), ["created_at"], unique=False)
            batch_op.create_index(batch_op.f("ix_llm_call_page"), ["page"], unique=False)

    if "schema_version" not in existing:
        op.create_table(
            "schema_version",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("applied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )

    if "sentiment_cache" not in existing:
        op.create_table(
            "sentiment_cache",
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("text_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("sentiment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("score", sa.Float(), nullable=False),
            sa.Column("confidence", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("model", "text_hash"),
        )

    if "alert_rule" not in existing:
        op.create_table(
            "alert_rule",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("dataset_id", sa.Integer(), nullable=True),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("threshold", sa.Float(), nullable=False),
            sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("scope_column", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("min_reviews", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )

    if "report_definition" not in existing:
        op.create_table(
            "report_definition",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("dataset_id", sa.Integer(), nullable=False),
            sa.Column("period_days", sa.Integer(), nullable=False),
            sa.Column("products", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("channels", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("include_usage", sa.Boolean(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )

    if "review" not in existing:
        op.create_table(
            "review",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("dataset_id", sa.Integer(), nullable=False),
            sa.Column("row_index", sa.Integer(), nullable=False),
            sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("date", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
            sa.Column("product", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("rating", sa.Float(), nullable=True),
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("extra", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("sentiment", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("score", sa.Float(), nullable=True),
            sa.Column("confidence", sa.Float(), nullable=True),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("themes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("review", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_review_dataset_id"), ["dataset_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_review_date"), ["date"], unique=False)
            batch_op.create_index(batch_op.f("ix_review_language"), ["language"], unique=False)
            batch_op.create_index(batch_op.f("ix_review_sentiment"), ["sentiment"], unique=False)

    if "report_run" not in existing:
        op.create_table(
            "report_run",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("definition_id", sa.Integer(), nullable=True),
            sa.Column("dataset_id", sa.Integer(), nullable=False),
            sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("period_start", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("period_end", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("summary_source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("files", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.ForeignKeyConstraint(["definition_id"], ["report_definition.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
    _add_missing_columns(existing)


# The columns core/db.py's numbered steps 7 to 9 added to tables that already existed.
LEGACY_COLUMNS = [
    ("dataset", sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=True), "ix_dataset_fingerprint", True),
    ("email_message", sa.Column("identity", sqlmodel.sql.sqltypes.AutoString(), nullable=True), "ix_email_message_identity", True),
    ("review", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True), "ix_review_language", False),
    ("review", sa.Column("themes", sqlmodel.sql.sqltypes.AutoString(), nullable=True), None, False),
    ("alert_rule", sa.Column("min_reviews", sa.Integer(), nullable=False, server_default="20"), None, False),
]


def _add_missing_columns(existing: set[str]) -> None:
    inspector = sa.inspect(op.get_bind())
    for table, column, index, unique in LEGACY_COLUMNS:
        if table not in existing or column.name in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with op.batch_alter_table(table) as batch:
            batch.add_column(column)
            if index:
                batch.create_index(index, [column.name], unique=unique)


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table("report_run")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_sentiment"))
        batch_op.drop_index(batch_op.f("ix_review_language"))
        batch_op.drop_index(batch_op.f("ix_review_date"))
        batch_op.drop_index(batch_op.f("ix_review_dataset_id"))

    op.drop_table("review")
    op.drop_table("report_definition")
    op.drop_table("alert_rule")
    op.drop_table("sentiment_cache")
    op.drop_table("schema_version")
    with op.batch_alter_table("llm_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_llm_call_page"))
        batch_op.drop_index(batch_op.f("ix_llm_call_created_at"))

    op.drop_table("llm_call")
    with op.batch_alter_table("lab_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_run_created_at"))

    op.drop_table("lab_run")
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_message_status"))
        batch_op.drop_index(batch_op.f("ix_email_message_intent"))
        batch_op.drop_index(batch_op.f("ix_email_message_identity"))
        batch_op.drop_index(batch_op.f("ix_email_message_created_at"))

    op.drop_table("email_message")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_fingerprint"))

    op.drop_table("dataset")
    with op.batch_alter_table("content_piece", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_piece_kind"))
        batch_op.drop_index(batch_op.f("ix_content_piece_created_at"))

    op.drop_table("content_piece")
    op.drop_table("brand_profile")
    # ### end Alembic commands ###
