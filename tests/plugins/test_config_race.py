"""Item 10: concurrent config saves lose nothing and the cache follows the committed row.

Both backends: 20 concurrent admin saves of different keys, 20 concurrent ``ctx.set_config`` calls
from plugin requests, and two app instances saving to the same database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from catalyst.db.models import Plugin
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

KEYS = [f"k{i}" for i in range(20)]
SCHEMA = {k: {"type": "integer", "default": -1, "description": k} for k in KEYS}
CODE = """
def on_load(ctx):
    @ctx.post("/set")
    async def set_it(request):
        body = await request.json()
        await ctx.set_config(body["key"], body["value"])
        return {"ok": True}
"""
ROUNDS = 5


async def start(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "race", CODE, config=SCHEMA)
    return await app_factory(plugin_auto_enable=["race"])


async def stored(app: FastAPI) -> dict[str, Any]:
    async with app.state.services.db() as db:
        config: dict[str, Any] = await db.scalar(select(Plugin.config).where(Plugin.name == "race"))
    return config


async def assert_kept(app: FastAPI, expected: dict[str, int]) -> None:
    row = await stored(app)
    lost = sorted(k for k, v in expected.items() if row.get(k) != v)
    assert lost == [], f"lost in the database: {lost}"
    cache = manager_of(app).config.effective("race")
    stale = sorted(k for k, v in expected.items() if cache.get(k) != v)
    assert stale == [], f"stale in the cache: {stale}"


async def test_concurrent_admin_saves_of_different_keys_all_stick(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    for n in range(ROUNDS):
        replies = await asyncio.gather(
            *(client.put("/api/plugins/race/config", json={"config": {k: n}}) for k in KEYS)
        )
        assert [r.status_code for r in replies] == [200] * len(KEYS)
        await assert_kept(app, dict.fromkeys(KEYS, n))
        shown = (await client.get("/api/plugins/race")).json()["data"]["config"]
        assert shown == dict.fromkeys(KEYS, n)


async def test_concurrent_set_config_from_plugin_requests_all_stick(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    for n in range(ROUNDS):
        replies = await asyncio.gather(
            *(client.post("/api/plugins/race/set", json={"key": k, "value": n}) for k in KEYS)
        )
        assert [r.status_code for r in replies] == [200] * len(KEYS), replies[0].text
        await assert_kept(app, dict.fromkeys(KEYS, n))


async def test_two_instances_on_one_database_lose_nothing(
    settings: Settings, app_factory: AppFactory
) -> None:
    first = await start(settings, app_factory)
    second = await app_factory(plugin_auto_enable=["race"])
    clients: list[httpx.AsyncClient] = [await admin_client(first), await admin_client(second)]
    for n in range(ROUNDS):
        replies = await asyncio.gather(
            *(
                clients[i % 2].put("/api/plugins/race/config", json={"config": {k: n}})
                for i, k in enumerate(KEYS)
            )
        )
        assert [r.status_code for r in replies] == [200] * len(KEYS)
        # each instance saw the other's saves in the row it committed last
        row = await stored(first)
        assert {k: row.get(k) for k in KEYS} == dict.fromkeys(KEYS, n)
    # a save on the second instance refreshes its cache from the committed row, which holds
    # every save of the first instance too
    await clients[1].put("/api/plugins/race/config", json={"config": {"k1": 99}})
    expected = {**dict.fromkeys(KEYS, ROUNDS - 1), "k1": 99}
    assert manager_of(second).config.effective("race") == expected
    await clients[0].put("/api/plugins/race/config", json={"config": {"k0": 98}})
    assert manager_of(first).config.effective("race") == {**expected, "k0": 98}
