"""A separate OS process for the storage concurrency test: many increments of one key.

Usage: ``python _increment_worker.py DATABASE_URL PLUGIN KEY COUNT WORKERS``

It opens its own engine (and so its own connection pool), prints ``ready`` once connected,
waits for a line on stdin, then runs COUNT increments split over WORKERS concurrent tasks and
prints ``done START END`` (``time.monotonic()`` seconds, comparable between processes).
"""

from __future__ import annotations

import asyncio
import sys
import time

from catalyst.db.engine import create_engine, session_factory
from catalyst.plugins.storage import StorageService


async def main(url: str, plugin: str, key: str, count: int, workers: int) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect():
            pass
        storage = StorageService(session_factory(engine), plugin)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def worker(n: int) -> None:
            for _ in range(n):
                await storage.increment(key)

        share, extra = divmod(count, workers)
        start = time.monotonic()
        await asyncio.gather(*(worker(share + (i < extra)) for i in range(workers)))
        print(f"done {start} {time.monotonic()}", flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    url, plugin, key, count, workers = sys.argv[1:]
    asyncio.run(main(url, plugin, key, int(count), int(workers)))
