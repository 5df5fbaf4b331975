"""Errors a plugin author can act on, and a plugin's failures in its own log stream."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.live_server import LiveFactory
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

ERRORS = """
import sys

def on_load(ctx):
    @ctx.get("/servers")
    async def servers(request):
        return await ctx.db.servers.find_many()  # needs server.read, not granted

    @ctx.post("/json")
    async def body(request):
        return {"got": await request.json()}

    @ctx.get("/bad-status")
    async def bad_status(request):
        return {"x": 1}, 999

    @ctx.get("/bad-header")
    async def bad_header(request):
        return {"x": 1}, 200, {"X-Evil": "a\\r\\nSet-Cookie: injected=1"}

    @ctx.get("/exit")
    async def leave(request):
        sys.exit(3)

    @ctx.get("/sync-exit")
    def leave_sync(request):
        raise SystemExit(4)

    @ctx.get("/interrupt")
    async def interrupt(request):
        raise KeyboardInterrupt

    @ctx.get("/boom")
    async def boom(request):
        raise RuntimeError("route detail for the plugin log")

    @ctx.get("/ok")
    async def ok(request):
        return {"ok": True}

    def listener(data):
        raise ValueError("listener broke on " + str(data["id"]))

    ctx.on("game:poked", listener)

def on_enable(ctx):
    def failing():
        raise RuntimeError("always the same failure")

    ctx.schedule_task("0 0 1 1 *", failing, name="failing")
"""


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "errs", ERRORS)
    return await app_factory(plugin_auto_enable=["errs"])


async def logs_of(c: httpx.AsyncClient, name: str = "errs") -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await c.get(f"/api/plugins/{name}/logs")).json()["data"]
    return data


async def test_permission_refusal_in_a_route_is_403(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins/errs/servers")
    assert r.status_code == 403
    assert "needs permission 'server.read'" in r.json()["error"]


@pytest.mark.parametrize(
    "body",
    [b"{oops", b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe"],
    ids=["invalid", "deeply-nested", "not-utf8"],
)
async def test_bad_json_bodies_are_400(app: FastAPI, body: bytes) -> None:
    c = await admin_client(app)
    r = await c.post(
        "/api/plugins/errs/json", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["success"] is False


@pytest.mark.parametrize("path", ["/bad-status", "/bad-header"])
async def test_an_invalid_status_or_header_is_a_json_500_over_a_real_connection(
    settings: Settings, live_factory: LiveFactory, path: str
) -> None:
    write_plugin(settings.plugins_dir, "errs", ERRORS, permissions=["server.read"])
    live = await live_factory(plugin_auto_enable=["errs"])
    token = await live.token()
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        r = await c.get(f"/api/plugins/errs{path}")
        assert r.status_code == 500
        assert r.json()["success"] is False
        assert "injected" not in r.headers.get("set-cookie", "")
        assert (await c.get("/api/plugins/errs/ok")).json() == {"ok": True}
        assert any(
            "invalid response" in line["message"] or "invalid response" in str(line["fields"])
            for line in await logs_of(c)
        )


@pytest.mark.parametrize("path", ["/exit", "/sync-exit", "/interrupt"])
async def test_system_exit_and_keyboard_interrupt_in_a_route_are_a_json_500(
    app: FastAPI, path: str
) -> None:
    c = await admin_client(app)
    r = await c.get(f"/api/plugins/errs{path}")
    assert r.status_code == 500
    assert r.json()["success"] is False
    assert "correlation id" in r.json()["error"]
    assert (await c.get("/api/plugins/errs/ok")).status_code == 200


async def test_route_exception_is_in_the_plugins_log_with_its_traceback(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins/errs/boom")
    correlation = r.headers["X-Correlation-Id"]
    [line] = [x for x in await logs_of(c) if x["fields"].get("correlation_id") == correlation]
    assert line["level"] == "error"
    assert line["message"] == "route GET /boom failed"
    assert line["fields"]["error"] == "RuntimeError: route detail for the plugin log"
    assert 'raise RuntimeError("route detail for the plugin log")' in line["fields"]["traceback"]


async def test_failing_listener_is_in_the_plugins_log(app: FastAPI) -> None:
    c = await admin_client(app)
    await app.state.services.bus.emit("game:poked", {"id": 7})
    [line] = [x for x in await logs_of(c) if "listener" in x["message"]]
    assert line["fields"]["error"] == "ValueError: listener broke on 7"
    assert "traceback" in line["fields"]


async def test_failing_task_logs_its_traceback_once_per_distinct_error(app: FastAPI) -> None:
    c = await admin_client(app)
    spec = manager_of(app).get("errs").instance.tasks["failing"]  # type: ignore[union-attr]
    assert spec.live is not None
    for _ in range(5):
        await spec.live.run_now()
    assert spec.live.status.error_count == 5
    assert spec.live.status.repeat_count == 4
    lines = [x for x in await logs_of(c) if x["fields"].get("task") == "failing"]
    with_traceback = [x for x in lines if "traceback" in x["fields"]]
    assert len(with_traceback) == 1
    assert with_traceback[0]["fields"]["error"] == "RuntimeError: always the same failure"
    # Repeats are counted, and logged briefly at the 2nd and 4th time only.
    assert [x["fields"]["times"] for x in lines] == [1, 2, 4]


async def test_live_push_carries_the_plugins_failures(app: FastAPI) -> None:
    pushed: list[dict[str, Any]] = []
    manager = manager_of(app)
    logger = manager.get("errs").instance.ctx.logger  # type: ignore[union-attr]
    logger.on_record.append(lambda _plugin, record: pushed.append(record))
    c = await admin_client(app)
    await c.get("/api/plugins/errs/boom")
    assert any(r["message"] == "route GET /boom failed" for r in pushed)


async def test_harness_raises_the_plugins_load_error_with_its_traceback(tmp_path: Path) -> None:
    from catalyst.sdk.testing import PluginHarness, PluginLoadError

    folder = write_plugin(tmp_path, "broken", "def on_load(ctx):\n    raise ValueError('nope')\n")
    with pytest.raises(PluginLoadError) as caught:
        async with asyncio.timeout(60), PluginHarness(folder):
            pytest.fail("the harness entered although the plugin did not load")
    assert "ValueError: nope" in str(caught.value)
    assert caught.value.detail is not None
    assert "raise ValueError('nope')" in caught.value.detail
