"""Alembic environment. Migrations run on a connection handed in by ``catalyst.db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from catalyst.db.models import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used by the plain `alembic` command line
    raise RuntimeError("run migrations with `catalyst db upgrade`, which supplies the connection")
run_migrations(connection)
