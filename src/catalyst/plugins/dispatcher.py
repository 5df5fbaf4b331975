"""The one host-owned dispatcher in front of every plugin route.

It is an ASGI middleware: a request under ``/api/plugins/<name>/...`` that is not an admin path is
served here from the live table of that plugin, without going through FastAPI's router. Tables are
kept in a dict that is replaced, never mutated, so a request sees either the old or the new table
of a plugin, never half of one (enable, disable and reload swap them in one assignment).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst.auth.deps import principal_from
from catalyst.errors import CatalystError
from catalyst.log import get_logger
from catalyst.plugins.routing import PluginTable, is_reserved
from catalyst.sdk.errors import HTTPError
from catalyst.sdk.request import Request

PREFIX = "/api/plugins/"
log = get_logger("plugins.dispatcher")


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"success": False, "error": message}, status_code=status, headers=headers)


class Dispatcher:
    """Holds the live plugin tables; ``set``/``remove`` swap them atomically."""

    def __init__(self) -> None:
        self._tables: dict[str, PluginTable] = {}
        #: Says why a known plugin without a table does not serve (None: unknown plugin).
        self.unavailable: Callable[[str], str | None] = lambda _name: None

    def set(self, table: PluginTable) -> None:
        self._tables = {**self._tables, table.plugin: table}

    def remove(self, plugin: str) -> None:
        if plugin in self._tables:
            tables = dict(self._tables)
            del tables[plugin]
            self._tables = tables

    def table(self, plugin: str) -> PluginTable | None:
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
        scope["path_params"] = params
        scope["catalyst.plugin"] = table.plugin
        if route.spec.max_body_bytes is not None:  # read at body-read time by http.bodylimit
            scope["catalyst.body_limit"] = route.spec.max_body_bytes
        request = Request(scope, receive)
        principal = await principal_from(request)
        scope["catalyst.principal"] = principal
        if not (route.spec.public and table.public_granted):
            if principal is None:
                return _error("Not authenticated: log in or send a bearer token", 401)
            if route.spec.permission and not principal.can(route.spec.permission):
                return _error(f"Missing permission: {route.spec.permission}", 403)

        try:
            return await route.call(request)
        except HTTPError as exc:
            return _error(exc.message, exc.status_code)
        except CatalystError as exc:  # a refused ctx call (bad config value, storage limit …)
            if exc.status_code >= 500:
                raise
            return _error(exc.message, exc.status_code)
        except Exception:
            correlation = uuid.uuid4().hex[:12]
            log.exception(
                "plugin_route_failed",
                plugin=table.plugin,
                method=method,
                path=path,
                correlation_id=correlation,
            )
            return _error(
                f"Plugin {table.plugin!r} failed to handle the request "
                f"(correlation id {correlation})",
                500,
                {"X-Correlation-Id": correlation},
            )


class DispatchMiddleware:
    """ASGI middleware routing plugin paths to the app's :class:`Dispatcher`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        name, slash, rest = path[len(PREFIX) :].partition("/")
        sub = slash + rest
        if not name or is_reserved(sub):
            await self.app(scope, receive, send)
            return
        dispatcher: Dispatcher = scope["app"].state.services.dispatcher
        table = dispatcher.table(name)
        if table is None:
            reason = dispatcher.unavailable(name)
            if reason is None:
                response: Response = _error("Plugin not found", 404)
            else:
                response = _error(reason, 503)
        else:
            response = await dispatcher.serve(table, sub, scope, receive)
        await response(scope, receive, send)
