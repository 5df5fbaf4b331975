"""The original's WebSocket idioms and what handlers can rely on, with real clients against a
live server: ``'*'`` broadcasts, handlers get the caller's user and may require a permission,
sync handlers run off the event loop, hostile JSON closes nothing, failures reach the plugin log.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.live_server import LiveFactory, connect, receive_type
from tests.plugin_helpers import manager_of, write_plugin

IDIOMS = """
import asyncio
import threading

gate = threading.Event()


def on_enable(ctx):
    def notify(data, client_id):
        ctx.send_websocket_message("*", {"type": "plugin:idioms:notice", "data": data})

    def who(data, client_id, client):
        ctx.send_websocket_message(client_id, {"type": "plugin:idioms:who", "data": {
            "id": client.id, "clientId": client_id, "userId": client.user_id,
            "username": client.username, "permissions": sorted(client.permissions),
            "canWrite": client.can("server.write"),
        }})

    async def who_keyword(data, client_id, *, client):
        ctx.send_websocket_message(client_id, {"type": "plugin:idioms:who", "data": {
            "username": client.username, "id": client.id,
        }})

    def wait(data, client_id):  # sync and blocking: must not hold up the event loop
        released = gate.wait(30)
        ctx.send_websocket_message(client_id, {"type": "plugin:idioms:waited", "data": released})

    def boom(data, client_id):
        raise ValueError(f"bad input {data}")

    async def slow(data, client_id):
        await asyncio.sleep(30)

    def leave(data, client_id):
        raise SystemExit(3)

    ctx.on_websocket_message("notify", notify)
    ctx.on_websocket_message("who", who)
    ctx.on_websocket_message("who-keyword", who_keyword)
    ctx.on_websocket_message("wait", wait)
    ctx.on_websocket_message("boom", boom)
    ctx.on_websocket_message("slow", slow)
    ctx.on_websocket_message("exit", leave)
"""

GUARDED = """
guarded_calls = []


def on_enable(ctx):
    def guarded(data, client_id):
        guarded_calls.append(client_id)
        ctx.send_websocket_message(client_id, {"type": "plugin:idioms:guarded", "data": data})

    ctx.on_websocket_message("guarded", guarded, permission="server.write")
