"""Hooks, hook failures, ownership counts and enable/disable through the real app."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.conftest import stop_app
from tests.plugin_helpers import AppFactory, admin_client, manager_of, state_of, write_plugin

RECORDING = """
calls = []

async def on_load(ctx):
    calls.append("load")
    ctx.register_route("GET", "/from-load", lambda request: {"phase": "load"})
    ctx.on("server:started", lambda data: calls.append("event"))
    ctx.schedule_task("*/5 * * * *", lambda: None, name="load-task")

def on_enable(ctx):  # a sync hook runs in a worker thread
    calls.append("enable")
    ctx.register_route("GET", "/from-enable", lambda request: {"phase": "enable"})
    ctx.register_middleware(mw)
    ctx.on_websocket_message("ping", lambda data, client: None)
    ctx.on("server:*", lambda data: None)
    ctx.schedule_task("*/5 * * * *", lambda: None)

async def mw(request, call_next):
    return await call_next(request)

async def on_disable(ctx):
    calls.append("disable")

async def on_unload(ctx):
    calls.append("unload")
"""


def counts(app: FastAPI, name: str) -> dict[str, int]:
    services = app.state.services
    record = manager_of(app).get(name)
    inst = record.instance
    return {
        "served_routes": services.dispatcher.route_count(name),
        "routes": len(inst.routes) if inst else 0,
        "middleware": len(inst.middleware) if inst else 0,
        "ws": len(inst.ws_handlers) if inst else 0,
        "listeners": services.bus.count(name),
        "tasks_registered": len(inst.tasks) if inst else 0,
        "tasks_live": len(services.scheduler.tasks(name)),
    }


LOADED = {
    "served_routes": 0,
    "routes": 1,
    "middleware": 0,
    "ws": 0,
    "listeners": 1,
    "tasks_registered": 1,
    "tasks_live": 0,
}
ENABLED = {
    "served_routes": 2,
    "routes": 2,
    "middleware": 1,
    "ws": 1,
    "listeners": 2,
    "tasks_registered": 2,
    "tasks_live": 2,
}


@pytest.mark.runtime(
    "inprocess",
    reason=("reads hook calls from the plugin module's globals"),
)
async def test_ownership_counts_through_every_transition(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "rec", RECORDING, permissions=["server.read"])
    app = await app_factory()
    manager = manager_of(app)
    record = manager.get("rec")
    assert record.state is PluginState.LOADED  # new plugins start disabled
    assert counts(app, "rec") == LOADED
    for _ in range(3):  # re-enabling never duplicates anything
        await manager.enable("rec")
        assert state_of(record) is PluginState.ENABLED
        assert counts(app, "rec") == ENABLED
        await manager.disable("rec")
        assert state_of(record) is PluginState.DISABLED
        assert counts(app, "rec") == LOADED
    module = record.instance.module  # type: ignore[union-attr]
    assert module.calls == ["load"] + ["enable", "disable"] * 3
    await manager.stop()
    assert state_of(record) is PluginState.UNLOADED
    assert record.instance is None
    assert app.state.services.bus.count("rec") == 0
    assert module.calls[-1] == "unload"


@pytest.mark.runtime(
    "inprocess",
    reason=("reads hook calls from the plugin module's globals"),
)
async def test_disabled_listeners_from_on_load_do_not_fire(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "rec", RECORDING, permissions=["server.read"])
    app = await app_factory()
    manager = manager_of(app)
    module = manager.get("rec").instance.module  # type: ignore[union-attr]
    await app.state.services.bus.emit("server:started", {})
    assert "event" not in module.calls
    await manager.enable("rec")
    await app.state.services.bus.emit("server:started", {})
    assert module.calls.count("event") == 1
    await manager.disable("rec")
    await app.state.services.bus.emit("server:started", {})
    assert module.calls.count("event") == 1


@pytest.mark.parametrize("style", ["functions", "object", "class"])
async def test_hooks_as_functions_object_or_class(
    settings: Settings, app_factory: AppFactory, style: str
) -> None:
    body = {
        "functions": "def on_load(ctx):\n    ctx.get('/x')(lambda r: {'style': 'f'})\n",
        "object": (
            "class P:\n    async def on_load(self, ctx):\n"
            "        ctx.get('/x')(lambda r: {'style': 'o'})\nplugin = P()\n"
        ),
        "class": (
            "class plugin:\n    def on_load(self, ctx):\n"
            "        ctx.get('/x')(lambda r: {'style': 'c'})\n"
        ),
    }[style]
    write_plugin(settings.plugins_dir, "styled", body)
    app = await app_factory()
    await manager_of(app).enable("styled")
    client = await admin_client(app)
    r = await client.get("/api/plugins/styled/x")
    assert r.status_code == 200
    assert r.json() == {"style": style[0]}


@pytest.mark.parametrize("hook", ["on_load", "on_enable"])
async def test_a_raising_hook_puts_the_plugin_in_error_and_the_host_keeps_serving(
    settings: Settings, app_factory: AppFactory, hook: str
) -> None:
    code = f"""
