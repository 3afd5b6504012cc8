"""Themes found in each dataset's reviews (review_theme, and theme_scope for how its vectors were centred); every review's themes are found again,
from its own dataset, instead of the fixed list they were matched to before.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "theme_scope",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(), primary_key=True),
        sa.Column("offsets", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "review_theme",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fixed", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("centroid", sa.JSON(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("scope", "key", name="uq_review_theme_scope_key"),
    )
    op.create_index("ix_review_theme_scope", "review_theme", ["scope"])
    op.execute(sa.text("UPDATE review SET themes = NULL"))  # found again, from the reviews' own dataset, when it is next opened


def downgrade() -> None:
    op.drop_index("ix_review_theme_scope", table_name="review_theme")
    op.drop_table("review_theme")
    op.drop_table("theme_scope")
