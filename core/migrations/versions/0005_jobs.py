"""Jobs (core/jobs): long actions run by workers, with their progress, result and error; and when
each worker was last seen alive (worker_seen).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("requested_by", text(), nullable=False),
        sa.Column("state", text(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("progress", text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker", text(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_table(
        "worker_seen",
        sa.Column("name", text(), primary_key=True),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_job_kind", "job", ["kind"])
    op.create_index("ix_job_state", "job", ["state"])
    op.create_index("ix_job_created_at", "job", ["created_at"])


def downgrade() -> None:
    for name in ("ix_job_created_at", "ix_job_state", "ix_job_kind"):
        op.drop_index(name, table_name="job")
    op.drop_table("job")
    op.drop_table("worker_seen")
