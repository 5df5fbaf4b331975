"""A database that hangs, refuses or is locked answers 503 JSON, never 500.

A value the database cannot hold (an integer beyond 64 bits, a NUL in PostgreSQL text) that got
past the API's own bounds answers 400 JSON rather than 500.

:func:`catalyst.db.outage.is_database_outage` recognises what the engine's bounded waits raise,
and :class:`DatabaseOutageMiddleware` turns them into ``503 {"success": false, "error": ...}`` for
every HTTP route: the host API, its auth dependency, and the session lookup in front of plugin
routes.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst.api.responses import fail
from catalyst.db.outage import MESSAGE, bad_input_reason, is_database_outage
from catalyst.http.started import StartedSend
from catalyst.log import get_logger

log = get_logger("db")

__all__ = ["MESSAGE", "DatabaseOutageMiddleware", "database_refusal", "is_database_outage"]


def database_refusal(exc: Exception, path: object) -> Response | None:
    """The answer to ``exc`` raised before a response began: 400 for a value the database
    cannot hold, 503 (logged) when the database did not answer; None for anything else."""
    reason = bad_input_reason(exc)
    if reason is not None:
        return fail(f"Invalid request: {reason}", 400)
    if not is_database_outage(exc):
        return None
    log.warning("database_unavailable", path=path, error=f"{type(exc).__name__}: {exc}"[:300])
    return fail(MESSAGE, 503, {"Retry-After": "5"})


class DatabaseOutageMiddleware:
    """503 JSON when the database did not answer; 400 JSON when it refused a value."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = StartedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            response = None if tracked.started else database_refusal(exc, scope.get("path"))
            if response is None:
                raise
            await response(scope, receive, send)
