"""The cluster's own hop between two instances, without plugin processes or WebSocket clients.

Two backplanes on the machine's Redis (``CATALYST_TEST_REDIS_URL``), a cluster name of this run's
own, each feeding an event bus wired as ``catalyst.clustering`` wires it:

1. a message published on A reaching a handler on B (p50/p99);
2. an event emitted on A's bus reaching an ``every_instance`` subscriber on B's bus (p50/p99;
   the issue's target for emit -> ``every_instance`` listener on B is p99 <= 5 ms;
   ``bench/cluster.py`` measures the same end to end, through both plugin processes and a
   WebSocket push).

    .venv/bin/python bench/backplane.py [--n 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from typing import Any

from catalyst.cluster.backplane import Backplane
from catalyst.events.bus import EventBus

REDIS_URL = os.environ.get("CATALYST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def figures(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p50, p99 = ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"  {label:<44} n={len(ms):>4}  p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  max {ms[-1]:6.3f} ms"
    )


async def run(n: int) -> None:
    cluster = f"bench-{uuid.uuid4().hex[:8]}"
    a, b = Backplane(REDIS_URL, cluster, "a"), Backplane(REDIS_URL, cluster, "b")
    bus_a, bus_b = EventBus(), EventBus()

    async def publish(event: str, data: Any, source: str | None) -> None:
        a.publish("event", {"event": event, "data": data, "source": source})

    bus_a.publisher = publish
    b.on("event", lambda m: bus_b.deliver_local(m["event"], m["data"], source=m["source"]))
    arrived = asyncio.Event()
    hops: list[float] = []
    events: list[float] = []

    def hop(data: dict[str, Any]) -> None:
        hops.append(time.perf_counter() - data["t"])
        arrived.set()

    def heard(_event: str, data: dict[str, Any]) -> None:
        events.append(time.perf_counter() - data["t"])
        arrived.set()

    b.on("hop", hop)
    bus_b.subscribe("bench:*", heard, every_instance=True)
    for plane in (a, b):
        await plane.start()
    async with asyncio.timeout(10):
        for plane in (a, b):
            await plane.connected()
    try:
        for _ in range(n):
            arrived.clear()
            a.publish("hop", {"t": time.perf_counter()})
            await arrived.wait()
            await asyncio.sleep(0.001)
        for _ in range(n):
            arrived.clear()
            await bus_a.emit("bench:ping", {"t": time.perf_counter()})
            await arrived.wait()
            await asyncio.sleep(0.001)
    finally:
        for plane in (a, b):
            await plane.stop()
    print("the cluster's hop A -> B (Redis pub/sub, 127.0.0.1):")
    figures("1. backplane message A -> handler on B", hops)
    figures("2. emit on A -> every_instance subscriber on B", events)
    print("  (target for 2: p99 <= 5 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    asyncio.run(run(parser.parse_args().n))


if __name__ == "__main__":
    main()