"""


async def idioms(settings: Settings, live_factory: LiveFactory, **overrides: Any) -> PluginHarness:
    write_plugin(settings.plugins_dir, "idioms", IDIOMS)
    live = await live_factory(plugin_auto_enable=["idioms"], **overrides)
    assert manager_of(live.app).get("idioms").enabled, manager_of(live.app).get("idioms").error
    return live


def message(kind: str, data: Any = None) -> str:
    return json.dumps({"type": f"plugin:idioms:{kind}", "data": data})


async def still_up(ws: Any) -> None:
    await ws.send(json.dumps({"type": "ping", "data": "up"}))
    assert (await receive_type(ws, "pong"))["data"] == "up"


async def test_star_is_a_broadcast(settings: Settings, live_factory: LiveFactory) -> None:
    live = await idioms(settings, live_factory)
    admin = await connect(live, await live.token())
    viewer = await connect(live, await live.user_token(["server.read"]))
    await viewer.send(message("notify", {"text": "hello all"}))
    for ws in (admin, viewer):
        assert (await receive_type(ws, "plugin:idioms:notice"))["data"] == {"text": "hello all"}
    ctx = manager_of(live.app).get("idioms").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    assert ctx.send_websocket_message("*", {"type": "direct-star"}) is True
    for ws in (admin, viewer):
        assert (await receive_type(ws, "direct-star"))["type"] == "direct-star"
    await admin.close()
    await viewer.close()


@pytest.mark.parametrize("kind", ["who", "who-keyword"])
async def test_handlers_get_the_callers_user(
    settings: Settings, live_factory: LiveFactory, kind: str
) -> None:
    live = await idioms(settings, live_factory)
    viewer = await connect(live, await live.user_token(["server.read"]))
    conn = list(live.app.state.services.hub._connections.values())[-1]
    await viewer.send(message(kind))
    who = (await receive_type(viewer, "plugin:idioms:who"))["data"]
    assert who["id"] == conn.id
    assert who["username"] == conn.principal.username
    if kind == "who":
        assert who["clientId"] == conn.id
        assert who["userId"] == conn.principal.user_id
        assert who["permissions"] == ["server.read"]
        assert who["canWrite"] is False
    await viewer.close()


@pytest.mark.runtime(
    "inprocess",
    reason=("reads handler calls from, or gates them through, the plugin module's globals"),
)
async def test_a_handler_permission_refuses_only_that_caller(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, "idioms", GUARDED)
    live = await live_factory(plugin_auto_enable=["idioms"])
    assert manager_of(live.app).get("idioms").enabled, manager_of(live.app).get("idioms").error
    admin = await connect(live, await live.token())
    viewer = await connect(live, await live.user_token(["server.read"]))
    await viewer.send(message("guarded", 1))
    refused = (await receive_type(viewer, "error"))["data"]["message"]
    assert refused == "Permission 'server.write' is required for plugin:idioms:guarded"
    await still_up(viewer)
    await admin.send(message("guarded", 2))
    assert (await receive_type(admin, "plugin:idioms:guarded"))["data"] == 2
    module = manager_of(live.app).get("idioms").instance.module  # type: ignore[union-attr]
    assert len(module.guarded_calls) == 1  # only the admin's message reached the handler
    await admin.close()
    await viewer.close()


@pytest.mark.runtime(
    "inprocess",
    reason=("reads handler calls from, or gates them through, the plugin module's globals"),
)
async def test_a_blocking_sync_handler_does_not_hold_up_the_loop(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await idioms(settings, live_factory)
    token = await live.token()
    blocked, other = await connect(live, token), await connect(live, token)
    module = manager_of(live.app).get("idioms").instance.module  # type: ignore[union-attr]
    await blocked.send(message("wait"))
    # While the handler blocks its thread, the loop still serves the other client. On the loop
    # the handler would block everything until its 30 s wait ended.
    await other.send(json.dumps({"type": "ping", "data": "meanwhile"}))
    assert (await receive_type(other, "pong", wait=10))["data"] == "meanwhile"
    module.gate.set()
    assert (await receive_type(blocked, "plugin:idioms:waited"))["data"] is True
    await blocked.close()
    await other.close()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("[" * 60_000, "nested too deeply"),
        ("[" * 100 + "]" * 100, "nested too deeply"),
        (json.dumps({"type": "ping", "data": json.loads("[" * 70 + "]" * 70)}), "too deeply"),
        ('{"type": "ping", "data": 1e999999}', None),
        ("\ud800", "Invalid JSON"),
    ],
)
async def test_hostile_json_is_an_error_and_closes_nothing(
    live: PluginHarness, raw: str, fragment: str | None
) -> None:
    ws = await connect(live, await live.token())
    await ws.send(raw.encode("utf-8", "surrogatepass") if "\ud800" in raw else raw)
    if fragment is None:
        await receive_type(ws, "pong")  # an infinite number is still a number to Python
    else:
        assert fragment in (await receive_type(ws, "error"))["data"]["message"]
    await still_up(ws)
    await ws.close()


async def plugin_logs(live: PluginHarness, token: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=live.url) as http:
        r = await http.get("/api/plugins/idioms/logs", headers={"Authorization": f"Bearer {token}"})
    records: list[dict[str, Any]] = r.json()["data"]
    return records


async def test_handler_failures_go_to_the_plugins_own_log(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await idioms(settings, live_factory, event_handler_timeout=0.3)
    token = await live.token()
    ws = await connect(live, token)
    await ws.send(message("boom", 7))
    assert "failed (ValueError)" in (await receive_type(ws, "error"))["data"]["message"]
    push = await receive_type(ws, "plugin:log")  # admins see it live too
    assert push["data"]["name"] == "idioms"
    await ws.send(message("slow"))
    assert "timed out" in (await receive_type(ws, "error"))["data"]["message"]
    errors = [r for r in await plugin_logs(live, token) if r["level"] == "error"]
    failed, timed_out = errors[-2:]
    assert failed["message"] == (
        "WebSocket handler for plugin:idioms:boom failed: ValueError: bad input 7"
    )
    assert "ValueError: bad input 7" in failed["fields"]["traceback"]
    assert failed["fields"]["type"] == "plugin:idioms:boom"
    assert timed_out["message"] == "WebSocket handler for plugin:idioms:slow timed out after 0.3 s"
    await ws.send(message("exit"))  # a BaseException from plugin code is contained too
    assert "failed (SystemExit)" in (await receive_type(ws, "error"))["data"]["message"]
    await still_up(ws)
    await ws.close()


async def test_a_deeply_nested_first_message_is_refused_like_any_bad_auth(
    live: PluginHarness,
) -> None:
    import websockets
    from websockets.exceptions import ConnectionClosed

    async with websockets.connect(live.ws_url) as ws:
        await ws.send("[" * 60_000)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4401
