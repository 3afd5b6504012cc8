"""The IMAP mailbox (core/mail/mailbox.py): mailbox_state remembers what a pull has read; an email
keeps its References, why it needs no reply, and which copy of its reply sits in Drafts; a brand
keeps the team's own replies from Sent (reply_examples).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EMAIL_COLUMNS = (
    sa.Column("thread_references", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""),
    sa.Column("no_reply_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""),
    sa.Column("pushed_uid", sa.Integer(), nullable=True),
    sa.Column("pushed_uidvalidity", sa.Integer(), nullable=True),
    sa.Column("pushed_digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""),
)


def upgrade() -> None:
    op.create_table(
        "mailbox_state",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(), primary_key=True),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("email_message") as table:
        for column in EMAIL_COLUMNS:
            table.add_column(column.copy())
    with op.batch_alter_table("brand_profile") as table:
        table.add_column(sa.Column("reply_examples", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("brand_profile") as table:
        table.drop_column("reply_examples")
    with op.batch_alter_table("email_message") as table:
        for column in EMAIL_COLUMNS:
            table.drop_column(column.name)
    op.drop_table("mailbox_state")
