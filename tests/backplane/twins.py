"""Two instances in one test process (``pair``): a plugin ``twin`` for them, and polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.live_server import LiveFactory
from tests.plugin_helpers import write_plugin

TWIN = """
SEEN = []  # this generation's every_instance deliveries (each instance runs its own)


def on_enable(ctx):
    @ctx.get("/greeting")
    async def greeting(request):
        return {"greeting": ctx.get_config("greeting")}

    @ctx.post("/emit")
    async def emit(request):
        await ctx.emit("ping", {"n": 1})
        return {"ok": True}

    @ctx.get("/seen")
    async def seen(request):
        return {"seen": len(SEEN), "once": await ctx.get_storage("once", 0)}

    @ctx.post("/send")
    async def send(request):
        body = await request.json()
        message = {"type": "plugin:twin:hello", "data": body.get("data")}
        if body["to"] == "client":
            ctx.send_websocket_message(body["client"], message)
        elif body["to"] == "user":
            ctx.send_to_user(body["user"], message)
        else:
            ctx.broadcast(message)
        return {"ok": True}

    async def once(data):
        await ctx.set_storage("once", await ctx.get_storage("once", 0) + 1)

    def everywhere(data):
        SEEN.append(data)

    ctx.on("twin:ping", once)
    ctx.on("twin:ping", everywhere, every_instance=True)
"""
CONFIG = {"greeting": {"type": "string", "default": "hello"}}


@dataclass
class Pair:
    a: PluginHarness
    b: PluginHarness
    admin_a: httpx.AsyncClient
    admin_b: httpx.AsyncClient


async def make_pair(
    settings: Settings, live_factory: LiveFactory, redis_url: str, cluster_name: str
) -> Pair:
    write_plugin(settings.plugins_dir, "twin", TWIN, config=CONFIG)
    common: dict[str, Any] = {"redis_url": redis_url, "cluster_name": cluster_name}
    a = await live_factory(instance_id="a", data_dir=settings.data_dir / "a", **common)
    b = await live_factory(instance_id="b", data_dir=settings.data_dir / "b", **common)
    return Pair(a, b, await a.as_admin(), await b.as_admin())


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until ``check()`` held; fails past ``seconds`` (a bounded poll: convergence
    across instances has no event the test could wait on)."""
    began = time.monotonic()
    while not await check():
        assert time.monotonic() - began < seconds, f"not converged within {seconds} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - began


async def status_of(client: httpx.AsyncClient, path: str) -> int:
    return (await client.get(path)).status_code
