"""The WebSocket gateway with real clients (the websockets library) against a running server."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.live_server import LiveFactory, connect, receive, receive_type
from tests.plugin_helpers import manager_of, write_plugin


async def test_unauthenticated_connection_is_closed_with_a_reason(live: PluginHarness) -> None:
    async with websockets.connect(f"{live.ws_url}?token=wrong") as ws:
        with pytest.raises(ConnectionClosed) as info:
            await receive(ws)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4401
    assert "Authentication required" in info.value.rcvd.reason


async def test_first_message_auth_and_cookie_auth(live: PluginHarness) -> None:
    token = await live.token()
    async with websockets.connect(live.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert (await receive(ws))["type"] == "welcome"
    headers = {"Cookie": f"catalyst_session={token}"}
    async with websockets.connect(live.ws_url, additional_headers=headers) as ws:
        welcome = await receive(ws)
        assert welcome["data"]["user"]["username"] == "admin"


async def test_welcome_ping_pong_and_client_ids(live: PluginHarness) -> None:
    token = await live.token()
    a = await connect(live, token)
    b = await connect(live, token)
    await a.send(json.dumps({"type": "plugin:example-plugin:ping", "data": {"n": 1}}))
    pong = await receive_type(a, "plugin:example-plugin:pong")
    assert pong["data"]["original"] == {"n": 1}
    assert pong["data"]["timestamp"]
    ids = {c.id for c in live.app.state.services.hub._connections.values()}
    assert len(ids) == 2
    await a.close()
    await b.close()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "Invalid JSON"),
        ('"just a string"', "A message is an object"),
        ('{"data": 1}', "A message is an object"),
        ('{"type": "nobody:knows"}', "Unknown message type 'nobody:knows'"),
        ('{"type": "plugin:ghost:ping"}', "no plugin 'ghost'"),
        ('{"type": "plugin:example-plugin:nope"}', "has no such handler"),
    ],
)
async def test_bad_messages_get_an_error_and_the_connection_stays_up(
    live: PluginHarness, raw: str, fragment: str
) -> None:
    ws = await connect(live, await live.token())
    await ws.send(raw)
    reply = await receive_type(ws, "error")
    assert fragment in reply["data"]["message"]
    await ws.send(json.dumps({"type": "ping", "data": 7}))
    assert (await receive_type(ws, "pong"))["data"] == 7
    await ws.close()


async def test_oversize_message(live: PluginHarness) -> None:
    ws = await connect(live, await live.token())
    await ws.send(json.dumps({"type": "ping", "data": "x" * 70_000}))
    reply = await receive_type(ws, "error")
    assert "too large" in reply["data"]["message"]
    await ws.send(json.dumps({"type": "ping", "data": 1}))
    assert (await receive_type(ws, "pong"))["data"] == 1
    await ws.close()


FLAKY = """
import asyncio

def on_enable(ctx):
    def boom(data, client_id):
        raise RuntimeError("handler blew up")

    async def echo(data, client_id):
        ctx.send_websocket_message(client_id, {"type": "plugin:flaky:echo", "data": data})

    async def slow(data, client_id):
        await asyncio.sleep(30)

    ctx.on_websocket_message("boom", boom)
    ctx.on_websocket_message("echo", echo)
    ctx.on_websocket_message("slow", slow)
