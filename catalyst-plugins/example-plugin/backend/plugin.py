"""The example plugin: every capability of the Catalyst plugin system in one place.

- ``GET /hello``: the configured greeting and the request count (public)
- ``POST /echo``: echoes the JSON body (public)
- ``GET /stats``: install date, task runs, last run, uptime, request count, server events seen
  (public)
- ``GET /whoami``: the logged-in caller (needs a login, like every route not marked public)

The three demo routes are public (``public=True``, which needs the ``http.public`` permission in
``plugin.json``), so the seed's ``curl`` commands answer without a login.
- WebSocket ``plugin:example-plugin:ping`` → ``plugin:example-plugin:pong``
- a task every five minutes that counts its runs and emits ``example-plugin:task-completed``
- listeners for ``server:started`` and ``server:stopped``
- a middleware that counts requests and times them
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from catalyst.sdk import HTTPError, PluginContext, Request, Response

from .counter import STORAGE_KEY, RequestCounter


def now() -> str:
    return datetime.now(UTC).isoformat()


class ExamplePlugin:
    """Hooks as methods of a ``plugin`` object; module-level functions work too."""

    def __init__(self) -> None:
        self.counter = RequestCounter(0)
        self.enabled_at: float | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def on_load(self, ctx: PluginContext) -> None:
        self.counter = RequestCounter(int(await ctx.get_storage(STORAGE_KEY, 0)))
        if await ctx.get_storage("installed_at") is None:
            await ctx.set_storage("installed_at", now())

        async def count_requests(request: Request, call_next: Any) -> Response:
            self.counter.hit()
            started = time.perf_counter()
            response: Response = await call_next(request)
            response.headers["X-Example-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"
            return response

        ctx.register_middleware(count_requests)

        @ctx.get("/hello", public=True)
        async def hello(request: Request) -> dict[str, Any]:
            return {
                "success": True,
                "message": ctx.get_config("greeting"),
                "requestCount": self.counter.total,
            }

        @ctx.post("/echo", public=True)
        async def echo(request: Request) -> dict[str, Any]:
            body = await request.body()
            if len(body) > ctx.get_config("echoLimit"):
                raise HTTPError(413, f"Body is {len(body)} bytes; the limit is echoLimit")
            return {"success": True, "echo": await request.json(), "receivedAt": now()}

        @ctx.get("/stats", public=True)
        async def stats(request: Request) -> dict[str, Any]:
            await self.flush(ctx)
            uptime = time.monotonic() - self.enabled_at if self.enabled_at else 0.0
            return {
                "success": True,
                "data": {
                    "installedAt": await ctx.get_storage("installed_at"),
                    "lastTaskRun": await ctx.get_storage("last_task_run"),
                    "taskRunCount": await ctx.get_storage("task_runs", 0),
                    "uptimeSeconds": round(uptime, 3),
                    "requestCount": await ctx.get_storage(STORAGE_KEY, 0),
                    "serverEvents": await ctx.list_storage("server_events:"),
                },
            }

        @ctx.get("/whoami")
        async def whoami(request: Request) -> dict[str, Any]:
            user = request.user  # never None here: the route is not public
            return {
                "success": True,
                "username": user.username if user else None,
                "roles": list(user.roles) if user else [],
            }

        ctx.logger.info("example plugin loaded", requests_so_far=self.counter.total)

    async def on_enable(self, ctx: PluginContext) -> None:
        self.enabled_at = time.monotonic()

        async def ping(data: Any, client_id: str) -> None:
            ctx.send_websocket_message(
                client_id,
                {
                    "type": "plugin:example-plugin:pong",
                    "data": {"timestamp": now(), "original": data},
                },
            )

        ctx.on_websocket_message("ping", ping)

        async def every_five_minutes() -> None:
            runs = await ctx.increment_storage("task_runs")
            at = now()
            await ctx.set_storage("last_task_run", at)
            await self.flush(ctx)
            ctx.logger.info("five-minute task ran", runs=runs)
            await ctx.emit("task-completed", {"runs": runs, "at": at})

        ctx.schedule_task("*/5 * * * *", every_five_minutes, name="five-minute")

        async def server_event(data: dict[str, Any], event: str) -> None:
            count = await ctx.increment_storage(f"server_events:{event}")
            if ctx.get_config("logServerEvents"):
                server = data.get("server", {}) if isinstance(data, dict) else {}
                ctx.logger.info("server event", event=event, server=server.get("name"), n=count)

        ctx.on("server:started", server_event)
        ctx.on("server:stopped", server_event)
        ctx.logger.info("example plugin enabled")

    async def on_disable(self, ctx: PluginContext) -> None:
        await self.flush(ctx)
        self.enabled_at = None
        ctx.logger.info("example plugin disabled")

    async def on_unload(self, ctx: PluginContext) -> None:
        await self.flush(ctx)
        ctx.logger.info("example plugin unloaded")

    async def on_config_change(self, ctx: PluginContext, changes: dict[str, Any]) -> None:
        ctx.logger.info("config changed", keys=sorted(changes))

    # -- helpers ---------------------------------------------------------------------------

    async def flush(self, ctx: PluginContext) -> None:
        """Add the requests counted in memory to storage, and resync with other generations."""
        delta = self.counter.take()
        stored = await ctx.increment_storage(STORAGE_KEY, delta)
        self.counter.synced(int(stored))


plugin = ExamplePlugin()
