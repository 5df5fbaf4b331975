"""The async engine and session factory, built from the database URL.

Every wait on the database is bounded, so that a database that hangs or refuses makes requests
fail fast (503, see :mod:`catalyst.api.db_errors`) instead of piling up:

* opening a connection: ``connect_timeout`` (asyncpg's ``timeout``);
* one statement: ``statement_timeout`` (PostgreSQL's own ``statement_timeout`` setting, and
  asyncpg's ``command_timeout`` for a network that stops answering altogether);
* waiting for a pooled connection: ``pool_timeout``;
* SQLite's lock held by another writer: ``busy_timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from catalyst.settings import Settings


@dataclass(frozen=True, slots=True)
class DbTimeouts:
    """Seconds; ``statement`` None means no statement limit (migrations run without one)."""

    connect: float = 5.0
    statement: float | None = None
    pool: float = 5.0
    busy: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DbTimeouts:
        return cls(
            connect=settings.db_connect_timeout,
            statement=settings.db_statement_timeout,
            pool=settings.db_pool_timeout,
            busy=settings.db_busy_timeout,
        )


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, timeouts: DbTimeouts | None = None) -> AsyncEngine:
    """An engine for ``url``; for SQLite the folder is created and WAL + foreign keys are on."""
    limits = timeouts or DbTimeouts()
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": limits.busy}
        kwargs["pool_timeout"] = limits.pool
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_timeout"] = limits.pool
        connect_args: dict[str, Any] = {"timeout": limits.connect}
        if limits.statement is not None:
            connect_args["command_timeout"] = limits.statement
            milliseconds = str(max(1, int(limits.statement * 1000)))
            connect_args["server_settings"] = {"statement_timeout": milliseconds}
        kwargs["connect_args"] = connect_args
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        busy_ms = max(1, int(limits.busy * 1000))

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()

    return engine


def engine_for(settings: Settings) -> AsyncEngine:
    """The host's engine: every database wait bounded by the settings' timeouts."""
    return create_engine(settings.database_url, DbTimeouts.from_settings(settings))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
