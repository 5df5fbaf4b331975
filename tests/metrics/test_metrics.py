"""``/metrics`` through the app: what plugin routes, tasks, events, WebSocket clients and plugin
states did moves the right series; who may read it; the separate port; metrics turned off."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from catalyst.settings import Settings
from tests.conftest import HarnessFactory
from tests.live_server import LiveFactory, connect, receive_type
from tests.metrics.helpers import label_values, value
from tests.plugin_helpers import write_plugin
from tests.runtime.conftest import StateWaiter
from tests.test_serve_process import free_port

PROBE = """
from catalyst.sdk import HTTPError


def on_enable(ctx):
    @ctx.get("/items/{item_id}")
    async def item(request):
        if request.path_params["item_id"] == "missing":
            raise HTTPError(404, "no such item")
        return {"id": request.path_params["item_id"]}

    @ctx.post("/emit")
    async def emit(request):
        await ctx.emit("ping", await request.json())
        return {"emitted": True}

    async def heard(data):
        if data.get("fail"):
            raise ValueError("listener failed on purpose")

    ctx.on("metrics-probe:ping", heard)

    async def tick():
        pass

    def failing():
        raise RuntimeError("task failed on purpose")

    ctx.schedule_task("0 0 1 1 *", tick, name="tick")
    ctx.schedule_task("0 0 1 1 *", failing, name="failing")
