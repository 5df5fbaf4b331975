"""Map every error to the JSON envelope ``{"success": false, "error": "..."}``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalyst.api.responses import fail
from catalyst.errors import CatalystError, TooManyRequests
from catalyst.log import get_logger

log = get_logger("api")


def describe_validation(errors: Sequence[Any]) -> str:
    """One line per problem: ``body.name: Field required``."""
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg")))
    return "Invalid request: " + "; ".join(parts)


async def _catalyst_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CatalystError)
    headers = None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(int(exc.retry_after) + 1)}
    response = fail(exc.message, exc.status_code, headers)
    field_errors = getattr(exc, "errors", None)
    if isinstance(field_errors, dict):
        body = {"success": False, "error": exc.message, "errors": field_errors}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return fail(describe_validation(exc.errors()), 400)


_HTTP_MESSAGES = {404: "Not found", 405: "Method not allowed"}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if detail in ("Not Found", "Method Not Allowed"):
        detail = _HTTP_MESSAGES.get(exc.status_code, detail)
    return fail(detail, exc.status_code, dict(exc.headers) if exc.headers else None)


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CatalystError, _catalyst_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 JSON reply carrying a correlation id."""

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
        except Exception:  # the last line of defence: log and answer 500
            correlation = uuid.uuid4().hex[:12]
            log.exception("unhandled_error", path=scope.get("path"), correlation_id=correlation)
            if started:
                return
            response = fail(f"Internal server error (correlation id {correlation})", 500)
            response.headers["X-Correlation-Id"] = correlation
            await response(scope, receive, send)
