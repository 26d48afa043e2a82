"""Alembic environment: citevault passes the connection in ``config.attributes`` (see archive.index.db.upgrade)."""
from __future__ import annotations

from alembic import context

from archive.index.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the library drives migrations
    raise RuntimeError("run migrations through archive.index.db.upgrade()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
