"""The plugin gate: a plugin route is served at the outermost layer, in one pass.

A request for ``/api/plugins/<name>/<path>`` that is not an admin path is recognised before
FastAPI's own stack (its error middleware, the host's middleware, its router) and gets, inline
and in the same order, exactly what that stack did for it:

1. the client address from a trusted proxy's headers (:mod:`catalyst.http.forwarded`);
2. the cross-origin check of a cookie-authenticated unsafe request (:mod:`catalyst.http.origin`);
3. the body limit, counted while the body is read: the API's, or the route's own
   ``max_body_bytes`` that the dispatcher sets (:mod:`catalyst.http.bodylimit`);
4. NUL in the path (404) or the query (400) (:mod:`catalyst.api.input_guard`);
5. the plugin's live table from the dispatcher, which resolves the caller, checks the
   permission and runs the route under its timeout, tracked in flight
   (:class:`catalyst.plugins.dispatcher.Dispatcher`); its answer is counted and timed by route
   template (:func:`catalyst.metrics.record_plugin_request`);
6. an exception before the answer began: a database that did not answer → 503, a value it
   cannot hold → 400 (:mod:`catalyst.api.db_errors`), anything else → logged, 500 with a
   correlation id (:mod:`catalyst.api.exception_handlers`).

Every other request, every WebSocket and the lifespan go through the full stack, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from time import perf_counter
from typing import Final

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst.api.db_errors import database_refusal
from catalyst.api.exception_handlers import unhandled
from catalyst.api.input_guard import target_problem
from catalyst.api.responses import JSONResponse as EnvelopeResponse
from catalyst.api.responses import fail
from catalyst.http.bodylimit import SCOPE_KEY, Guarded, too_large
from catalyst.http.forwarded import ForwardedMiddleware
from catalyst.http.origin import UNSAFE, http_refusal
from catalyst.metrics import record_plugin_request
from catalyst.plugins.dispatcher import PREFIX, Dispatcher
from catalyst.plugins.routing import RESERVED

_START: Final = len(PREFIX)
#: ``routing.is_reserved`` in one set lookup: a reserved sub-path's first segment is one of these.
_RESERVED: Final = frozenset(RESERVED)
#: Responses whose ``__call__`` is Starlette's plain one: sent here directly.
_PLAIN: Final = frozenset(
    {Response, JSONResponse, EnvelopeResponse, PlainTextResponse, HTMLResponse}
)


def plugin_route(path: str) -> tuple[str, str] | None:
    """``(plugin name, sub-path)`` for a path the dispatcher serves, else None (admin paths
    such as ``/api/plugins/<name>/enable`` and the bare ``/api/plugins/<name>`` included)."""
    if not path.startswith(PREFIX):
        return None
    name, slash, rest = path[_START:].partition("/")
    if not name or not slash:
        return None
    end = rest.find("/")
    if ("/" + (rest if end < 0 else rest[:end])) in _RESERVED:
        return None
    return name, "/" + rest


class PluginGate:
    """Serves plugin routes for ``app`` (whose lifespan builds ``app.state.services``)."""

    def __init__(
        self,
        app: FastAPI,
        *,
        api_limit: int,
        allowed_origins: Iterable[str],
        cookie_name: str,
        trusted_proxies: Sequence[str],
    ) -> None:
        self.app = app
        self.api_limit = api_limit
        self.allowed = tuple(allowed_origins)
        self.cookie_name = cookie_name
        self.serve: ASGIApp = (
            ForwardedMiddleware(self._serve, trusted=trusted_proxies)
            if trusted_proxies
            else self._serve
        )

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = Guarded(scope, receive, send)
        try:
            if scope["method"] in UNSAFE:
                headers = Headers(scope=scope)
                refused = http_refusal(scope, headers, self.allowed, self.cookie_name)
                if refused is not None:
                    await fail(refused, 403)(scope, receive, guard.send)
                    return
            scope.setdefault(SCOPE_KEY, self.api_limit)
            try:
                problem = target_problem(scope)
                if problem is not None:
                    response: Response = fail(*problem)
                else:  # the dispatcher's answer, awaited here (one coroutine less)
                    name, _, rest = scope["path"][_START:].partition("/")
                    dispatcher: Dispatcher = self.app.state.services.dispatcher
                    table = dispatcher.table(name)
                    if table is not None:
                        began = perf_counter()
                        response = await dispatcher.serve(table, "/" + rest, scope, guard.receive)
                        record_plugin_request(
                            name,
                            scope.get("catalyst.route"),
                            scope["method"],
                            response.status_code,
                            perf_counter() - began,
                        )
                    else:
                        response = self._unavailable(dispatcher, name)
                if guard.exceeded is None and type(response) in _PLAIN:
                    # what Response.__call__ sends, without the layers in between
                    guard.started = True
                    start = {"type": "http.response.start", "status": response.status_code}
                    start["headers"] = response.raw_headers
                    await send(start)
                    await send({"type": "http.response.body", "body": response.body})
                    if response.background is not None:
                        await response.background()
                else:
                    await response(scope, guard.receive, guard.send)
            except Exception:
                if guard.exceeded is None or guard.started:
                    raise
            if guard.exceeded is not None and not guard.started:  # answered 413, whatever else
                guard.started = True
                await too_large(guard.exceeded)(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - logged by `unhandled` unless a DB refusal
            answer = None if guard.started else database_refusal(exc, scope.get("path"))
            if answer is None:
                answer = unhandled(scope.get("path"))  # logs it, with a correlation id
                if guard.started:
                    return
            await answer(scope, receive, send)

    @staticmethod
    def _unavailable(dispatcher: Dispatcher, name: str) -> Response:
        reason = dispatcher.unavailable(name)
        return fail("Plugin not found", 404) if reason is None else fail(reason, 503)


class CatalystApp(FastAPI):
    """FastAPI, with plugin routes answered by its :class:`PluginGate` before its own stack."""

    plugin_gate: PluginGate | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.plugin_gate
        if gate is None or scope["type"] != "http" or plugin_route(scope["path"]) is None:
            await super().__call__(scope, receive, send)
            return
        if self.root_path:
            scope["root_path"] = self.root_path
        scope["app"] = self
        await gate.serve(scope, receive, send)
