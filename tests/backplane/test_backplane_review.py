"""Review findings on the backplane, over a real Redis: publishing works again after Redis
restarts; a burst of messages does not push out the rare ones that repair state."""

from __future__ import annotations

import asyncio
from typing import Any

from catalyst.cluster.backplane import OUTBOX_MAX, Backplane
from tests.backplane.conftest import OwnRedis
from tests.backplane.test_backplane import Received, started, wait_for


async def test_publishing_works_again_after_redis_restarted(
    own_redis: OwnRedis, cluster_name: str
) -> None:
    a = Backplane(own_redis.url, cluster_name, "a")
    b = Backplane(own_redis.url, cluster_name, "b")
    got: Received = []
    first = asyncio.Event()

    def note(data: dict[str, Any]) -> None:
        got.append(data)
        first.set()

    b.on("note", note)
    async with started(a, b):
        a.publish("note", {"before": True})  # a's pool now holds a connection to this Redis
        async with asyncio.timeout(5):
            await first.wait()
        own_redis.stop()
        await wait_for(lambda: a.status == "down" and b.status == "down")
        own_redis.start()
        await wait_for(lambda: a.status == "ok" and b.status == "ok" and a.reconnects == 1)
        got.clear()
        # The first publish meets the connection a's pool kept from before the restart; it
        # must not leave a's publishing off for good while its subscription is up.
        async with asyncio.timeout(10):
            while not got:
                a.publish("note", {"after": True})
                await asyncio.sleep(0.2)
        await wait_for(lambda: a.status == "ok", 5)
    assert {"after": True} in got


async def test_a_burst_does_not_push_out_a_rare_message(redis_url: str, cluster_name: str) -> None:
    a = Backplane(redis_url, cluster_name, "a")
    b = Backplane(redis_url, cluster_name, "b")
    forgotten = asyncio.Event()
    b.on("sessions.forget", lambda data: forgotten.set())
    async with started(a, b):
        a.publish("sessions.forget", {"user": 7})
        for i in range(OUTBOX_MAX * 2):  # a plugin emitting events faster than Redis takes them
            a.publish("event", {"event": "p:e", "data": i, "source": "p"})
        async with asyncio.timeout(10):
            await forgotten.wait()
