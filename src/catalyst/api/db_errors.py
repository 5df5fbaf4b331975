"""A database that hangs, refuses or is locked answers 503 JSON, never 500.

The engine bounds every wait (:mod:`catalyst.db.engine`); what those bounds raise differs by
driver and by where the wait was: SQLAlchemy's ``OperationalError``/``InterfaceError``, its pool's
``TimeoutError``, asyncpg's connection errors, or a bare ``TimeoutError``/``OSError`` from the
driver's socket. :func:`is_database_outage` recognises them all, and
:class:`DatabaseOutageMiddleware` turns them into ``503 {"success": false, "error": ...}`` for
every HTTP route: the host API, its auth dependency, and the session lookup in front of plugin
routes.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalyst.api.responses import fail
from catalyst.log import get_logger

log = get_logger("db")

MESSAGE = "Database unavailable: try again shortly"

#: Modules whose socket or timeout errors mean the database did not answer.
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.", "sqlite3")

_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)


def _asyncpg_outage_types() -> tuple[type[BaseException], ...]:
    try:
        import asyncpg  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return ()
    return (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.QueryCanceledError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
    )


_OUTAGE_TYPES += _asyncpg_outage_types()


def _raised_in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def is_database_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database did not answer in time."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_TYPES):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, TimeoutError | OSError) and _raised_in_driver(current.__traceback__):
            return True
        current = current.__cause__ or current.__context__
    return False


class DatabaseOutageMiddleware:
    """Answers 503 JSON when a request failed because the database did not answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception as exc:
            if started or not is_database_outage(exc):
                raise
            log.warning(
                "database_unavailable",
                path=scope.get("path"),
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            response = fail(MESSAGE, 503, {"Retry-After": "5"})
            await response(scope, receive, send)
