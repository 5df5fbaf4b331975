"""Fan-out bursts against a live server with real clients: no healthy client is dropped, and a
stalled one still is (by time, and by the memory bound)."""

from __future__ import annotations

import json

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.live_server import LiveFactory, connect, eventually, receive, receive_type
from tests.plugin_helpers import write_plugin

CHATTY = """
def on_enable(ctx):
    @ctx.post("/burst")
    async def burst(request):
        n = (await request.json())["n"]
        for i in range(n):  # one synchronous burst: nothing is sent until it ends
            ctx.logger.info("line", i=i)
        return {"logged": n}

    def burst_from_thread(data, client_id):  # a sync handler: runs in a worker thread
        for i in range(data):
            ctx.logger.info("thread line", i=i)
        ctx.send_websocket_message(client_id, {"type": "plugin:chatty:done", "data": data})

    ctx.on_websocket_message("burst", burst_from_thread)
"""


async def chatty(
    settings: Settings, live_factory: LiveFactory, **overrides: object
) -> PluginHarness:
    write_plugin(settings.plugins_dir, "chatty", CHATTY)
    return await live_factory(plugin_auto_enable=["chatty"], **overrides)


async def log_lines(ws: websockets.ClientConnection, message: str, n: int) -> list[int]:
    """The ``i`` of the next ``n`` ``plugin:log`` records of chatty with ``message``."""
    seen: list[int] = []
    while len(seen) < n:
        push = await receive_type(ws, "plugin:log")
        record = push["data"]["record"]
        if push["data"]["name"] == "chatty" and record["message"] == message:
            seen.append(record["fields"]["i"])
    return seen


async def test_a_burst_of_1000_pushes_drops_no_healthy_client(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await chatty(settings, live_factory)
    token = await live.token()
    clients = [await connect(live, token) for _ in range(5)]
    async with httpx.AsyncClient(base_url=live.url) as http:
        r = await http.post(
            "/api/plugins/chatty/burst",
            json={"n": 1000},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.json() == {"logged": 1000}
    for ws in clients:
        # Every line arrives, in the order it was logged, and the connection is still up.
        assert await log_lines(ws, "line", 1000) == list(range(1000))
        await ws.send(json.dumps({"type": "ping", "data": "still here"}))
        assert (await receive_type(ws, "pong"))["data"] == "still here"
    assert len(live.app.state.services.hub) == 5
    for ws in clients:
        await ws.close()


async def test_a_burst_from_a_sync_handler_thread_arrives_in_order(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await chatty(settings, live_factory)
    token = await live.token()
    sender, watcher = await connect(live, token), await connect(live, token)
    await sender.send(json.dumps({"type": "plugin:chatty:burst", "data": 300}))
    assert await log_lines(watcher, "thread line", 300) == list(range(300))
    assert (await receive_type(sender, "plugin:chatty:done"))["data"] == 300
    assert len(live.app.state.services.hub) == 2
    await sender.close()
    await watcher.close()


async def stalled_client(live: PluginHarness, token: str) -> websockets.ClientConnection:
    """A client that never reads (and takes no compression, so the data really is large)."""
    return await websockets.connect(f"{live.ws_url}?token={token}", max_queue=1, compression=None)


async def test_a_stalled_client_is_dropped_by_time_and_the_others_lose_nothing(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await chatty(settings, live_factory, ws_slow_client_seconds=0.5)
    token = await live.token()
    fast = await connect(live, token)
    slow = await stalled_client(live, token)
    hub = live.app.state.services.hub
    slow_conn = list(hub._connections.values())[-1]  # the newest
    payload = {"type": "flood", "data": "x" * 60_000}
    sent = received = 0
    # Fill the stalled client's socket buffers until its writer is stuck on a message...
    while slow_conn.sending is None or len(slow_conn.pending) < 3:
        hub.broadcast(payload)
        sent += 1
        received += (await receive(fast))["type"] == "flood"
        assert sent < 2000, "the stalled client's writer never blocked"
    # ... then send nothing more: no progress for 0.5 s is enough to drop it.
    await eventually(lambda: len(hub) == 1)
    assert slow_conn.dropped
    assert next(iter(hub._connections.values())) is not slow_conn
    assert received == sent
    hub.broadcast({"type": "after", "data": 1})
    assert (await receive_type(fast, "after"))["data"] == 1
    await fast.close()
    slow.transport.abort()


async def test_a_stalled_client_is_dropped_at_the_memory_bound(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live = await chatty(settings, live_factory, ws_max_queue_bytes=256 * 1024)
    token = await live.token()
    fast = await connect(live, token)
    slow = await stalled_client(live, token)
    hub = live.app.state.services.hub
    for _ in range(2000):
        hub.broadcast({"type": "flood", "data": "x" * 60_000})
        await receive(fast)
        if len(hub) == 1:
            break
    assert len(hub) == 1, "the stalled client should have been dropped"
    await fast.close()
    try:  # what it had buffered, then the close code when the server could send it
        while True:
            await receive(slow, wait=0.5)
    except (ConnectionClosed, TimeoutError) as closed:
        code = getattr(getattr(closed, "rcvd", None), "code", None)
        assert code in (4008, None)
    slow.transport.abort()
