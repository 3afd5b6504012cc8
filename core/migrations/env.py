"""Alembic's entry: run the revisions in versions/ on Mercury's database.

Mercury runs them itself at start (core.db.get_engine passes its own connection in
`config.attributes["connection"]`); the `alembic` command opens DATABASE_URL (or data/mercury.db).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from core import db

target_metadata = db.SQLModel.metadata


def _run(connection) -> None:
    # SQLite alters a table by copying it (batch mode); JSON and text compare as the same type there.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    context.configure(url=db.normalise_url(db.database_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(db.normalise_url(db.database_url()))
    with engine.connect() as opened:
        _run(opened)
    engine.dispose()
