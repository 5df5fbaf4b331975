"""The Redis backplane between instances, over a real Redis: delivery to the others only, in
order, from any thread; and Redis going away and coming back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from catalyst.cluster import backplane
from catalyst.cluster.backplane import Backplane
from tests.backplane.conftest import OwnRedis

Received = list[dict[str, Any]]


@asynccontextmanager
async def started(*planes: Backplane) -> AsyncIterator[None]:
    try:
        for plane in planes:
            await plane.start()
        async with asyncio.timeout(10):
            for plane in planes:
                await plane.connected()
        yield
    finally:
        for plane in planes:
            await plane.stop()


def collector(got: Received, want: int, done: asyncio.Event) -> Callable[[dict[str, Any]], None]:
    def handler(data: dict[str, Any]) -> None:
        got.append(data)
        if len(got) >= want:
            done.set()

    return handler


async def test_a_message_reaches_the_other_instances_in_order_and_not_its_sender(
    redis_url: str, cluster_name: str
) -> None:
    a, b, c = (Backplane(redis_url, cluster_name, name) for name in "abc")
    got_a: Received = []
    got_b: Received = []
    got_c: Received = []
    b_done, c_done = asyncio.Event(), asyncio.Event()
    a.on("note", collector(got_a, 1, asyncio.Event()))
    b.on("note", collector(got_b, 100, b_done))
    c.on("note", collector(got_c, 100, c_done))
    async with started(a, b, c):
        for i in range(100):
            a.publish("note", {"i": i})
        async with asyncio.timeout(5):
            await b_done.wait()
            await c_done.wait()
    assert [m["i"] for m in got_b] == list(range(100))
    assert got_c == got_b
    assert got_a == []  # never back to the sender
    assert a.published == 100
    assert b.received == 100


async def test_another_cluster_on_the_same_redis_hears_nothing(
    redis_url: str, cluster_name: str
) -> None:
    a = Backplane(redis_url, cluster_name, "a")
    b = Backplane(redis_url, cluster_name, "b")
    stranger = Backplane(redis_url, cluster_name + "-other", "b")
    got: Received = []
    heard: Received = []
    done = asyncio.Event()
    b.on("note", collector(got, 2, done))
    stranger.on("note", collector(heard, 1, asyncio.Event()))
    async with started(a, b, stranger):
        a.publish("note", {"n": 1})
        a.publish("note", {"n": 2})
        async with asyncio.timeout(5):
            await done.wait()
    assert heard == []


async def test_async_handlers_run_in_order_and_publish_works_from_threads(
    redis_url: str, cluster_name: str
) -> None:
    a = Backplane(redis_url, cluster_name, "a")
    b = Backplane(redis_url, cluster_name, "b")
    seen: list[int] = []
    done = asyncio.Event()

    async def slow_first(data: dict[str, Any]) -> None:
        if data["i"] == 0:
            await asyncio.sleep(0.05)  # a slow handler holds up the later ones of its kind only
        seen.append(data["i"])
        if len(seen) == 20:
            done.set()

    b.on("work", slow_first)
    async with started(a, b):

        def from_thread() -> None:
            for i in range(20):
                a.publish("work", {"i": i})

        thread = threading.Thread(target=from_thread)
        thread.start()
        await asyncio.to_thread(thread.join)
        async with asyncio.timeout(5):
            await done.wait()
    assert seen == list(range(20))


async def test_data_that_is_not_json_is_dropped_and_counted(
    redis_url: str, cluster_name: str
) -> None:
    a = Backplane(redis_url, cluster_name, "a")
    async with started(a):
        a.publish("note", {"bad": object()})
    assert a.dropped == 1
    assert a.published == 0


async def test_without_a_redis_url_the_backplane_is_disabled() -> None:
    plane = Backplane(None, "catalyst", "solo")
    await plane.start()
    plane.publish("note", {"n": 1})
    assert plane.status == "disabled"
    assert plane.published == 0
    await plane.stop()


async def wait_for(check: Callable[[], bool], seconds: float = 15.0) -> None:
    """Poll a status that has no event of its own (the backplane's, after a Redis fault)."""
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.02)


async def test_redis_going_away_is_survived_and_reconnect_runs_the_repair(
    own_redis: OwnRedis, cluster_name: str
) -> None:
    a = Backplane(own_redis.url, cluster_name, "a")
    b = Backplane(own_redis.url, cluster_name, "b")
    reconnected = asyncio.Event()
    got: Received = []
    after = asyncio.Event()

    async def repair() -> None:
        reconnected.set()

    b.on_reconnect.append(repair)
    b.on("note", collector(got, 1, after))
    async with started(a, b):
        own_redis.stop()
        await wait_for(lambda: b.status == "down")
        a.publish("note", {"lost": True})  # dropped (or failed), never raised
        await wait_for(lambda: a.status == "down")
        own_redis.start()
        async with asyncio.timeout(20):
            await reconnected.wait()
            await a.connected()
        assert b.status == "ok"
        assert b.reconnects == 1
        a.publish("note", {"after": True})
        async with asyncio.timeout(5):
            await after.wait()
    assert got == [{"after": True}]
    assert a.dropped >= 1


async def test_a_flood_for_a_slow_handler_is_bounded_and_counted(
    redis_url: str, cluster_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backplane, "BACKLOG_MAX", 5)
    a = Backplane(redis_url, cluster_name, "a")
    b = Backplane(redis_url, cluster_name, "b")
    release = asyncio.Event()
    handled: list[int] = []
    last = asyncio.Event()

    async def slow(data: dict[str, Any]) -> None:
        await release.wait()
        handled.append(data["i"])

    def mark(data: dict[str, Any]) -> None:
        if data["i"] == 49:
            last.set()

    b.on("flood", slow)
    b.on("flood", mark)
    async with started(a, b):
        for i in range(50):
            a.publish("flood", {"i": i})
        async with asyncio.timeout(5):
            await last.wait()  # all 50 arrived while the handler was stuck
        kept = 50 - b.dropped
        assert kept in (5, 6)  # five wait (and one is being handled, if its turn came)
        release.set()
        async with asyncio.timeout(5):
            while len(handled) < kept:
                await asyncio.sleep(0.01)
    assert handled == list(range(kept))  # the first ones, in order
