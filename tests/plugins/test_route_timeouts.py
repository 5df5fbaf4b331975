"""Plugin requests end: a per-route timeout (504), the client leaving, host shutdown; run-now of a
hanging task answers at once, and a second run-now while it runs is a 409."""

from __future__ import annotations

import asyncio
import types
from typing import Any

import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.conftest import stop_app
from tests.live_server import LiveFactory
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

pytestmark = pytest.mark.runtime(
    "inprocess",
    reason=(
        "observes cancelled handlers through the plugin module's globals, shared only in-"
        "process (tests/runtime covers timeouts and cancel of process plugins)"
    ),
)

HANGING = """
import asyncio


started = asyncio.Event()
cancelled = asyncio.Event()
release = asyncio.Event()

def on_load(ctx):
    @ctx.get("/hang")
    async def hang(request):
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    @ctx.get("/ok")
    async def ok(request):
        return {"ok": True}

    @ctx.post("/echo")
    async def echo(request):
        started.set()
        await asyncio.sleep(0.5)  # past the moment the host starts watching for a disconnect
        return {"got": await request.json()}

def on_enable(ctx):
    async def stuck():
        started.set()
        await release.wait()

    ctx.schedule_task("0 0 1 1 *", stuck, name="stuck")
"""

# Bounds only so that a missing fix fails instead of hanging the run.
HANG_GUARD = 20.0


def module(app: FastAPI, name: str = "hanging") -> types.ModuleType:
    instance = manager_of(app).get(name).instance
    assert instance is not None
    return instance.module


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "hanging", HANGING)
    return await app_factory(plugin_auto_enable=["hanging"], plugin_route_timeout=0.3)


async def test_route_timeout_default_and_per_route_are_504_json(app: FastAPI) -> None:
    c = await admin_client(app)
    async with asyncio.timeout(HANG_GUARD):
        r = await c.get("/api/plugins/hanging/hang")  # the host default (0.3 s here)
    assert r.status_code == 504
    assert r.json() == {
        "success": False,
        "error": "Plugin 'hanging' did not answer within 0.3 s",
    }
    assert module(app).cancelled.is_set()  # the handler was cancelled, not left running

    async def forever() -> None:
        await asyncio.sleep(3600)

    ctx = manager_of(app).get("hanging").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    ctx.register_route("GET", "/quick-timeout", forever, timeout=0.2)
    ctx.register_route("GET", "/patient", lambda: {"ok": True}, timeout=60)
    async with asyncio.timeout(HANG_GUARD):
        r = await c.get("/api/plugins/hanging/quick-timeout")  # its own timeout=0.2
    assert (r.status_code, r.json()["error"]) == (
        504,
        "Plugin 'hanging' did not answer within 0.2 s",
    )
    assert (await c.get("/api/plugins/hanging/patient")).json() == {"ok": True}
    logs = (await c.get("/api/plugins/hanging/logs")).json()["data"]
    assert any("timed out" in r["message"] for r in logs)


async def test_a_bad_timeout_option_is_refused_at_registration(app: FastAPI) -> None:
    from catalyst.sdk import RegistrationError

    ctx = manager_of(app).get("hanging").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    bad_timeouts: tuple[Any, ...] = (0, -1, "5", True)
    for bad in bad_timeouts:
        with pytest.raises(RegistrationError, match="timeout must be a positive number"):
            ctx.register_route("GET", "/bad", lambda: None, timeout=bad)


async def test_the_body_is_still_read_after_the_host_watches_for_disconnects(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "hanging", HANGING)
    app = await app_factory(plugin_auto_enable=["hanging"])
    c = await admin_client(app)
    r = await c.post("/api/plugins/hanging/echo", json={"a": [1, 2]})
    assert r.json() == {"got": {"a": [1, 2]}}


async def test_client_leaving_cancels_the_handler(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, "hanging", HANGING)
    live = await live_factory(plugin_auto_enable=["hanging"])
    token = await live.token()
    plugin = module(live.app)
    _, writer = await asyncio.open_connection("127.0.0.1", live.port)
    writer.write(
        b"GET /api/plugins/hanging/hang HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    await writer.drain()
    async with asyncio.timeout(HANG_GUARD):
        await plugin.started.wait()
    writer.close()  # the client goes away
    await writer.wait_closed()
    async with asyncio.timeout(HANG_GUARD):
        await plugin.cancelled.wait()
    assert len(live.app.state.services.dispatcher.inflight) == 0


async def test_shutdown_ends_requests_in_flight_with_503(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "hanging", HANGING)
    app = await app_factory(plugin_auto_enable=["hanging"])  # default timeout: 30 s
    c = await admin_client(app)
    request = asyncio.create_task(c.get("/api/plugins/hanging/hang"))
    async with asyncio.timeout(HANG_GUARD):
        await module(app).started.wait()
        await stop_app(app)
        r = await request
    assert (r.status_code, r.json()["error"]) == (503, "The host is shutting down")


async def test_run_now_of_a_hanging_task_answers_and_a_second_is_409(app: FastAPI) -> None:
    c = await admin_client(app)
    async with asyncio.timeout(HANG_GUARD):
        r = await c.post("/api/plugins/hanging/tasks/stuck/run")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    assert body["data"]["running"] is True
    assert body["data"]["id"] == "stuck"  # the id the plugin detail lists
    assert body["message"] == "Task started; it is still running"
    r = await c.post("/api/plugins/hanging/tasks/stuck/run")
    assert r.status_code == 409
    assert r.json()["error"] == "Cannot run task 'stuck': it is running, but needs to be idle"
    module(app).release.set()
