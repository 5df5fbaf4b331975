"""Real-time figures: in-process events per second, and WebSocket ping→pong round trips.

1. ``emit → handler``: one EventBus, one subscriber, N awaited emits (async and sync handlers,
   and the gated handler a plugin's ``ctx.on`` installs). Baseline in the same run: a bare loop
   awaiting a no-op coroutine N times.
2. WebSocket: the real server (example plugin enabled) with C clients connected at once; each
   sends ``plugin:example-plugin:ping`` about once a second (jittered) and times the pong.
   Reports p50/p99 for 100 and 1000 clients. Targets: >= 200k events/s; p99 <= 5 ms at 1000.

    .venv/bin/python bench/realtime.py [--events 200000] [--seconds 5] [--clients 100 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import websockets
from _load import BenchServer

from catalyst.events.bus import EventBus


async def events_per_second(n: int) -> dict[str, float]:
    results: dict[str, float] = {}

    async def noop() -> None:
        return None

    started = time.perf_counter()
    for _ in range(n):
        await noop()
    results["baseline: await a no-op coroutine"] = n / (time.perf_counter() - started)

    async def async_handler(_event: str, _data: Any) -> None:
        return None

    def sync_handler(_event: str, _data: Any) -> None:
        return None

    active = True

    async def gated(_event: str, data: Any) -> None:  # what ctx.on installs
        if not active:
            return
        await async_handler("x", data)

    for label, handler in (
        ("emit -> async handler", async_handler),
        ("emit -> sync handler", sync_handler),
        ("emit -> plugin listener (ctx.on)", gated),
    ):
        bus = EventBus()
        bus.subscribe("bench:event", handler)
        started = time.perf_counter()
        for i in range(n):
            await bus.emit("bench:event", i)
        results[label] = n / (time.perf_counter() - started)
    return results


async def ping_pong(url: str, token: str, clients: int, seconds: float) -> list[float]:
    rtts: list[float] = []
    stop = time.monotonic() + seconds
    connections = []
    for i in range(clients):
        ws = await websockets.connect(f"{url}?token={token}", max_size=2**20, compression=None)
        await ws.recv()  # welcome
        connections.append(ws)
        if i % 100 == 99:
            await asyncio.sleep(0)

    async def client(ws: websockets.ClientConnection) -> None:
        await asyncio.sleep(random.random())  # spread the clients over the first second
        while time.monotonic() < stop:
            sent = time.perf_counter()
            await ws.send('{"type":"plugin:example-plugin:ping","data":null}')
            while True:
                reply = json.loads(await ws.recv())
                if reply["type"] == "plugin:example-plugin:pong":
                    break
            rtts.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.5 + random.random())  # about one ping a second per client

    await asyncio.gather(*(client(ws) for ws in connections))
    for ws in connections:
        await ws.close()
    return rtts


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    print(f"in-process, {args.events} emits, one subscriber:")
    for label, rate in asyncio.run(events_per_second(args.events)).items():
        print(f"  {label:36s} {rate:12,.0f} /s")

    with BenchServer() as server:
        token = server.token()
        url = server.base.replace("http", "ws") + "/ws"
        for clients in args.clients:
            rtts = asyncio.run(ping_pong(url, token, clients, args.seconds))
            print(
                f"ws ping->pong, {clients:4d} clients: {len(rtts):6d} round trips  "
                f"p50 {statistics.median(rtts):6.2f} ms  p99 {percentile(rtts, 99):6.2f} ms  "
                f"max {max(rtts):6.2f} ms"
            )


if __name__ == "__main__":
    main()
