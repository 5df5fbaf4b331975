"""Requests that hang, async and in a worker thread, for the SIGTERM tests of the real process.

Each writes a marker into ``out/`` of the plugin's data folder (``ctx.data_dir``) once it is in
its handler (``async``, ``sync``); ``on_disable`` and ``on_unload`` write theirs when they run."""

import asyncio
import pathlib
import time

from catalyst.sdk import PluginContext, Request

OUT = pathlib.Path()


def on_load(ctx: PluginContext) -> None:
    global OUT
    OUT = ctx.data_dir / "out"
    OUT.mkdir(exist_ok=True)

    @ctx.get("/hang", timeout=300)
    async def hang(request: Request) -> None:
        (OUT / "async").write_text("yes")
        await asyncio.sleep(3600)

    @ctx.get("/hang-sync", timeout=300)
    def hang_sync(request: Request) -> None:  # a blocked thread must not keep the process alive
        (OUT / "sync").write_text("yes")
        time.sleep(3600)


def on_disable(ctx: PluginContext) -> None:
    (OUT / "on_disable").write_text("ran")


def on_unload(ctx: PluginContext) -> None:
    (OUT / "on_unload").write_text("ran")
