"""The one host-owned dispatcher in front of every plugin route.

It is an ASGI middleware: a request under ``/api/plugins/<name>/...`` that is not an admin path is
served here from the live table of that plugin, without going through FastAPI's router. Tables are
kept in a dict that is replaced, never mutated, so a request sees either the old or the new table
of a plugin, never half of one (enable, disable and reload swap them in one assignment). The same
table carries the plugin's WebSocket handlers, which ``/ws`` looks up here too
(:meth:`Dispatcher.table`): whether a plugin is live has one answer for HTTP and WebSocket.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, Final

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope

from catalyst.auth.principals import Principals
from catalyst.cancellation import host_cancelled
from catalyst.db.outage import MESSAGE as OUTAGE
from catalyst.db.outage import bad_input_reason, is_database_outage
from catalyst.errors import CatalystError
from catalyst.log import get_logger
from catalyst.plugins import watchdog
from catalyst.plugins.inflight import WATCH_AFTER, Call, InFlight, Reason
from catalyst.plugins.logs import plugin_error
from catalyst.plugins.routing import PluginTable
from catalyst.sdk.errors import ConfigError, HTTPError, PluginPermissionError
from catalyst.sdk.request import Request

PREFIX = "/api/plugins/"
log = get_logger("plugins.dispatcher")


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"success": False, "error": message}, status_code=status, headers=headers)


class Dispatcher:
    """Holds the published plugin tables; ``publish``/``withdraw`` swap them atomically."""

    def __init__(self, principals: Principals, *, route_timeout: float = 30.0) -> None:
        self._tables: dict[str, PluginTable] = {}
        self.principals = principals
        #: Seconds a route may take when it sets no ``timeout`` of its own.
        self.route_timeout = route_timeout
        self.inflight = InFlight()
        #: Says why a known plugin without a table does not serve (None: unknown plugin); the
        #: composition root (:mod:`catalyst.services`) sets it to the plugin manager's answer.
        self.unavailable: Callable[[str], str | None] = lambda _name: None

    def publish(self, table: PluginTable) -> None:
        """Make ``table`` the one its plugin serves (HTTP and WebSocket), in one step."""
        self._tables = {**self._tables, table.plugin: table}

    def withdraw(self, plugin: str) -> None:
        """``plugin`` serves nothing any more."""
        if plugin in self._tables:
            tables = dict(self._tables)
            del tables[plugin]
            self._tables = tables

    def table(self, plugin: str) -> PluginTable | None:
        """The published table of ``plugin``: the one lookup for HTTP and WebSocket."""
        return self._tables.get(plugin)

    def route_count(self, plugin: str | None = None) -> int:
        tables = self._tables.values() if plugin is None else [self._tables.get(plugin)]
        return sum(len(t.routes) for t in tables if t is not None)

    async def serve(
        self, table: PluginTable, path: str, scope: Scope, receive: Receive
    ) -> Response:
        method = scope["method"]
        route, params, other_method = table.find(method, path)
        if route is None:
            if other_method:
                allow = {r.spec.method for r in table.routes if r.match(path) is not None}
                allow |= {"HEAD"} if "GET" in allow else set()
                headers = {"Allow": ", ".join(sorted(allow))}
                return _error(f"Method {method} not allowed for {path}", 405, headers)
            return _error(f"No route {method} {path} in plugin {table.plugin!r}", 404)
        spec = route.spec
        plugin = table.plugin
        scope["path_params"] = params
        scope["catalyst.plugin"] = plugin
        scope["catalyst.route"] = spec.url  # the route template: the metrics' route label
        if spec.max_body_bytes is not None:  # read at body-read time by http.bodylimit
            scope["catalyst.body_limit"] = spec.max_body_bytes
        call = Call(receive)
        request = Request(scope, call.receive)
        principal = await self.principals.of(request)
        scope["catalyst.principal"] = principal
        if not (spec.public and table.public_granted):
            if principal is None:
                return _error("Not authenticated: log in or send a bearer token", 401)
            if spec.permission and not principal.can(spec.permission):
                return _error(f"Missing permission: {spec.permission}", 403)
        seconds = spec.timeout or self.route_timeout
        where = f"{method} {spec.url}"
        now = asyncio.get_running_loop().time()
        if seconds > WATCH_AFTER:  # armed by the in-flight timer if the call lasts that long
            deadline = asyncio.timeout(None)
            call.start(deadline, now, now + seconds)
        else:
            deadline = asyncio.timeout_at(now + seconds)
            call.start(deadline, now, None)
        self.inflight.add(call)
        try:
            with watchdog.doing(plugin, "route", where):
                async with deadline:
                    response = await route.call(request)
        except TimeoutError as exc:
            if not deadline.expired():  # the plugin's own TimeoutError
                return _failed(plugin, where, path, exc)
            return _ended(plugin, where, call.reason or "timeout", seconds)
        except BaseException as exc:
            if host_cancelled(exc):
                raise
            return _refused(exc) or _failed(plugin, where, path, exc)
        finally:
            self.inflight.discard(call)
        problem = _invalid(response)
        if problem is not None:
            return _failed(plugin, where, path, ValueError(f"invalid response: {problem}"))
        if isinstance(response, StreamingResponse):
            response.body_iterator = _reported(plugin, where, path, response.body_iterator)
        return response


async def _reported(
    plugin: str, where: str, path: str, body: AsyncIterable[Any]
) -> AsyncIterator[Any]:
    """A streamed body, whose failure (after the answer began, so the connection is cut) goes
    to the plugin's own log like any route failure, not only to the host's."""
    try:
        async for chunk in body:
            yield chunk
    except Exception as exc:
        plugin_error(plugin, f"route {where} failed while streaming its answer", exc, path=path)
        raise


def _refused(exc: BaseException) -> Response | None:
    """A refusal the plugin author meant, or the host made on the plugin's behalf: its own 4xx."""
    if isinstance(exc, HTTPError):
        return _error(exc.message, exc.status_code)
    if isinstance(exc, CatalystError):
        # a refused ctx call (bad config value …), or the host's own 503 (database unavailable)
        return _error(exc.message, exc.status_code)
    if isinstance(exc, Exception):
        if (reason := bad_input_reason(exc)) is not None:  # a value the database cannot hold
            return _error(f"Invalid request: {reason}", 400)
        if is_database_outage(exc):
            return _error(OUTAGE, 503, {"Retry-After": "5"})
    if isinstance(exc, PluginPermissionError):
        return _error(str(exc), 403)
    if isinstance(exc, ConfigError):
        return _error(str(exc), 400)
    return None


