"""On disable, a task run in progress gets a grace period and is awaited before ``on_disable``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from catalyst.plugins.manager import PluginManager
from tests.live_server import eventually
from tests.plugin_helpers import AppFactory, manager_of, write_plugin

pytestmark = pytest.mark.runtime(
    "inprocess",
    reason=(
        "observes running tasks through the plugin module's globals, shared only in-"
        "process (tests/contract covers disable in both runtimes)"
    ),
)

SLOW_TASK = """
import asyncio


order = []
started = asyncio.Event()
release = asyncio.Event()

async def job():
    started.set()
    try:
        await release.wait()
        order.append("task finished")
    except asyncio.CancelledError:
        order.append("task cancelled")
        raise

def on_enable(ctx):
    ctx.schedule_task("0 0 1 1 *", job, name="long")

async def on_disable(ctx):
    order.append("on_disable")
"""


async def _running(manager: PluginManager) -> Any:
    """Start the plugin's task now; returns the plugin module once the run has begun."""
    gen = manager.get("slow").instance
    assert gen is not None
    live = gen.tasks["long"].live
    assert live is not None
    live.start_now()
    await gen.module.started.wait()
    return gen.module


async def test_disable_waits_for_a_running_task_before_on_disable(
    settings: Any, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "slow", SLOW_TASK)
    manager = manager_of(await app_factory(plugin_auto_enable=["slow"]))
    module = await _running(manager)
    disabling = asyncio.create_task(manager.disable("slow"))
    # The plugin stops serving at once; its task run is still going and on_disable waits.
    await eventually(lambda: manager.dispatcher.table("slow") is None)
    assert not disabling.done()
    assert module.order == []
    module.release.set()
    assert await disabling is None
    assert module.order == ["task finished", "on_disable"]
    assert manager.scheduler.tasks("slow") == []


async def test_a_task_outliving_the_grace_period_is_cancelled_then_on_disable_runs(
    settings: Any, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "slow", SLOW_TASK)
    app = await app_factory(plugin_auto_enable=["slow"], plugin_task_grace_seconds=0.05)
    manager = manager_of(app)
    module = await _running(manager)
    await manager.disable("slow")  # the run never finishes by itself
    assert module.order == ["task cancelled", "on_disable"]