def {hook}(ctx):
    ctx.get("/x")(lambda r: {{}})
    raise RuntimeError("kaboom in {hook}")
"""
    write_plugin(settings.plugins_dir, "broken", code)
    write_plugin(
        settings.plugins_dir, "fine", "def on_load(ctx):\n    ctx.get('/ok')(lambda r: {'ok': 1})\n"
    )
    app = await app_factory(plugin_auto_enable=["broken", "fine"])
    client = await admin_client(app)
    detail = (await client.get("/api/plugins/broken")).json()["data"]
    assert detail["status"] == "error"
    assert detail["error"] == f"{hook} failed: RuntimeError: kaboom in {hook}"
    assert "Traceback" in detail["errorDetail"]
    assert detail["routes"] == [] or hook == "on_enable"
    assert app.state.services.dispatcher.route_count("broken") == 0
    assert (await client.get("/api/plugins/broken/x")).status_code == 503
    assert (await client.get("/api/plugins/fine/ok")).json() == {"ok": 1}
    assert (await client.get("/api/health")).status_code == 200


async def test_a_slow_hook_times_out_into_error(
    settings: Settings, app_factory: AppFactory
) -> None:
    code = "import asyncio\nasync def on_enable(ctx):\n    await asyncio.sleep(30)\n"
    write_plugin(settings.plugins_dir, "slow", code)
    app = await app_factory(plugin_hook_timeout=0.2)
    client = await admin_client(app)
    r = await client.post("/api/plugins/slow/enable", json={"enabled": True})
    assert r.status_code == 400
    assert "on_enable failed: timed out after 0.2 s" in r.json()["error"]
    assert manager_of(app).get("slow").state is PluginState.ERROR


async def test_import_errors_are_reported(settings: Settings, app_factory: AppFactory) -> None:
    write_plugin(settings.plugins_dir, "syntax", "def on_load(ctx)\n    pass\n")
    write_plugin(settings.plugins_dir, "missing", "import no_such_module_anywhere\n")
    app = await app_factory()
    manager = manager_of(app)
    assert manager.get("syntax").state is PluginState.ERROR
    assert "SyntaxError" in (manager.get("syntax").error or "")
    assert "ModuleNotFoundError" in (manager.get("missing").error or "")


@pytest.mark.runtime(
    "inprocess",
    reason=("reads hook calls from the plugin module's globals"),
)
async def test_refused_transition_is_409_and_changes_nothing(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "rec", RECORDING, permissions=["server.read"])
    app = await app_factory()
    client = await admin_client(app)
    r = await client.post("/api/plugins/rec/enable", json={"enabled": False})
    assert r.status_code == 409
    assert r.json()["error"] == (
        "Cannot disable plugin 'rec': it is loaded, but needs to be enabled or restarting"
    )
    module = manager_of(app).get("rec").instance.module  # type: ignore[union-attr]
    assert module.calls == ["load"]
    assert manager_of(app).get("rec").state is PluginState.LOADED
    assert (await client.post("/api/plugins/rec/enable", json={"enabled": True})).status_code == 200
    again = await client.post("/api/plugins/rec/enable", json={"enabled": True})
    assert again.status_code == 409
    assert "it is enabled" in again.json()["error"]
    assert module.calls == ["load", "enable"]


async def test_enabled_state_persists_across_restart(
    settings: Settings, app_factory: AppFactory
) -> None:
    for name in ("alpha", "beta", "gamma"):
        write_plugin(settings.plugins_dir, name, "")
    first = await app_factory()
    await manager_of(first).enable("alpha")
    await manager_of(first).enable("gamma")
    await manager_of(first).enable("beta")
    await manager_of(first).disable("beta")
    await stop_app(first)
    second = await app_factory()
    states = {n: r.state for n, r in manager_of(second).records.items()}
    assert states == {
        "alpha": PluginState.ENABLED,
        "beta": PluginState.LOADED,
        "gamma": PluginState.ENABLED,
    }


async def test_two_plugins_with_the_same_module_names_do_not_collide(
    settings: Settings, app_factory: AppFactory
) -> None:
    for name, word in (("one", "first"), ("two", "second")):
        write_plugin(
            settings.plugins_dir,
            name,
            "from .utils import WORD\n"
            "def on_load(ctx):\n    ctx.get('/word')(lambda r: {'word': WORD})\n",
            files={"backend/utils.py": f"WORD = {word!r}\n"},
        )
    app = await app_factory(plugin_auto_enable=["one", "two"])
    client = await admin_client(app)
    assert (await client.get("/api/plugins/one/word")).json() == {"word": "first"}
    assert (await client.get("/api/plugins/two/word")).json() == {"word": "second"}


@pytest.mark.runtime(
    "inprocess",
    reason=("reads hook calls from the plugin module's globals"),
)
async def test_concurrent_rescans_add_and_remove_each_plugin_once(
    settings: Settings, app_factory: AppFactory
) -> None:
    import asyncio
    import shutil

    app = await app_factory()
    slow_unload = RECORDING.replace(
        'async def on_unload(ctx):\n    calls.append("unload")',
        "async def on_unload(ctx):\n    import asyncio\n    await asyncio.sleep(0.05)\n"
        '    calls.append("unload")',
    )
    assert slow_unload != RECORDING
    write_plugin(settings.plugins_dir, "rec", slow_unload)
    results = await asyncio.gather(*(manager_of(app).rescan() for _ in range(3)))
    assert sorted(r["added"] for r in results) == [[], [], ["rec"]]
    module = manager_of(app).get("rec").instance.module  # type: ignore[union-attr]
    assert module.calls == ["load"]
    assert app.state.services.bus.count("rec") == 1  # its one on_load listener, not three
    shutil.rmtree(settings.plugins_dir / "rec")
    results = await asyncio.gather(*(manager_of(app).rescan() for _ in range(3)))
    assert sorted(r["removed"] for r in results) == [[], [], ["rec"]]
    assert module.calls == ["load", "unload"]
    assert app.state.services.bus.count("rec") == 0


async def test_a_disable_whose_on_disable_raised_says_so(
    settings: Settings, app_factory: AppFactory
) -> None:
    code = "def on_disable(ctx):\n    raise RuntimeError('cannot let go')\n"
    write_plugin(settings.plugins_dir, "clingy", code)
    app = await app_factory(plugin_auto_enable=["clingy"])
    client = await admin_client(app)
    r = await client.post("/api/plugins/clingy/enable", json={"enabled": False})
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == (
        "Plugin disabled, but its on_disable failed: RuntimeError: cannot let go"
    )
    assert body["data"]["status"] == "disabled"
    assert body["data"]["warning"] == "on_disable failed: RuntimeError: cannot let go"
    detail = (await client.get("/api/plugins/clingy")).json()["data"]
    assert detail["hookError"]["hook"] == "on_disable"
    assert detail["hookError"]["message"] == "on_disable failed: RuntimeError: cannot let go"
    assert "Traceback" in detail["hookError"]["traceback"]
    assert (await client.post("/api/plugins/clingy/enable", json={"enabled": True})).is_success
    assert (await client.get("/api/plugins/clingy")).json()["data"]["hookError"] is None
