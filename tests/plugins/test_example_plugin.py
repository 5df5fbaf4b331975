"""The example plugin end to end over HTTP."""

from __future__ import annotations

import shutil

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from catalyst.clock import FakeClock
from catalyst.db.models import AuditLog
from catalyst.settings import Settings
from tests.conftest import harness_of, stop_app
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client, manager_of


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    """The example plugin, on a clock that stands still: its five-minute task fires only when a
    test says so, not when the run crosses a five-minute mark of the wall clock."""
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    return await app_factory(plugin_auto_enable=["example-plugin"], clock=FakeClock())


async def test_hello_counts_requests_and_uses_the_greeting(app: FastAPI) -> None:
    c = await admin_client(app)
    first = (await c.get("/api/plugins/example-plugin/hello")).json()
    assert first == {
        "success": True,
        "message": "Hello from the example plugin!",
        "requestCount": 1,
    }
    second = await c.get("/api/plugins/example-plugin/hello")
    assert second.json()["requestCount"] == 2
    assert float(second.headers["X-Example-Time-Ms"]) >= 0  # the middleware timed it
    r = await c.put(
        "/api/plugins/example-plugin/config", json={"config": {"greeting": "Howdy, admin"}}
    )
    assert r.status_code == 200
    assert (await c.get("/api/plugins/example-plugin/hello")).json()["message"] == "Howdy, admin"


async def test_echo(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.post("/api/plugins/example-plugin/echo", json={"test": "data", "n": [1, 2]})
    assert r.status_code == 200
    assert r.json()["echo"] == {"test": "data", "n": [1, 2]}
    await c.put("/api/plugins/example-plugin/config", json={"config": {"echoLimit": 16}})
    big = await c.post("/api/plugins/example-plugin/echo", json={"text": "x" * 100})
    assert big.status_code == 413


async def test_stats_and_storage_survive_reload_and_restart(
    app: FastAPI, app_factory: AppFactory
) -> None:
    c = await admin_client(app)
    for _ in range(3):
        await c.get("/api/plugins/example-plugin/hello")
    stats = (await c.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert stats["requestCount"] == 4  # three hellos and this stats call
    assert stats["installedAt"]
    assert stats["taskRunCount"] == 0
    assert stats["lastTaskRun"] is None
    assert stats["uptimeSeconds"] >= 0
    installed = stats["installedAt"]
    assert (await c.post("/api/plugins/example-plugin/reload")).status_code == 200
    await c.get("/api/plugins/example-plugin/hello")
    after = (await c.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert after["requestCount"] == 6
    assert after["installedAt"] == installed
    await stop_app(app)
    again = await app_factory(clock=FakeClock())
    c2 = await admin_client(again)
    assert manager_of(again).get("example-plugin").enabled
    final = (await c2.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert final["requestCount"] == 7
    assert final["installedAt"] == installed


async def test_storage_is_isolated_from_other_plugins(app: FastAPI) -> None:
    from catalyst.plugins.storage import StorageService

    other = StorageService(app.state.services.db, "someone-else")
    await other.set("request_count", 1000)
    c = await admin_client(app)
    await c.get("/api/plugins/example-plugin/hello")
    stats = (await c.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert stats["requestCount"] == 2
    assert await other.get("request_count") == 1000


async def test_the_demo_routes_are_public_and_the_rest_needs_a_login(app: FastAPI) -> None:
    """The seed's first steps: `curl .../hello`, `/stats` and `POST /echo` without a login."""
    async with harness_of(app).new_client() as anon:
        hello = await anon.get("/api/plugins/example-plugin/hello")
        assert (hello.status_code, hello.json()["message"]) == (
            200,
            "Hello from the example plugin!",
        )
        assert (await anon.get("/api/plugins/example-plugin/stats")).json()["success"] is True
        echo = await anon.post(
            "/api/plugins/example-plugin/echo",
            content='{"test":"data"}',
            headers={"Content-Type": "application/json"},
        )
        assert (echo.status_code, echo.json()["echo"]) == (200, {"test": "data"})
        whoami = await anon.get("/api/plugins/example-plugin/whoami")
        assert (whoami.status_code, whoami.json()["success"]) == (401, False)
        assert (await anon.get("/api/plugins/example-plugin")).status_code == 401
    admin = await admin_client(app)
    me = (await admin.get("/api/plugins/example-plugin/whoami")).json()
    assert (me["username"], me["roles"]) == ("admin", ["admin"])

    # auto-enable granted what the manifest requests, and audited it
    record = manager_of(app).get("example-plugin")
    assert record.granted == {"server.read", "http.public"}
    async with app.state.services.db() as db:
        query = select(AuditLog).where(AuditLog.action.like("plugin.%"))
        rows = (await db.scalars(query)).all()
    assert [(r.actor, r.action, r.target, r.details["permissions"]) for r in rows] == [
        (
            "system:auto-enable",
            "plugin.permissions.grant",
            "example-plugin",
            ["http.public", "server.read"],
        )
    ]


async def test_public_routes_need_the_grant(settings: Settings, app_factory: AppFactory) -> None:
    """Not auto-enabled: nothing is granted or public until an admin enables the plugin."""
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    app = await app_factory()
    assert manager_of(app).get("example-plugin").granted == frozenset()
    async with harness_of(app).new_client() as anon:
        assert (await anon.get("/api/plugins/example-plugin/hello")).status_code == 503
        admin = await admin_client(app)
        r = await admin.post("/api/plugins/example-plugin/enable", json={"enabled": True})
        assert r.status_code == 200
        assert (await anon.get("/api/plugins/example-plugin/hello")).status_code == 200
        assert (await anon.get("/api/plugins/example-plugin/whoami")).status_code == 401
