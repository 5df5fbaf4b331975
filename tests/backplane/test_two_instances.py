"""Two instances in one test process, on one database and one Redis (a cluster name of the
test's own), served over TCP: every change made on A applies on B within a second, events are
delivered once per cluster (or on every instance when asked), and WebSocket messages reach a
client wherever it is connected. ``tests/cluster`` runs the same properties as real processes."""

from __future__ import annotations

import websockets

from tests.backplane.twins import Pair, status_of, within
from tests.live_server import receive, receive_type


async def test_enable_and_disable_on_a_apply_on_b_within_a_second(pair: Pair) -> None:
    assert await status_of(pair.admin_b, "/api/plugins/twin/greeting") == 503
    r = await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": True})
    assert r.status_code == 200, r.text

    async def b_serves() -> bool:
        return await status_of(pair.admin_b, "/api/plugins/twin/greeting") == 200

    await within(1.0, b_serves)
    detail = (await pair.admin_b.get("/api/plugins/twin")).json()["data"]
    assert detail["status"] == "enabled"
    r = await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": False})
    assert r.status_code == 200, r.text

    async def b_stopped() -> bool:
        return await status_of(pair.admin_b, "/api/plugins/twin/greeting") == 503

    await within(1.0, b_stopped)


async def test_a_config_change_on_a_is_seen_by_the_plugin_on_b(pair: Pair) -> None:
    await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": True})
    r = await pair.admin_a.put("/api/plugins/twin/config", json={"config": {"greeting": "howdy"}})
    assert r.status_code == 200, r.text

    async def b_greets() -> bool:
        r = await pair.admin_b.get("/api/plugins/twin/greeting")
        return r.status_code == 200 and r.json()["greeting"] == "howdy"

    await within(1.0, b_greets)


async def test_logout_on_a_refuses_the_token_on_b_within_a_second(pair: Pair) -> None:
    token = await pair.a.token()
    b_client = pair.b.new_client()
    b_client.headers["Authorization"] = f"Bearer {token}"
    assert (await b_client.get("/api/auth/me")).status_code == 200  # cached on B now
    a_client = pair.a.new_client()
    a_client.headers["Authorization"] = f"Bearer {token}"
    assert (await a_client.post("/api/auth/logout")).status_code == 200

    async def refused() -> bool:
        return (await b_client.get("/api/auth/me")).status_code == 401

    await within(1.0, refused)


async def test_an_event_reaches_a_default_listener_once_and_every_instance_listeners_everywhere(
    pair: Pair,
) -> None:
    await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": True})

    async def b_serves() -> bool:
        return await status_of(pair.admin_b, "/api/plugins/twin/seen") == 200

    await within(1.0, b_serves)
    assert (await pair.admin_a.post("/api/plugins/twin/emit")).status_code == 200

    async def b_heard() -> bool:
        seen: int = (await pair.admin_b.get("/api/plugins/twin/seen")).json()["seen"]
        return seen == 1

    await within(1.0, b_heard)
    a_seen = (await pair.admin_a.get("/api/plugins/twin/seen")).json()
    b_seen = (await pair.admin_b.get("/api/plugins/twin/seen")).json()
    assert a_seen == {"seen": 1, "once": 1}  # emitted on A: A's listeners ran
    assert b_seen == {"seen": 1, "once": 1}  # B: only the every_instance one; storage is shared


async def test_websocket_messages_reach_a_client_held_by_the_other_instance(pair: Pair) -> None:
    token = await pair.b.token()
    me = (await pair.admin_b.get("/api/auth/me")).json()["data"]
    ws = await websockets.connect(f"{pair.b.ws_url}?token={token}")  # an admin's, held by B
    try:
        welcome = await receive(ws)
        assert welcome["type"] == "welcome"
        await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": True})
        push = await receive_type(ws, "plugins:updated", wait=5)  # A's admin push reaches B
        assert push["data"]["name"] == "twin"
        for body in (
            {"to": "client", "client": welcome["data"]["clientId"], "data": 1},
            {"to": "user", "user": me["id"], "data": 2},
            {"to": "all", "data": 3},
        ):
            r = await pair.admin_a.post("/api/plugins/twin/send", json=body)
            assert r.status_code == 200, r.text
        got = [(await receive_type(ws, "plugin:twin:hello"))["data"] for _ in range(3)]
        assert sorted(got) == [1, 2, 3]
    finally:
        await ws.close()
