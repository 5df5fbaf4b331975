"""An account change ends the account's open WebSockets too (a real server, a real client)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from catalyst.sdk.testing import PluginHarness
from tests.live_server import connect, receive


async def admin_client(live: PluginHarness) -> httpx.AsyncClient:
    token = await live.token()
    return httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {token}"})


async def drain(ws: websockets.ClientConnection) -> None:
    while True:
        await receive(ws)


async def closed_with(ws: websockets.ClientConnection) -> int | None:
    async with asyncio.timeout(5):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await drain(ws)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_disable_and_role_change_close_the_accounts_sockets(live: PluginHarness) -> None:
    async with await admin_client(live) as admin:
        r = await admin.post("/api/users", json={"username": "wes", "role": "operator"})
        assert r.status_code == 201
        uid = r.json()["data"]["user"]["id"]
        password = r.json()["data"]["password"]
        token = await live.token("wes", password)

        # A role change: the socket is closed with 4401; reconnecting shows the new permissions.
        ws = await connect(live, token)
        other = await connect(live, await live.token())  # the admin's own socket stays open
        assert (await admin.put(f"/api/users/{uid}/role", json={"role": "viewer"})).is_success
        assert await closed_with(ws) == 4401
        again = await websockets.connect(f"{live.ws_url}?token={token}")
        welcome = await receive(again)
        assert "server.write" not in welcome["data"]["user"]["permissions"]
        assert welcome["data"]["user"]["roles"] == ["viewer"]

        # Disabling: closed at once, and the session cannot open a new one.
        assert (await admin.post(f"/api/users/{uid}/disable")).is_success
        assert await closed_with(again) == 4401
        refused = await websockets.connect(f"{live.ws_url}?token={token}")
        assert await closed_with(refused) == 4401
        await other.ping()
        await other.close()