def _failed(plugin: str, where: str, path: str, exc: BaseException) -> Response:
    correlation = uuid.uuid4().hex[:12]
    plugin_error(plugin, f"route {where} failed", exc, path=path, correlation_id=correlation)
    return _error(
        f"Plugin {plugin!r} failed to handle the request (correlation id {correlation})",
        500,
        {"X-Correlation-Id": correlation},
    )


def _ended(plugin: str, where: str, reason: Reason, seconds: float) -> Response:
    if reason == "timeout":
        plugin_error(plugin, f"route {where} timed out after {seconds:g} s", level="warning")
        return _error(f"Plugin {plugin!r} did not answer within {seconds:g} s", 504)
    if reason == "shutdown":
        return _error("The host is shutting down", 503)
    # The client went away: nobody reads this answer (499 is the usual log code for it).
    return _error("Client closed the request", 499)


_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: Header names already found valid tokens (most responses repeat the same few): checked once.
_NAMES: set[bytes] = set()
_NAMES_KEPT: Final = 512


def _invalid(response: Response) -> str | None:
    """Why ``response`` cannot be sent (a bad status or header), else None."""
    status = response.status_code
    if (type(status) is not int or not 200 <= status <= 599) and (
        isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599
    ):
        return f"status {status!r} is not an HTTP status from 200 to 599"
    try:
        headers = response.raw_headers
        for name, value in headers:
            if type(name) is not bytes or name not in _NAMES:
                if not isinstance(name, bytes) or not _TOKEN.match(name):
                    return f"header name {name!r} is not a valid token"
                if type(name) is bytes and len(_NAMES) < _NAMES_KEPT:
                    _NAMES.add(name)
            if not isinstance(value, bytes) or b"\0" in value or b"\n" in value or b"\r" in value:
                return f"header {name!r} has an invalid value {value!r}"
    except (TypeError, ValueError):
        return "headers are not (name, value) pairs"
    return None
