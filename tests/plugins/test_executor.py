"""Sync plugin code runs in its plugin's own bounded thread pool, never on the event loop; one
plugin's blocked sync routes starve neither another plugin nor a reload."""

from __future__ import annotations

import asyncio
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

pytestmark = pytest.mark.runtime(
    "inprocess",
    reason=(
        "the plugin's thread pool in the host is the in-process runtime's (a process "
        "plugin's sync code runs in its child)"
    ),
)

WHERE = """
import threading

seen = {}
done = threading.Event()

def where():
    return threading.current_thread().name

def on_load(ctx):
    seen["on_load"] = where()

    @ctx.get("/where")
    def route(request):
        return {"thread": where()}

    def listener(data):
        seen["listener"] = where()
        done.set()

    ctx.on("server:poked", listener)

def on_enable(ctx):
    def task():
        seen["task"] = where()

    ctx.schedule_task("0 0 1 1 *", task, name="task")
"""

BLOCKING = """
import threading


release = threading.Event()
entered = threading.Semaphore(0)

def on_load(ctx):
    @ctx.get("/block")
    def block(request):
        entered.release()
        release.wait(60)
        return {"blocked": True}
"""

OTHER = """
def on_load(ctx):
    @ctx.get("/hello")
    def hello(request):
        return {"hello": "world"}
"""

GUARD = 30.0  # a bound so that a missing fix fails instead of hanging


def module(app: FastAPI, name: str) -> types.ModuleType:
    instance = manager_of(app).get(name).instance
    assert instance is not None
    return instance.module


async def test_sync_routes_tasks_listeners_and_hooks_run_in_the_plugins_pool(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "where", WHERE, permissions=["server.read"])
    app = await app_factory(plugin_auto_enable=["where"])
    c = await admin_client(app)
    assert (await c.get("/api/plugins/where/where")).json()["thread"].startswith("plugin:where-")
    assert (await c.post("/api/plugins/where/tasks/task/run")).status_code == 200
    await app.state.services.bus.emit("server:poked", {"id": 1})
    plugin = module(app, "where")
    assert plugin.done.is_set()
    for kind in ("task", "listener"):
        assert plugin.seen[kind].startswith("plugin:where-"), (kind, plugin.seen)
    assert plugin.seen["on_load"].startswith("plugin:where:hooks-"), plugin.seen  # its own pool


async def test_blocked_sync_routes_of_one_plugin_starve_neither_another_nor_a_reload(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "blocking", BLOCKING)
    write_plugin(settings.plugins_dir, "other", OTHER)
    app = await app_factory(
        plugin_auto_enable=["blocking", "other"], plugin_threads=4, plugin_route_timeout=60
    )
    c = await admin_client(app)
    blocking = module(app, "blocking")
    # More blocked sync requests than the default executor has threads on a small machine.
    held = [asyncio.create_task(c.get("/api/plugins/blocking/block")) for _ in range(40)]
    try:
        with ThreadPoolExecutor(1) as waiter:  # not the loop's default executor
            for _ in range(4):  # the plugin's 4 threads are all taken
                entered = asyncio.get_running_loop().run_in_executor(
                    waiter, blocking.entered.acquire, True, GUARD
                )
                assert await entered
        async with asyncio.timeout(GUARD):
            r = await c.get("/api/plugins/other/hello")
            assert r.json() == {"hello": "world"}
            r = await c.post("/api/plugins/other/reload")
            assert r.status_code == 200, r.text
            assert (await c.get("/api/plugins/other/hello")).status_code == 200
        assert not any(t.done() for t in held)
    finally:
        blocking.release.set()
        async with asyncio.timeout(GUARD):
            answers = await asyncio.gather(*held)
    assert all(a.json() == {"blocked": True} for a in answers)


async def test_a_plugin_whose_sync_routes_hold_its_pool_can_still_be_reloaded_and_disabled(
    settings: Settings, app_factory: AppFactory
) -> None:
    """Its sync hooks (on_load of the new version, on_disable, on_unload) do not queue behind
    the blocked handlers: before the fix the reload timed out (hook timeout) and failed."""
    write_plugin(settings.plugins_dir, "blocking", BLOCKING)
    app = await app_factory(
        plugin_auto_enable=["blocking"],
        plugin_threads=2,
        plugin_route_timeout=60,
        plugin_hook_timeout=5,
    )
    c = await admin_client(app)
    blocking = module(app, "blocking")
    held = [asyncio.create_task(c.get("/api/plugins/blocking/block")) for _ in range(3)]
    try:
        with ThreadPoolExecutor(1) as waiter:
            for _ in range(2):  # both threads of the plugin's pool are taken, one call queued
                entered = asyncio.get_running_loop().run_in_executor(
                    waiter, blocking.entered.acquire, True, GUARD
                )
                assert await entered
        async with asyncio.timeout(GUARD):
            r = await c.post("/api/plugins/blocking/reload")
            assert r.status_code == 200, r.text
            r = await c.post("/api/plugins/blocking/enable", json={"enabled": False})
            assert r.status_code == 200, r.text
            assert "warning" not in r.json(), r.json()
    finally:
        blocking.release.set()
        async with asyncio.timeout(GUARD):
            await asyncio.gather(*held)


def test_pool_is_bounded_and_shutdown_does_not_wait() -> None:
    from catalyst.plugins.executor import DaemonPool

    pool = DaemonPool(2, "t")
    gate = threading.Event()
    running = threading.Semaphore(0)

    def hold() -> str:
        running.release()
        gate.wait(30)
        return threading.current_thread().name

    futures = [pool.submit(hold) for _ in range(5)]
    assert running.acquire(timeout=GUARD)
    assert running.acquire(timeout=GUARD)
    assert pool.threads == 2
    assert sum(f.running() for f in futures) == 2
    began = time.monotonic()
    pool.shutdown()  # must not wait for the two held calls
    assert time.monotonic() - began < GUARD
    assert all(f.cancelled() for f in futures[2:])  # queued calls are cancelled
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(hold)
    gate.set()
    assert all(f.result(GUARD).startswith("t-") for f in futures[:2])
    assert all(
        not t.is_alive() or t.daemon for t in threading.enumerate() if t.name.startswith("t-")
    )


async def test_run_sync_passes_results_errors_and_context() -> None:
    import contextvars

    from catalyst.plugins import executor

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="none")
    var.set("caller")
    assert await executor.run_sync("unit-test", var.get) == "caller"
    with pytest.raises(SystemExit):
        await executor.run_sync("unit-test", lambda: (_ for _ in ()).throw(SystemExit(3)))
    executor.acquire("unit-test")
    executor.release("unit-test")
    assert "unit-test" not in executor._state.pools  # the last generation shut it down
    executor.acquire("in-use")
    await executor.run_sync("in-use", int)
    await executor.run_sync("left-over", int)  # a pool made on demand, used by no generation
    executor.shutdown_idle()
    assert "left-over" not in executor._state.pools
    assert "in-use" in executor._state.pools  # another host's live plugin keeps its pool
    executor.release("in-use")
    assert "in-use" not in executor._state.pools
