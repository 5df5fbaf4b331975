"""The loop-stall watchdog names the plugin and the callable that blocked the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from catalyst.api import plugin_views
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

pytestmark = pytest.mark.runtime(
    "inprocess",
    reason=(
        "event-loop stalls blamed on a plugin happen only when its code runs on the host's loop"
    ),
)

BLOCKER = """
import time


def on_load(ctx):
    @ctx.get("/stall")
    async def stall(request):
        time.sleep(0.6)  # blocks the event loop: what an async handler must never do
        return {"slept": True}

    @ctx.get("/fine")
    async def fine(request):
        return {"fine": True}

    async def on_poke(data):
        time.sleep(0.4)

    ctx.on("server:poked", on_poke)

def on_enable(ctx):
    async def blocking_task():
        time.sleep(0.4)

    ctx.schedule_task("0 0 1 1 *", blocking_task, name="blocking-task")
"""
GUARD = 20.0


async def stalls_after(app: FastAPI, name: str, count: int) -> list[dict[str, Any]]:
    """Wait (bounded) until ``name`` has ``count`` stalls recorded; as the API shows them."""
    record = manager_of(app).get(name)
    async with asyncio.timeout(GUARD):
        while len(record.stalls) < count:
            await asyncio.sleep(0.02)
    return [plugin_views.stall(s).model_dump(mode="json") for s in record.stalls]


async def test_a_blocking_async_route_is_recorded_logged_and_named(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "blocker", BLOCKER, permissions=["server.read"])
    app = await app_factory(plugin_auto_enable=["blocker"], loop_stall_threshold_ms=250)
    c = await admin_client(app)
    for _ in range(3):
        assert (await c.get("/api/plugins/blocker/fine")).json() == {"fine": True}
    assert (await c.get("/api/plugins/blocker/stall")).json() == {"slept": True}
    [stall] = await stalls_after(app, "blocker", 1)
    assert (stall["kind"], stall["name"]) == ("route", "GET /stall")
    assert stall["function"].startswith("stall (backend/plugin.py:")
    assert stall["durationMs"] >= 250
    detail = (await c.get("/api/plugins/blocker")).json()["data"]
    assert detail["stalls"] == [stall]  # only the blocking request, not the fine ones
    logs = (await c.get("/api/plugins/blocker/logs")).json()["data"]
    [line] = [r for r in logs if "blocked the event loop" in r["message"]]
    assert line["level"] == "warning"
    assert "route 'GET /stall'" in line["message"]


async def test_a_blocking_listener_and_task_are_named_with_their_kind(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "blocker", BLOCKER, permissions=["server.read"])
    app = await app_factory(plugin_auto_enable=["blocker"], loop_stall_threshold_ms=250)
    await app.state.services.bus.emit("server:poked", {"id": 1})
    [listener] = await stalls_after(app, "blocker", 1)
    assert (listener["kind"], listener["name"]) == ("listener", "server:poked")
    assert listener["function"].startswith("on_poke (backend/plugin.py:")
    c = await admin_client(app)
    assert (await c.post("/api/plugins/blocker/tasks/blocking-task/run")).status_code == 200
    task = (await stalls_after(app, "blocker", 2))[1]
    assert (task["kind"], task["name"]) == ("task", "blocking-task")
