"""Recognise a database that did not answer, whatever layer noticed it.

The engine bounds every wait (:mod:`catalyst.db.engine`); what those bounds raise differs by
driver and by where the wait was: SQLAlchemy's ``OperationalError``/``InterfaceError``, its pool's
``TimeoutError``, asyncpg's connection errors, or a bare ``TimeoutError``/``OSError`` from the
driver's socket. :func:`is_database_outage` recognises them all; :func:`guarded` turns them into
:class:`DatabaseUnavailable` (a 503) for services plugins call, so a plugin route that touches
storage during an outage answers 503 too. :func:`bad_input_reason` recognises a value the
database cannot hold (a 400).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.errors import BadRequest, CatalystError, ServiceUnavailable

MESSAGE = "Database unavailable: try again shortly"

#: Modules whose socket or timeout errors mean the database did not answer.
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.", "sqlite3")


try:
    import asyncpg  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - asyncpg is a dependency
    asyncpg = None


def _asyncpg_outage_types() -> tuple[type[BaseException], ...]:
    if asyncpg is None:  # pragma: no cover
        return ()
    return (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.QueryCanceledError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
    )


_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    *_asyncpg_outage_types(),
)


class DatabaseUnavailable(ServiceUnavailable):
    """The database did not answer within its timeouts (503)."""

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


def _raised_in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def bad_input_reason(error: BaseException) -> str | None:
    """Why the database refused a value it cannot hold (a number beyond 64 bits, a NUL in text
    on PostgreSQL), or None. A safety net behind the API's own bounds: a 400, not a 500."""
    for current in _chain(error):
        if asyncpg is not None and isinstance(current, asyncpg.DataError):
            return str(current)[:200] or "invalid value"
        if isinstance(current, OverflowError) and _raised_in_driver(current.__traceback__):
            return "a number is out of the signed 64-bit range"
    return None


def is_database_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database did not answer in time."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (*_OUTAGE_TYPES, DatabaseUnavailable)):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, TimeoutError | OSError) and _raised_in_driver(current.__traceback__):
            return True
        current = current.__cause__ or current.__context__
    return False


GuardedSessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def guarded(sessions: async_sessionmaker[AsyncSession]) -> GuardedSessions:
    """``sessions`` whose sessions raise :class:`DatabaseUnavailable` for an outage."""

    @asynccontextmanager
    async def session() -> AsyncIterator[AsyncSession]:
        try:
            async with sessions() as db:
                yield db
        except CatalystError:
            raise
        except Exception as exc:
            if is_database_outage(exc):
                raise DatabaseUnavailable() from exc
            reason = bad_input_reason(exc)
            if reason is not None:
                raise BadRequest(f"Invalid value: {reason}") from exc
            raise

    return session
