"""Typed JSON columns for the 17 that held JSON as text; the schema_version table goes (Alembic's
alembic_version says which revision a database is at).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> {column: the value a missing or empty one means}
JSON_COLUMNS = {
    "dataset": {"skip_reasons": "{}", "mapping": "{}", "columns": "[]", "calibration": "null"},  # JSON null: not calibrated
    "review": {"extra": "{}"},
    "report_definition": {"products": "[]", "channels": "[]"},
    "report_run": {"files": "{}"},
    "brand_profile": {"phrases_use": "[]", "phrases_avoid": "[]", "facts": "[]", "examples": "[]"},
    "email_message": {"review_reasons": "[]", "facts_used": "[]"},
    "content_piece": {"brief": "{}", "checks": "{}"},
    "lab_run": {"details": "{}"},
}


def upgrade() -> None:
    bind = op.get_bind()
    for table, columns in JSON_COLUMNS.items():
        for column, empty in columns.items():
            # Text that is no JSON at all ("" was "not calibrated") becomes what it meant.
            op.execute(sa.text(f"UPDATE {table} SET {column} = '{empty}' WHERE {column} IS NULL OR {column} = ''"))
            if bind.dialect.name == "postgresql":
                op.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE JSON USING {column}::json"))
            # SQLite keeps JSON as text whatever a column's declared type: the values already read as
            # JSON, and retyping would copy each table (its cascades would empty the child tables).
    op.drop_table("schema_version")


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "schema_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if bind.dialect.name == "postgresql":
        for table, columns in JSON_COLUMNS.items():
            for column in columns:
                op.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR USING {column}::text"))
    op.execute(sa.text("UPDATE dataset SET calibration = '' WHERE calibration = 'null'"))
