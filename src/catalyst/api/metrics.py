"""``/metrics`` in the Prometheus text format, and the host routes' own request metrics.

Where it is served depends on the settings (see ``docs/metrics.md``):

* ``metrics_enabled = false``: nowhere, and host requests are not measured;
* ``metrics_port`` unset: on the main app at ``/metrics``, to a principal holding ``admin.read``
  (bearer token or session cookie; 401/403 JSON otherwise), or to anyone with
  ``metrics_public = true`` (scrapers on a private network);
* ``metrics_port`` set: only on a plain listener at ``127.0.0.1:<port>`` without login, started
  and stopped with the app. With several workers each binds it with ``SO_REUSEPORT``: whichever
  answers reads every worker's values (multiprocess mode).
"""

from __future__ import annotations

import asyncio
import contextlib
from time import perf_counter
from typing import Final

from fastapi import APIRouter, Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalyst import metrics
from catalyst.auth.deps import require
from catalyst.log import get_logger
from catalyst.metrics import record_host_request
from catalyst.settings import Settings

log = get_logger("metrics")
#: Where the separate listener binds (``metrics_port``): this machine only.
LISTEN_HOST: Final = "127.0.0.1"
_REQUEST_SECONDS: Final = 5.0  # a scraper's request must arrive within this
_MAX_HEADER_LINES: Final = 100


class HostMetricsMiddleware:
    """Counts and times every HTTP request of a host route (plugin routes are counted by the
    plugin gate), labelled with the route's path template, never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = scope.get("route")
            template = None if route is None else getattr(route, "path", metrics.NO_TEMPLATE)
            record_host_request(template, scope["method"], status, perf_counter() - began)


async def _exposition() -> Response:
    body = await run_in_threadpool(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE)


def _router(public: bool) -> APIRouter:
    router = APIRouter(tags=["metrics"])
    dependencies = [] if public else [Depends(require("admin.read"))]
    router.add_api_route(
        "/metrics",
        _exposition,
        methods=["GET"],
        dependencies=dependencies,
        response_class=Response,
        include_in_schema=False,  # Prometheus text, not the JSON API (docs/metrics.md)
    )
    return router


def install(app: FastAPI, settings: Settings) -> None:
    """Measure host requests and serve ``/metrics`` on ``app`` as the settings say. Call it
    after the other middleware: it is outermost, so refusals by the others are counted too."""
    if not settings.metrics_enabled:
        return
    app.add_middleware(HostMetricsMiddleware)
    if settings.metrics_port is None:
        app.include_router(_router(settings.metrics_public))


class MetricsListener:
    """A minimal HTTP/1.0 server answering ``GET /metrics`` (and ``/``) on one port."""

    def __init__(self, port: int, host: str = LISTEN_HOST) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.port, reuse_port=metrics.multiprocess() or None
            )
        except OSError as exc:
            raise RuntimeError(
                f"metrics_port {self.port}: cannot listen on {self.host}:{self.port} ({exc})"
            ) from exc
        log.info("metrics_listening", address=f"http://{self.host}:{self.port}/metrics")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_REQUEST_SECONDS):
                request = await reader.readline()
                for _ in range(_MAX_HEADER_LINES):
                    if (await reader.readline()).strip() == b"":
                        break
            parts = request.split()
            method = parts[0] if parts else b""
            path = parts[1].partition(b"?")[0] if len(parts) > 1 else b""
            if method not in (b"GET", b"HEAD"):
                head, body = b"405 Method Not Allowed", b"Only GET\n"
                kind = "text/plain; charset=utf-8"
            elif path not in (b"/metrics", b"/"):
                head, body, kind = b"404 Not Found", b"Not found: GET /metrics\n", "text/plain"
            else:
                head, kind = b"200 OK", metrics.CONTENT_TYPE
                body = await asyncio.to_thread(metrics.render)
            writer.write(
                b"HTTP/1.1 " + head + b"\r\nContent-Type: " + kind.encode()
                + b"\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n" + (b"" if method == b"HEAD" else body)
            )  # fmt: skip
            await writer.drain()
        except (TimeoutError, OSError, ValueError):  # slow, gone, or a line over the limit
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def start(settings: Settings) -> MetricsListener | None:
    """At app start: the separate listener, when ``metrics_port`` is set."""
    if not settings.metrics_enabled or settings.metrics_port is None:
        return None
    listener = MetricsListener(settings.metrics_port)
    await listener.start()
    return listener


async def stop(listener: MetricsListener | None) -> None:
    """At app stop: the listener ends, and in multiprocess mode this worker's live gauges
    (WebSocket clients, plugin states) leave the totals."""
    if listener is not None:
        await listener.stop()
    metrics.process_exiting()