"""
P = "metrics-probe"


async def scrape(client: httpx.AsyncClient) -> str:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


async def test_plugin_requests_tasks_events_ws_and_states_are_counted(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, P, PROBE)
    live = await live_factory(plugin_auto_enable=[P])
    token = await live.token()
    admin = live.new_client(token)
    before = await scrape(admin)

    for path in ("/items/7", "/items/8", "/items/missing", "/nowhere"):
        await admin.get(f"/api/plugins/{P}{path}")
    for task in ("tick", "failing"):
        ran = await admin.post(f"/api/plugins/{P}/tasks/{task}/run")
        assert ran.json()["data"]["runCount"] == 1, ran.text
    for fail in (False, True):
        r = await admin.post(f"/api/plugins/{P}/emit", json={"fail": fail})
        assert r.json() == {"emitted": True}
    await admin.get("/api/health")
    await admin.get("/api/no-such-thing")

    ws = await connect(live, token)
    try:
        await ws.send(json.dumps({"type": "ping", "data": 1}))
        await receive_type(ws, "pong")
        during = await scrape(admin)
    finally:
        await ws.close()
    after = await scrape(admin)

    def moved(name: str, text: str = after, **labels: str) -> float:
        return value(text, name, **labels) - value(before, name, **labels)

    route = {"plugin": P, "method": "GET", "route": "/items/{item_id}"}
    assert moved("catalyst_plugin_http_requests_total", **route, status="200") == 2
    assert moved("catalyst_plugin_http_requests_total", **route, status="404") == 1
    unmatched = {"plugin": P, "route": "<unmatched>", "status": "404"}
    assert moved("catalyst_plugin_http_requests_total", **unmatched) == 1
    assert moved("catalyst_plugin_http_request_duration_seconds_count", **route) == 3
    assert moved("catalyst_plugin_http_request_duration_seconds_sum", **route) > 0
    routes = label_values(after, "catalyst_plugin_http_requests_total", "route")
    assert "/items/7" not in routes
    assert "/nowhere" not in routes

    assert moved("catalyst_task_runs_total", plugin=P, task="tick") == 1
    assert moved("catalyst_task_runs_total", plugin=P, task="failing") == 1
    assert moved("catalyst_task_failures_total", plugin=P, task="failing") == 1
    assert moved("catalyst_task_failures_total", plugin=P, task="tick") == 0
    assert moved("catalyst_task_duration_seconds_count", plugin=P, task="tick") == 1

    assert moved("catalyst_event_deliveries_total", owner=P) == 2
    assert moved("catalyst_event_failures_total", owner=P) == 1

    assert moved("catalyst_ws_clients", during) == 1
    assert moved("catalyst_ws_messages_total", during, direction="in") == 1
    assert moved("catalyst_ws_messages_total", during, direction="out") >= 2  # welcome, pong

    async def gone() -> bool:
        return value(await scrape(admin), "catalyst_ws_clients") == value(
            before, "catalyst_ws_clients"
        )

    deadline = asyncio.get_running_loop().time() + 5
    while not await gone():  # the server notices the close frame on its own time
        assert asyncio.get_running_loop().time() < deadline, "the WS client was never uncounted"
        await asyncio.sleep(0.02)

    assert value(after, "catalyst_plugin_state", plugin=P, state="enabled") == 1
    assert value(after, "catalyst_plugin_state", plugin=P, state="loaded") == 0
    health = {"method": "GET", "route": "/api/health", "status": "200"}
    assert moved("catalyst_http_requests_total", **health) == 1
    assert moved("catalyst_http_request_duration_seconds_count", **health) == 1
    assert moved("catalyst_http_requests_total", route="<unmatched>", status="404") >= 1
    assert "process_cpu_seconds_total" in after  # the default collectors
    assert "python_gc_objects_collected_total" in after


async def test_disabling_a_plugin_moves_its_state(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, "state-probe", "def on_enable(ctx):\n    pass\n")
    live = await live_factory(plugin_auto_enable=["state-probe"])
    admin = await live.as_admin()
    r = await admin.post("/api/plugins/state-probe/enable", json={"enabled": False})
    assert r.status_code == 200, r.text
    text = await scrape(admin)
    assert value(text, "catalyst_plugin_state", plugin="state-probe", state="disabled") == 1
    assert value(text, "catalyst_plugin_state", plugin="state-probe", state="enabled") == 0


async def test_metrics_need_admin_read_by_token_or_cookie(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory()
    anon = harness.new_client()
    r = await anon.get("/metrics")
    assert r.status_code == 401
    assert r.json()["success"] is False
    reader = await harness.as_user(["server.read"])
    r = await reader.get("/metrics")
    assert r.status_code == 403
    assert r.json() == {"success": False, "error": "Missing permission: admin.read"}
    admin = await harness.as_admin()
    assert "catalyst_http_requests_total" in await scrape(admin)
    operator = await harness.as_user(["admin.read"])
    assert (await operator.get("/metrics")).status_code == 200

    browser = harness.new_client()  # the session cookie, as the UI sends it
    username, password = await harness.add_user(["admin.read"])
    login = await browser.post("/api/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200
    assert "authorization" not in browser.headers
    assert (await browser.get("/metrics")).status_code == 200


async def test_metrics_public_needs_no_login(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(metrics_public=True)
    assert "catalyst_ws_clients" in await scrape(harness.new_client())


async def test_metrics_disabled_serves_nothing(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(metrics_enabled=False)
    admin = await harness.as_admin()
    r = await admin.get("/metrics")
    assert r.status_code == 404
    assert r.json()["success"] is False


async def test_separate_port_answers_without_login_and_closes_with_the_app(
    harness_factory: HarnessFactory,
) -> None:
    port = free_port()
    harness = await harness_factory(metrics_port=port)
    admin = await harness.as_admin()
    assert (await admin.get("/metrics")).status_code == 404  # not on the main app
    await admin.get("/api/health")
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as plain:
        r = await plain.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert value(r.text, "catalyst_http_requests_total", route="/api/health") >= 1
        assert (await plain.get("/elsewhere")).status_code == 404
        assert (await plain.post("/metrics")).status_code == 405
        head = await plain.head("/metrics")
        assert head.status_code == 200
        assert head.content == b""
    await harness.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as plain:
            await plain.get(f"{base}/metrics")


async def test_separate_port_taken_fails_the_start(harness_factory: HarnessFactory) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RuntimeError, match=f"metrics_port {port}"):
            await harness_factory(metrics_port=port)
    finally:
        server.close()
        await server.wait_closed()


async def test_ws_clients_gauge_counts_only_authenticated_clients(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await live_factory()
    admin = await live.as_admin()
    before = value(await scrape(admin), "catalyst_ws_clients")
    async with websockets.connect(live.ws_url) as ws:  # never authenticates
        await ws.send(json.dumps({"type": "auth", "token": "wrong"}))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert value(await scrape(admin), "catalyst_ws_clients") == before


@pytest.mark.runtime("process", reason="only a process plugin's child can die and be restarted")
async def test_a_crashed_process_plugin_counts_a_restart(
    settings: Settings, harness_factory: HarnessFactory
) -> None:
    code = "import os\n\ndef on_enable(ctx):\n    ctx.get('/exit')(lambda request: os._exit(1))\n"
    write_plugin(settings.plugins_dir, "crashy", code)
    harness = await harness_factory(plugin_auto_enable=["crashy"])
    admin = await harness.as_admin()
    before = await scrape(admin)
    waiter = StateWaiter(harness)
    back = waiter.expect("crashy", "enabled")
    try:
        assert (await admin.get("/api/plugins/crashy/exit")).status_code == 502
        await back(10.0)
    finally:
        waiter.close()
    after = await scrape(admin)
    restarts = "catalyst_plugin_restarts_total"
    assert value(after, restarts, plugin="crashy") - value(before, restarts, plugin="crashy") == 1
    crashed = {"plugin": "crashy", "route": "/exit", "status": "502"}
    assert value(after, "catalyst_plugin_http_requests_total", **crashed) == 1 + value(
        before, "catalyst_plugin_http_requests_total", **crashed
    )
    assert value(after, "catalyst_plugin_state", plugin="crashy", state="restarting") == 0
    assert value(after, "catalyst_plugin_state", plugin="crashy", state="enabled") == 1