"""


async def test_handler_exception_is_contained(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, "flaky", FLAKY)
    live = await live_factory(plugin_auto_enable=["flaky"], event_handler_timeout=0.3)
    token = await live.token()
    a = await connect(live, token)
    b = await connect(live, token)
    await a.send(json.dumps({"type": "plugin:flaky:boom"}))
    assert "failed (RuntimeError)" in (await receive_type(a, "error"))["data"]["message"]
    await a.send(json.dumps({"type": "plugin:flaky:slow"}))
    assert "timed out" in (await receive_type(a, "error"))["data"]["message"]
    await b.send(json.dumps({"type": "plugin:flaky:echo", "data": "still fine"}))
    assert (await receive_type(b, "plugin:flaky:echo"))["data"] == "still fine"
    await a.send(json.dumps({"type": "plugin:flaky:echo", "data": "me too"}))
    assert (await receive_type(a, "plugin:flaky:echo"))["data"] == "me too"
    await a.close()
    await b.close()


async def test_disabled_plugin_handlers_stop_receiving(live: PluginHarness) -> None:
    ws = await connect(live, await live.token())
    await manager_of(live.app).disable("example-plugin")
    await ws.send(json.dumps({"type": "plugin:example-plugin:ping"}))
    reply = await receive_type(ws, "error")
    assert reply["data"]["message"] == (
        "Plugin 'example-plugin' is not enabled (state: disabled): "
        "'plugin:example-plugin:ping' is not handled"
    )
    await manager_of(live.app).enable("example-plugin")
    await ws.send(json.dumps({"type": "plugin:example-plugin:ping"}))
    assert (await receive_type(ws, "plugin:example-plugin:pong"))["type"]
    await ws.close()


async def test_send_to_client_user_and_broadcast_with_permission(live: PluginHarness) -> None:
    admin = await connect(live, await live.token())
    viewer_token = await live.user_token(["server.read"])
    viewer1 = await connect(live, viewer_token)
    viewer2 = await connect(live, viewer_token)
    ctx = manager_of(live.app).get("example-plugin").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    conns = list(live.app.state.services.hub._connections.values())
    viewer_conns = [c for c in conns if c.principal.username != "admin"]
    # The newest viewer connection is viewer2.
    assert ctx.send_websocket_message(viewer_conns[-1].id, {"type": "direct", "data": 1})
    assert (await receive_type(viewer2, "direct"))["data"] == 1
    assert ctx.send_to_user(viewer_conns[0].principal.user_id, {"type": "to-user"}) == 2
    for v in (viewer1, viewer2):
        assert (await receive_type(v, "to-user"))["type"] == "to-user"
    assert ctx.broadcast({"type": "admins-only"}, permission="admin.read") == 1
    assert (await receive_type(admin, "admins-only"))["type"] == "admins-only"
    assert ctx.broadcast({"type": "everyone"}) == 3
    # receive_type skips other types, so record what the viewers saw on the way.
    for ws in (viewer1, viewer2):
        seen = []
        while (msg := await receive(ws))["type"] != "everyone":
            seen.append(msg["type"])
        assert "admins-only" not in seen
        assert "direct" not in seen or ws is viewer2
    assert (await receive_type(admin, "everyone"))["type"] == "everyone"
    for ws in (admin, viewer1, viewer2):
        await ws.close()


async def test_a_slow_client_is_dropped_and_others_keep_receiving(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await live_factory(ws_max_queue_bytes=256 * 1024)
    token = await live.token()
    fast = await connect(live, token)
    # A client that never reads (and takes no compression, so the data really is large): its
    # socket buffers fill, then its queue reaches its memory bound, then the hub drops it.
    slow = await websockets.connect(f"{live.ws_url}?token={token}", max_queue=1, compression=None)
    hub = live.app.state.services.hub
    payload = {"type": "flood", "data": "x" * 60_000}
    sent = received = 0
    for _ in range(1000):
        hub.broadcast(payload)
        sent += 1
        received += (await receive(fast))["type"] == "flood"  # the fast one keeps up
        if len(hub) == 1:
            break
    assert len(hub) == 1, "the slow client should have been dropped"
    survivors = list(hub._connections.values())
    assert survivors[0].principal.username == "admin"
    assert received == sent  # the fast client lost nothing while the slow one was dropped
    assert sent > 5  # the slow one first filled its socket buffers, then its 256 KiB queue
    hub.broadcast({"type": "after", "data": 1})
    assert (await receive_type(fast, "after"))["data"] == 1
    await fast.close()
    slow.transport.abort()
