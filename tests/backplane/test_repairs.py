"""What the cluster repairs or keeps apart: one plugin's slow ``every_instance`` listener does not
hold up another plugin's, and a connection whose account changed while the news was lost is
closed by the reconcile."""

from __future__ import annotations

import asyncio

import websockets
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed

from catalyst.db.models import User
from catalyst.settings import Settings
from tests.backplane.twins import Pair, status_of, within
from tests.live_server import receive
from tests.plugin_helpers import write_plugin

SLOWPOKE = """
import asyncio


def on_enable(ctx):
    async def sleepy(data):
        await asyncio.sleep(3)

    ctx.on("twin:ping", sleepy, every_instance=True)
"""


async def test_a_slow_every_instance_listener_does_not_hold_up_another_plugin(
    settings: Settings, pair: Pair
) -> None:
    write_plugin(settings.plugins_dir, "slowpoke", SLOWPOKE)
    for client in (pair.admin_a, pair.admin_b):
        assert (await client.post("/api/plugins/rescan")).status_code == 200
    for name in ("twin", "slowpoke"):
        r = await pair.admin_a.post(f"/api/plugins/{name}/enable", json={"enabled": True})
        assert r.status_code == 200, r.text

    async def b_ready() -> bool:
        ok = await status_of(pair.admin_b, "/api/plugins/twin/seen") == 200
        return ok and pair.b.plugin("slowpoke").state.value == "enabled"

    await within(2.0, b_ready)
    for _ in range(4):
        assert (await pair.admin_a.post("/api/plugins/twin/emit")).status_code == 200

    async def b_heard_all() -> bool:
        seen: int = (await pair.admin_b.get("/api/plugins/twin/seen")).json()["seen"]
        return seen == 4

    await within(2.0, b_heard_all)  # slowpoke alone would take 4 x 3 s


async def test_the_reconcile_closes_a_connection_whose_account_changed_unheard(
    pair: Pair,
) -> None:
    username, password = await pair.a.add_user(["admin.read"])
    token = await pair.a.token(username, password)
    ws = await websockets.connect(f"{pair.b.ws_url}?token={token}")
    try:
        welcome = await receive(ws)
        user_id = welcome["data"]["user"]["id"]
        async with pair.a.services.db() as db, db.begin():  # as if the message were lost
            await db.execute(update(User).where(User.id == user_id).values(is_active=False))
        await pair.b.services.cluster.reconcile()
        async with asyncio.timeout(5):
            assert await close_code(ws) == 4401
    finally:
        await ws.close()


async def close_code(ws: websockets.ClientConnection) -> int | None:
    """Read (pushes) until the server closes; the close code it sent."""
    while True:
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


async def test_the_reconcile_leaves_unchanged_accounts_connected(pair: Pair) -> None:
    token = await pair.b.token()
    ws = await websockets.connect(f"{pair.b.ws_url}?token={token}")
    try:
        assert (await receive(ws))["type"] == "welcome"
        await pair.b.services.cluster.reconcile()
        await ws.send('{"type": "ping", "data": 7}')
        async with asyncio.timeout(5):
            while (message := await receive(ws))["type"] != "pong":
                pass  # pushes
        assert message["data"] == 7
    finally:
        await ws.close()
