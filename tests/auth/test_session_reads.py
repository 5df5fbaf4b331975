"""Requests that miss the session cache together share one database read, unless an account
changed in between (then the later ones read again)."""

import asyncio
from typing import Any

from fastapi import FastAPI

from catalyst.auth.sessions import Principal
from tests.plugin_helpers import admin_client


async def _token(app: FastAPI) -> str:
    client = await admin_client(app)
    token = str(client.headers["Authorization"]).removeprefix("Bearer ")
    await client.aclose()
    return token


async def test_requests_missing_the_cache_together_share_one_read(app: FastAPI) -> None:
    token = await _token(app)
    store = app.state.services.sessions
    store.forget_all()
    reads = 0
    original = store._read

    async def counted(key: str) -> Any:
        nonlocal reads
        reads += 1
        return await original(key)

    store._read = counted
    principals = await asyncio.gather(*(store.verify(token) for _ in range(20)))
    assert reads == 1
    assert {p.username for p in principals if isinstance(p, Principal)} == {"admin"}
    assert len(principals) == 20
    assert all(p is not None for p in principals)


async def test_a_read_begun_before_an_account_change_is_not_shared_after_it(
    app: FastAPI,
) -> None:
    token = await _token(app)
    store = app.state.services.sessions
    store.forget_all()
    original = store._read
    began = asyncio.Event()
    release = asyncio.Event()
    reads = 0

    async def held(key: str) -> Any:
        nonlocal reads
        reads += 1
        began.set()
        await release.wait()
        return await original(key)

    store._read = held
    first = asyncio.ensure_future(store.verify(token))
    await began.wait()
    store.forget_user(1)  # the account changed while the first read is under way
    second = asyncio.ensure_future(store.verify(token))
    release.set()
    assert (await first) is not None
    assert (await second) is not None
    assert reads == 2


async def test_a_caller_going_away_leaves_the_read_to_the_others(app: FastAPI) -> None:
    token = await _token(app)
    store = app.state.services.sessions
    store.forget_all()
    original = store._read
    began = asyncio.Event()
    release = asyncio.Event()

    async def held(key: str) -> Any:
        began.set()
        await release.wait()
        return await original(key)

    store._read = held
    leaving = asyncio.ensure_future(store.verify(token))
    staying = asyncio.ensure_future(store.verify(token))
    await began.wait()
    leaving.cancel()
    release.set()
    principal = await staying
    assert principal is not None
    assert principal.username == "admin"
    assert leaving.cancelled()
