"""Core events reach plugins; the example plugin's task runs on a fake clock; pushes go out."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from fastapi import FastAPI

from catalyst.clock import FakeClock
from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.live_server import LiveFactory, connect, eventually, receive
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client, manager_of


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory, clock: FakeClock) -> FastAPI:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    return await app_factory(plugin_auto_enable=["example-plugin"], clock=clock)


@pytest.fixture
async def live(settings: Settings, live_factory: LiveFactory, clock: FakeClock) -> PluginHarness:
    """A live host with the example plugin, on the module's clock (its five-minute task does not
    fire in the middle of a test that counts pushes and log records)."""
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    return await live_factory(plugin_auto_enable=["example-plugin"], clock=clock)


def record(app: FastAPI, pattern: str) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    app.state.services.bus.subscribe(pattern, lambda e, d: seen.append((e, d)))
    return seen


async def test_servers_api_events_reach_the_example_plugin(app: FastAPI) -> None:
    seen = record(app, "server:*")
    c = await admin_client(app)
    sid = (await c.post("/api/servers", json={"name": "S", "game": "g"})).json()["data"]["id"]
    await c.post(f"/api/servers/{sid}/start")
    await c.post(f"/api/servers/{sid}/stop")
    await c.post(f"/api/servers/{sid}/start")
    await c.post(f"/api/servers/{sid}/stop")
    await c.delete(f"/api/servers/{sid}")
    names = [e for e, _ in seen]
    assert names == ["server:created"] + ["server:started", "server:stopped"] * 2 + [
        "server:deleted"
    ]
    assert seen[1][1]["server"]["status"] == "running"
    stats = (await c.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert stats["serverEvents"] == {
        "server_events:server:started": 2,
        "server_events:server:stopped": 2,
    }
    logs = (await c.get("/api/plugins/example-plugin/logs")).json()["data"]
    assert [r["fields"]["event"] for r in logs if r["message"] == "server event"] == [
        "server:started",
        "server:stopped",
    ] * 2
    # Every listener ran to its end: none of them failed on the way.
    listeners = (await c.get("/api/plugins/example-plugin")).json()["data"]["listeners"]
    assert [(x["event"], x["errors"], x["lastError"]) for x in listeners] == [
        ("server:started", 0, None),
        ("server:stopped", 0, None),
    ]


async def test_plugin_lifecycle_and_login_events(app: FastAPI) -> None:
    seen = record(app, "*")
    c = await admin_client(app)  # logs in
    await c.post("/api/plugins/example-plugin/enable", json={"enabled": False})
    await c.post("/api/plugins/example-plugin/enable", json={"enabled": True})
    await c.post("/api/plugins/example-plugin/reload")
    await c.put("/api/plugins/example-plugin/config", json={"config": {"greeting": "x"}})
    names = [e for e, _ in seen]
    assert names == [
        "user:login",
        "plugin:disabled",
        "plugin:enabled",
        "plugin:reloaded",
        "plugin:configured",
    ]
    assert seen[0][1] == {"user": {"id": seen[0][1]["user"]["id"], "username": "admin"}}
    assert seen[1][1] == {"name": "example-plugin", "from": "enabled", "to": "disabled"}
    assert seen[3][1]["name"] == "example-plugin"
    assert seen[3][1]["durationMs"] > 0
    assert seen[4][1] == {"name": "example-plugin", "keys": ["greeting"]}


async def test_plugin_error_event(settings: Settings, app_factory: AppFactory) -> None:
    from tests.plugin_helpers import write_plugin

    write_plugin(settings.plugins_dir, "bad", "def on_enable(ctx):\n    raise ValueError('no')\n")
    app = await app_factory()
    seen = record(app, "plugin:error")
    await admin_client(app)
    await admin_client(app)
    r = await (await admin_client(app)).post("/api/plugins/bad/enable", json={"enabled": True})
    assert r.status_code == 400
    assert seen == [
        (
            "plugin:error",
            {
                "name": "bad",
                "from": "loaded",
                "to": "error",
                "error": "on_enable failed: ValueError: no",
            },
        )
    ]


async def test_example_task_runs_every_five_minutes_only_while_enabled(
    app: FastAPI, clock: FakeClock
) -> None:
    completed = record(app, "example-plugin:task-completed")
    c = await admin_client(app)

    scheduler = app.state.services.scheduler

    def ended(runs: int) -> bool:  # the runs ended on the host (the event may come first)
        tasks = scheduler.tasks("example-plugin")
        return len(completed) == runs and all(not t.status.running for t in tasks)

    async def five_minutes_pass(expected_runs: int) -> None:
        await clock.advance(5 * 60)
        await eventually(lambda: ended(expected_runs))  # the run does real DB I/O

    for n in (1, 2, 3):
        await five_minutes_pass(n)
    assert [d["runs"] for _, d in completed] == [1, 2, 3]
    detail = (await c.get("/api/plugins/example-plugin")).json()["data"]
    (task,) = detail["tasks"]
    assert (task["cron"], task["runCount"], task["skippedCount"]) == ("*/5 * * * *", 3, 0)
    assert task["lastRun"].startswith("2024-01-01T00:15")
    assert task["nextRun"].startswith("2024-01-01T00:20")
    await c.post("/api/plugins/example-plugin/enable", json={"enabled": False})
    assert app.state.services.scheduler.tasks("example-plugin") == []
    await clock.advance(30 * 60)
    assert len(completed) == 3
    await c.post("/api/plugins/example-plugin/enable", json={"enabled": True})
    await five_minutes_pass(4)
    stats = (await c.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert stats["taskRunCount"] == 4
    assert stats["lastTaskRun"]


async def test_run_task_now_through_the_api(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.post("/api/plugins/example-plugin/tasks/five-minute/run")
    assert r.status_code == 200
    assert r.json()["data"]["runCount"] == 1
    missing = await c.post("/api/plugins/example-plugin/tasks/nope/run")
    assert missing.status_code == 404
    await manager_of(app).disable("example-plugin")
    # Disabled: the task is registered in on_enable, so it is gone.
    assert (await c.post("/api/plugins/example-plugin/tasks/five-minute/run")).status_code == 404


async def test_state_changes_are_pushed_to_admin_clients(live: PluginHarness) -> None:
    admin = await connect(live, await live.token())
    viewer = await connect(live, await live.user_token(["server.read"]))
    await manager_of(live.app).disable("example-plugin")
    got: dict[str, dict[str, Any]] = {}
    while not {"plugins:updated", "plugin:log"} <= set(got):
        message = await receive(admin)
        got.setdefault(message["type"], message)
    push = got["plugins:updated"]
    assert push["data"]["name"] == "example-plugin"
    assert push["data"]["reason"] == "state"
    assert push["data"]["plugin"]["status"] == "disabled"
    log = got["plugin:log"]
    assert log["data"]["name"] == "example-plugin"
    assert log["data"]["record"]["message"] == "example plugin disabled"
    # The viewer has no admin.read: it gets only the reduced plugin push (no admin details),
    # and the server pushes.
    reduced = await receive(viewer)
    assert reduced == {
        "type": "plugins:updated",
        "data": {"name": "example-plugin", "reason": "state", "plugin": None},
    }
    import httpx

    async with httpx.AsyncClient(base_url=live.url) as http:
        token = await live.token()
        await http.post(
            "/api/servers",
            json={"name": "S", "game": "g"},
            headers={"Authorization": f"Bearer {token}"},
        )
    first = json.loads(await viewer.recv())
    assert first["type"] == "servers:updated"
    assert first["data"]["event"] == "server:created"
    await admin.close()
    await viewer.close()


async def test_users_without_admin_read_get_only_what_the_ui_needs(live: PluginHarness) -> None:
    viewer = await connect(live, await live.user_token(["server.read"]))
    manager = manager_of(live.app)
    await manager.disable("example-plugin")
    push = await receive(viewer)
    assert push["type"] == "plugins:updated"
    assert push["data"] == {"name": "example-plugin", "reason": "state", "plugin": None}
    await manager.enable("example-plugin")
    push = await receive(viewer)
    plugin = push["data"]["plugin"]
    assert (plugin["name"], plugin["status"], plugin["frontendEntry"]) == (
        "example-plugin",
        "enabled",
        "frontend/index.js",
    )
    assert (plugin["permissions"], plugin["errors"]) == ([], [])
    await viewer.close()
