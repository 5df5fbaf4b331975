"""Map every error to the JSON envelope ``{"success": false, "error": "..."}``."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst.api.responses import fail
from catalyst.errors import CatalystError
from catalyst.http.bounded import join_bounded, shorten
from catalyst.http.started import StartedSend
from catalyst.log import get_logger

log = get_logger("api")


#: An error message never grows past this, whatever the request held.
MAX_MESSAGE = 2000
#: Per-field errors listed in ``errors`` at most.
MAX_FIELD_ERRORS = 20


def describe_validation(errors: Sequence[Any]) -> str:
    """One line per problem: ``body.name: Field required`` (the first few, each kept short)."""
    parts = []
    for err in errors:
        loc = shorten(".".join(str(p) for p in err.get("loc", ())), 120)
        msg = shorten(str(err.get("msg", "invalid")), 200)
        parts.append(f"{loc}: {msg}" if loc else msg)
    return shorten("Invalid request: " + join_bounded(parts), MAX_MESSAGE)


def _bounded_errors(errors: dict[Any, Any]) -> dict[str, str]:
    items = list(errors.items())[:MAX_FIELD_ERRORS]
    return {shorten(str(k), 120): shorten(str(v), 300) for k, v in items}


async def _catalyst_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CatalystError)
    headers = None
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float):
        headers = {"Retry-After": str(int(retry_after) + 1)}
    message = shorten(exc.message, MAX_MESSAGE)
    field_errors = getattr(exc, "errors", None)
    if isinstance(field_errors, dict):
        body = {"success": False, "error": message, "errors": _bounded_errors(field_errors)}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)
    return fail(message, exc.status_code, headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return fail(describe_validation(exc.errors()), 400)


_HTTP_MESSAGES = {404: "Not found", 405: "Method not allowed"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if detail in ("Not Found", "Method Not Allowed"):
        detail = _HTTP_MESSAGES.get(exc.status_code, detail)
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return fail(shorten(detail, MAX_MESSAGE), exc.status_code, headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first)."""
    methods: set[str] = set()
    path = request.url.path
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.path and _path_regex(route.path).match(path):
            methods.update(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


@functools.lru_cache(maxsize=512)
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CatalystError, _catalyst_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


def unhandled(path: object) -> JSONResponse:
    """Log the exception being handled with a new correlation id; the 500 answer naming it."""
    correlation = uuid.uuid4().hex[:12]
    log.exception("unhandled_error", path=path, correlation_id=correlation)
    response = fail(f"Internal server error (correlation id {correlation})", 500)
    response.headers["X-Correlation-Id"] = correlation
    return response


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 JSON reply carrying a correlation id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = StartedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception:  # noqa: BLE001 - the last line of defence: log and answer 500
            response = unhandled(scope.get("path"))
            if not tracked.started:
                await response(scope, receive, send)
