"""What ``/ws`` pushes has the shapes of the models the UI's generated types come from
(``api/schemas/ws.py``): each payload validates and dumps back to exactly what was pushed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import BaseModel

from catalyst.api.schemas.ws import PluginLogPush, PluginsUpdated, ServersUpdated, SocketMessage
from catalyst.sdk.testing import PluginHarness
from tests.live_server import connect, receive

MODELS: dict[str, type[BaseModel]] = {
    "plugins:updated": PluginsUpdated,
    "plugin:log": PluginLogPush,
    "servers:updated": ServersUpdated,
}


async def test_each_push_is_its_model(live: PluginHarness) -> None:
    token = await live.token()
    ws = await connect(live, token)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers) as c:
        assert (await c.post("/api/servers", json={"name": "a", "game": "g"})).status_code == 201
        assert (await c.post("/api/plugins/example-plugin/reload")).status_code == 200
        assert (await c.post("/api/plugins/example-plugin/tasks/five-minute/run")).is_success
    seen: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(10):
        while set(seen) != set(MODELS):
            message = await receive(ws)
            if message["type"] in MODELS:
                seen.setdefault(message["type"], message)
    await ws.close()
    for kind, message in seen.items():
        assert SocketMessage.model_validate(message).model_dump(mode="json") == message
        data = MODELS[kind].model_validate(message["data"]).model_dump(mode="json")
        assert data == message["data"], kind
        assert list(data) == list(message["data"]), kind
