"""Plugin HTTP routes: validation at registration, a compiled per-plugin table, and calling.

A plugin's routes are served at ``/api/plugins/<name><url>``. The table is immutable; any change
builds a new one, which the dispatcher swaps in with one assignment. Urls use Starlette's
``{param}``/``{param:int}`` placeholders or the original system's Fastify style ``:param`` (and
``:param?``, an optional last segment); see :mod:`catalyst.plugins.route_paths`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.convertors import Convertor
from starlette.responses import PlainTextResponse, Response

from catalyst.api.responses import JSONResponse
from catalyst.plugins import executor
from catalyst.plugins.callables import is_async
from catalyst.plugins.route_paths import compile_url, specificity
from catalyst.plugins.ws_handlers import WsHandlerSpec
from catalyst.sdk.errors import RegistrationError
from catalyst.sdk.request import Request

Handler = Callable[..., Any]
CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Any]]

METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
#: Sub-paths of /api/plugins/<name> that belong to the admin API; plugins cannot register them.
#: The bare ``/api/plugins/<name>`` (sub-path "") is the admin detail; ``/`` is the plugin's own.
RESERVED: Final = ("/enable", "/reload", "/config", "/logs", "/tasks", "/frontend", "/permissions")
_URL = re.compile(r"^/[A-Za-z0-9_\-./{}:~?]*$")


def is_reserved(url: str) -> bool:
    return url == "" or any(url == r or url.startswith(r + "/") for r in RESERVED)


@dataclass(frozen=True, slots=True)
class RouteSpec:
    method: str
    url: str
    handler: Handler
    permission: str | None = None
    public: bool = False
    #: Raises (or lowers) the request body limit of this route (``catalyst.http.bodylimit``).
    max_body_bytes: int | None = None
    #: Seconds the handler may take before the request is answered 504 (None: the host default).
    timeout: float | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "permission": self.permission,
            "public": self.public,
            **({"timeout": self.timeout} if self.timeout is not None else {}),
        }


def validate_route(plugin: str, method: str, url: str, handler: Handler) -> str:
    """Check a route at registration; returns the normalised method."""
    m = method.upper() if isinstance(method, str) else ""
    if m not in METHODS:
        raise RegistrationError(
            f"Plugin {plugin!r}: route method {method!r} is not one of {', '.join(sorted(METHODS))}"
        )
    if not isinstance(url, str) or not _URL.match(url) or "//" in url or ".." in url:
        raise RegistrationError(
            f"Plugin {plugin!r}: route url {url!r} must start with '/' and use only letters, "
            "digits, '-', '_', '.', '~', and {param} or :param placeholders"
        )
    if is_reserved(url):
        raise RegistrationError(
            f"Plugin {plugin!r}: route url {url!r} is reserved for the admin API "
            f"({', '.join(RESERVED)})"
        )
    try:
        compile_url(url)
    except (AssertionError, ValueError) as exc:
        raise RegistrationError(f"Plugin {plugin!r}: route url {url!r}: {exc}") from exc
    if not callable(handler):
        raise RegistrationError(f"Plugin {plugin!r}: route handler for {m} {url} is not callable")
    return m


def check_timeout(plugin: str, method: str, url: str, timeout: object) -> float | None:
    """A route's ``timeout=`` option: None or a positive number of seconds."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise RegistrationError(
            f"Plugin {plugin!r}: route {method} {url}: timeout must be a positive number of "
            f"seconds, not {timeout!r}"
        )
    return float(timeout)


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    spec: RouteSpec
    regex: re.Pattern[str]
    convertors: Mapping[str, Convertor[Any]]
    takes_request: bool
    is_async: bool
    #: The handler wrapped in the plugin's middleware, composed once when the table is built.
    call: CallNext

    def match(self, path: str) -> dict[str, Any] | None:
        m = self.regex.match(path)
        if m is None:
            return None
        # An optional parameter (":id?") that is absent matches as None and is left out.
        return {k: self.convertors[k].convert(v) for k, v in m.groupdict().items() if v is not None}


def _takes_request(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )


