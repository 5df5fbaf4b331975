"""Hot reload through the real file watcher against a running server."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import sys
import weakref
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalyst.plugins.generation import Generation
from catalyst.plugins.loader import ROOT
from catalyst.plugins.state import PluginState
from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.live_server import LiveFactory, eventually
from tests.plugin_helpers import (
    EXAMPLE,
    FIXTURE_PLUGINS,
    AppFactory,
    admin_client,
    copy_fixture,
    manager_of,
    state_of,
    write_plugin,
)

HOT = (FIXTURE_PLUGINS / "hot" / "backend" / "plugin.py").read_text()


def hot_plugin(plugins: Path, version: int = 0) -> Path:
    return copy_fixture(plugins, "hot", files={"backend/version.py": f"V = {version}\n"})


async def start(settings: Settings, live_factory: LiveFactory, *names: str) -> PluginHarness:
    return await live_factory(hot_reload=True, plugin_auto_enable=list(names or ["hot"]))


async def client_for(live: PluginHarness) -> httpx.AsyncClient:
    token = await live.token()
    return httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {token}"})


async def body(client: httpx.AsyncClient, path: str = "/api/plugins/hot/v") -> Any:
    r = await client.get(path)
    return r.json()


async def wait_for_body(
    client: httpx.AsyncClient, expected: Any, path: str = "/api/plugins/hot/v"
) -> None:
    async with asyncio.timeout(10):
        while (await body(client, path)) != expected:
            await asyncio.sleep(0.005)


@pytest.mark.slow
async def test_fifty_reloads_under_load_drop_nothing(
    settings: Settings, live_factory: LiveFactory
) -> None:
    folder = hot_plugin(settings.plugins_dir)
    live = await start(settings, live_factory)
    client = await client_for(live)
    seen: list[list[int]] = [[], [], []]
    failures: list[str] = []
    stop = asyncio.Event()

    async def hammer(log: list[int]) -> None:
        while not stop.is_set():
            try:
                r = await client.get("/api/plugins/hot/v")
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
                continue
            if r.status_code != 200:
                failures.append(f"{r.status_code} {r.text}")
            else:
                log.append(r.json()["v"])

    workers = [asyncio.create_task(hammer(log)) for log in seen]
    for version in range(1, 51):
        (folder / "backend" / "version.py").write_text(f"V = {version}\n")
        await wait_for_body(client, {"v": version})
    stop.set()
    await asyncio.gather(*workers)
    await client.aclose()
    assert failures == []
    for log in seen:
        assert log, "each worker made requests"
        assert log == sorted(log), "a worker never saw an older body after a newer one"
    assert {v for log in seen for v in log} >= {0, 50}
    assert sum(len(log) for log in seen) > 100


@pytest.mark.parametrize(
    ("what", "path", "text", "error"),
    [
        ("syntax", "backend/version.py", "V = (\n", "SyntaxError"),
        (
            "on_load",
            "backend/plugin.py",
            "def on_load(ctx):\n    raise KeyError('no')\n",
            "KeyError",
        ),
        ("manifest", "plugin.json", '{"name": "hot"}', "Invalid plugin.json"),
    ],
)
async def test_a_broken_version_keeps_the_old_one_until_fixed(
    settings: Settings, live_factory: LiveFactory, what: str, path: str, text: str, error: str
) -> None:
    folder = hot_plugin(settings.plugins_dir, 1)
    live = await start(settings, live_factory)
    client = await client_for(live)
    assert await body(client) == {"v": 1}
    good = (folder / path).read_text()
    (folder / path).write_text(text)

    async def reload_error() -> dict[str, Any] | None:
        detail = (await client.get("/api/plugins/hot")).json()["data"]
        assert detail["status"] == "enabled"  # the old version is still the live one
        return detail["reloadError"]  # type: ignore[no-any-return]

    async with asyncio.timeout(10):
        while (err := await reload_error()) is None:
            await asyncio.sleep(0.01)
    assert error in err["message"]
    assert err["traceback"] or what == "manifest"
    assert await body(client) == {"v": 1}
    # Fix it on disk: the new version is served and the error is gone.
    (folder / path).write_text(good)
    (folder / "backend" / "version.py").write_text("V = 2\n")
    await wait_for_body(client, {"v": 2})
    assert (await client.get("/api/plugins/hot")).json()["data"]["reloadError"] is None
    await client.aclose()


async def test_api_reload_of_a_broken_version_is_400_and_the_old_one_serves(
    settings: Settings, app_factory: AppFactory
) -> None:
    folder = hot_plugin(settings.plugins_dir, 1)
    app = await app_factory(plugin_auto_enable=["hot"])
    c = await admin_client(app)
    (folder / "backend" / "version.py").write_text("V = (\n")
    r = await c.post("/api/plugins/hot/reload")
    assert r.status_code == 400
    assert "SyntaxError" in r.json()["error"]
    assert "the previous version keeps serving" in r.json()["error"]
    assert (await c.get("/api/plugins/hot/v")).json() == {"v": 1}


async def test_a_change_deep_in_a_submodule_is_picked_up(
    settings: Settings, live_factory: LiveFactory
) -> None:
    code = (
        "from .lib.deep.values import WORD\ndef on_load(ctx):\n    ctx.get('/v')(lambda r: WORD)\n"
    )
    folder = write_plugin(
        settings.plugins_dir,
        "hot",
        code,
        files={"backend/lib/__init__.py": "", "backend/lib/deep/values.py": "WORD = 'one'\n"},
    )
    live = await start(settings, live_factory)
    client = await client_for(live)
    assert (await client.get("/api/plugins/hot/v")).text == "one"
    (folder / "backend/lib/deep/values.py").write_text("WORD = 'two'\n")
    async with asyncio.timeout(10):
        while (await client.get("/api/plugins/hot/v")).text != "two":
            await asyncio.sleep(0.01)
    await client.aclose()


@pytest.mark.runtime(
    "inprocess",
    reason=(
        "checks the host's module table and imported code, which only in-process "
        "plugins occupy (tests/runtime checks a process reload's old child exits)"
    ),
)
async def test_new_folders_are_listed_and_removed_ones_unloaded(
    settings: Settings, live_factory: LiveFactory
) -> None:
    hot_plugin(settings.plugins_dir)
    live = await start(settings, live_factory)
    client = await client_for(live)

    async def names() -> set[str]:
        return {p["name"] for p in (await client.get("/api/plugins")).json()["data"]}

    write_plugin(settings.plugins_dir, "fresh", "def on_load(ctx):\n    pass\n")
    records = manager_of(live.app).records
    await eventually(lambda: "fresh" in records and records["fresh"].state is PluginState.LOADED)
    assert await names() == {"hot", "fresh"}
    instance = manager_of(live.app).get("hot").instance
    assert isinstance(instance, Generation)  # in-process: its code is in the host's modules
    package = instance.code.package
    shutil.rmtree(settings.plugins_dir / "hot")
    await eventually(lambda: "hot" not in manager_of(live.app).records)
    assert await names() == {"fresh"}
    assert not [m for m in sys.modules if m.startswith(package)]
    r = await client.get("/api/plugins/hot/v")
    assert (r.status_code, r.json()["error"]) == (404, "Plugin not found")
    await client.aclose()


async def test_a_plugin_in_error_recovers_when_fixed_on_disk(
    settings: Settings, live_factory: LiveFactory
) -> None:
    folder = write_plugin(settings.plugins_dir, "hot", "def on_load(ctx)\n")  # syntax error
    (folder / "backend" / "version.py").write_text("V = 7\n")
    live = await start(settings, live_factory)
    record = manager_of(live.app).get("hot")
    assert record.state is PluginState.ERROR
    client = await client_for(live)
    assert (await client.get("/api/plugins/hot/v")).status_code == 503
    (folder / "backend" / "plugin.py").write_text(HOT)
    await wait_for_body(client, {"v": 7})
    assert state_of(record) is PluginState.ENABLED  # it was meant to be enabled
    await client.aclose()


async def test_a_burst_of_writes_is_one_reload(
    settings: Settings, live_factory: LiveFactory
) -> None:
    folder = hot_plugin(settings.plugins_dir)
    live = await start(settings, live_factory)
    reloads: list[str] = []
    live.app.state.services.bus.subscribe("plugin:reloaded", lambda e, d: reloads.append(d["name"]))
    watcher = live.app.state.services.watcher
    seen: list[str] = []  # every path the watcher was told about, in order
    handle = watcher.handle

    def spy(changes: Any) -> None:
        seen.extend(path for _, path in changes)
        handle(changes)

    watcher.handle = spy
    client = await client_for(live)
    for i in range(5):  # an editor saving several files at once
        (folder / "backend" / f"extra{i}.py").write_text(f"X = {i}\n")
    (folder / "backend" / "version.py").write_text("V = 9\n")
    await wait_for_body(client, {"v": 9})
    # Changes arrive in order: once a later save is served, the burst has had all its reloads.
    (folder / "backend" / "version.py").write_text("V = 10\n")
    await wait_for_body(client, {"v": 10})
    assert reloads == ["hot", "hot"]
    # Bytecode and editor files are ignored: the watcher never hears of them.
    (folder / "backend" / ".plugin.py.swp").write_text("x")
    (folder / "backend" / "x.pyc").write_bytes(b"x")
    (folder / "backend" / "version.py").write_text("V = 11\n")
    await wait_for_body(client, {"v": 11})
    assert reloads == ["hot", "hot", "hot"]
    assert not [p for p in seen if p.endswith((".swp", ".pyc"))]
    await client.aclose()


def _counts(app: Any) -> dict[str, int]:
    services = app.state.services
    record = manager_of(app).get("example-plugin")
    assert record.instance is not None
    return {
        **record.instance.counts(),
        "served_routes": services.dispatcher.route_count(),
        "bus_subscriptions": services.bus.count(),
        "scheduler_tasks": len(services.scheduler.tasks()),
        "plugin_modules": len([m for m in sys.modules if m.startswith(ROOT + ".")]),
    }


@pytest.mark.runtime(
    "inprocess",
    reason=(
        "checks the host's module table and imported code, which only in-process "
        "plugins occupy (tests/runtime checks a process reload's old child exits)"
    ),
)
@pytest.mark.slow
async def test_three_hundred_reloads_leak_nothing(
    settings: Settings, app_factory: AppFactory
) -> None:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    app = await app_factory(plugin_auto_enable=["example-plugin"])
    manager = manager_of(app)
    before = _counts(app)
    assert before["routes"] == 4  # hello, echo, stats, whoami
    assert before["tasks"] == 1
    first = manager.get("example-plugin").instance
    assert first is not None
    first_generation = weakref.ref(first.module.plugin)
    del first
    for _ in range(300):
        await manager.reload("example-plugin")
    after = _counts(app)
    assert after == before
    gc.collect()
    assert first_generation() is None, "an old generation is still referenced"
    c = await admin_client(app)
    assert (await c.get("/api/plugins/example-plugin/hello")).status_code == 200
    stats = (await c.get("/api/plugins/example-plugin/stats")).json()["data"]
    assert stats["installedAt"]
    assert json.dumps(stats)