def compile_route(spec: RouteSpec, middleware: Sequence[Middleware]) -> CompiledRoute:
    regex, convertors = compile_url(spec.url)
    takes_request, on_loop = _takes_request(spec.handler), is_async(spec.handler)

    handler = spec.handler
    if on_loop and takes_request:  # the usual handler: called here, one coroutine less

        async def endpoint(request: Request) -> Response:
            return to_response(await handler(request))

    else:

        async def endpoint(request: Request) -> Response:
            return await call_route(handler, takes_request, on_loop, request)

    return CompiledRoute(
        spec, regex, convertors, takes_request, on_loop, chain(middleware, endpoint)
    )


@dataclass(frozen=True, slots=True)
class PluginTable:
    """Everything the host needs to serve one enabled plugin, over HTTP and WebSocket.
    Immutable: the dispatcher publishes one per live plugin and swaps it in one step."""

    plugin: str
    routes: tuple[CompiledRoute, ...]
    middleware: tuple[Middleware, ...]
    public_granted: bool
    #: WebSocket handlers by message type (``plugin:<name>:<type>``).
    ws: Mapping[str, WsHandlerSpec] = field(default_factory=dict)

    def find(self, method: str, path: str) -> tuple[CompiledRoute | None, dict[str, Any], bool]:
        """(route, path params, path matched for another method). Routes are tried most
        specific first (see :func:`build_table`)."""
        other = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.spec.method == method or (method == "HEAD" and route.spec.method == "GET"):
                return route, params, False
            other = True
        return None, {}, other


def build_table(
    plugin: str,
    routes: Sequence[RouteSpec],
    middleware: Sequence[Middleware],
    public_granted: bool,
    ws_handlers: Mapping[str, WsHandlerSpec] | None = None,
) -> PluginTable:
    # Static segments win over parameters whatever the registration order (stable otherwise).
    ordered = sorted(routes, key=lambda r: specificity(r.url))
    compiled = tuple(compile_route(r, middleware) for r in ordered)
    ws = dict(ws_handlers or {})
    return PluginTable(plugin, compiled, tuple(middleware), public_granted, ws)


def to_response(result: Any) -> Response:
    """What a handler returned → a response. dict/list → JSON; (body, status[, headers]) too."""
    if isinstance(result, Response):
        return result
    status = 200
    headers: dict[str, str] | None = None
    if isinstance(result, tuple) and 2 <= len(result) <= 3 and isinstance(result[1], int):
        if len(result) == 3:
            headers = dict(result[2])
        result, status = result[0], result[1]
        if isinstance(result, Response):
            result.status_code = status
            return result
    if result is None:
        return Response(status_code=204 if status == 200 else status, headers=headers)
    if isinstance(result, str):
        return PlainTextResponse(result, status_code=status, headers=headers)
    if isinstance(result, bytes):
        return Response(result, status_code=status, headers=headers)
    return JSONResponse(result, status_code=status, headers=headers)


async def call_route(
    fn: Handler, takes_request: bool, is_async: bool, request: Request
) -> Response:
    args = (request,) if takes_request else ()
    if is_async:
        result = await fn(*args)
    else:  # a sync handler runs in its plugin's thread pool, never on the event loop
        result = await executor.run_sync(request.plugin, fn, *args)
        if inspect.isawaitable(result):
            result = await result
    return to_response(result)


def chain(middleware: Sequence[Middleware], endpoint: CallNext) -> CallNext:
    """Wrap ``endpoint`` so the first registered middleware runs outermost."""
    call = endpoint
    for mw in reversed(middleware):
        call = _wrap(mw, call)
    return call


def _wrap(mw: Middleware, call_next: CallNext) -> CallNext:
    if is_async(mw):

        async def run(request: Request) -> Response:
            return to_response(await mw(request, call_next))

        return run

    async def run_sync(request: Request) -> Response:
        # A sync middleware runs in the plugin's pool; what it returns (call_next's coroutine,
        # or its own response) is awaited here.
        result = await executor.run_sync(request.plugin, mw, request, call_next)
        return to_response(await result if inspect.isawaitable(result) else result)

    return run_sync
