"""Hooks, ownership of registrations across disable/enable, unregister functions and lifecycle
refusals, in each runtime, observed through routes, /ws, the admin API, storage and files the
plugin writes in its data_dir."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import websockets

from tests.contract.conftest import Host, Plugin, contract_host, receive_type

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOOKS = """
import json
from pathlib import Path


def note(ctx, line):
    with (Path(ctx.data_dir) / "hooks.log").open("a") as f:
        f.write(line + "\\n")


async def on_load(ctx):
    note(ctx, "load")
    await ctx.increment_storage("hook:load")


async def on_enable(ctx):
    note(ctx, "enable")
    await ctx.increment_storage("hook:enable")


def on_disable(ctx):  # a sync hook
    note(ctx, "disable")


async def on_unload(ctx):
    note(ctx, "unload")
    await ctx.increment_storage("hook:unload")


async def on_config_change(ctx, changes):
    note(ctx, "config " + json.dumps(changes, sort_keys=True))
    await ctx.set_storage("hook:changes", changes)
    await ctx.set_storage("hook:seen", ctx.get_config("b"))
"""

OWNER = """
def on_load(ctx):
    ctx.get("/from-load")(lambda request: {"phase": "load"})


def on_enable(ctx):
    ctx.get("/from-enable")(lambda request: {"phase": "enable"})

    async def tag(request, call_next):
        response = await call_next(request)
        response.headers["x-owner"] = "yes"
        return response

    ctx.register_middleware(tag)

    def ping(data, client_id):
        ctx.send_websocket_message(client_id, {"type": "plugin:owner:pong", "data": data})

    ctx.on_websocket_message("ping", ping)

    async def started(data):
        await ctx.increment_storage("events")

    ctx.on("server:started", started)

    @ctx.post("/add-route")
    def add_route(request):
        ctx.get("/dynamic")(lambda request: {"dynamic": True})
        return {"added": True}

    async def tick():
        await ctx.increment_storage("ticks")

    ctx.schedule_task("0 0 1 1 *", tick, name="tick")
"""

UNREG = """
removers = {}


def on_enable(ctx):
    ctx.on("server:started", lambda data: None)  # keeps a listener the tests do not remove

    @ctx.post("/add")
    async def add(request):
        async def counted(data):
            await ctx.increment_storage("counted")

        async def mark(request, call_next):
            response = await call_next(request)
            response.headers["x-mark"] = "on"
            return response

        def echo(data, client_id):
            ctx.send_websocket_message(client_id, {"type": "plugin:unreg:echo", "data": data})

        removers["route"] = ctx.register_route("GET", "/temp", lambda request: {"temp": True})
        removers["middleware"] = ctx.register_middleware(mark)
        removers["ws"] = ctx.on_websocket_message("echo", echo)
        removers["listener"] = ctx.on("server:started", counted)
        return {"added": sorted(removers)}

    @ctx.post("/remove")
    def remove(request):
        for remover in removers.values():
            remover()
        removers.clear()
        return {"removed": True}
"""

FAILING = """
def on_enable(ctx):
    ctx.get("/never")(lambda request: {})
    helper(ctx)


def helper(ctx):
    raise RuntimeError("on_enable exploded")
"""

CONFIG = {
    "a": {"type": "string", "default": "x", "description": "a"},
    "b": {"type": "integer", "default": 1, "description": "b"},
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(runtime: str) -> AsyncIterator[Host]:
    plugins = {
        "hooks": Plugin(HOOKS, manifest={"config": CONFIG}),
        "owner": Plugin(OWNER, manifest={"permissions": ["server.read"]}),  # hears server:*
        "unreg": Plugin(UNREG, manifest={"permissions": ["server.read"]}),
        "failing": Plugin(FAILING, enabled=False),
        "idle": Plugin("def on_load(ctx):\n    pass\n", enabled=False),
    }
    async with contract_host(runtime, plugins) as host:
        yield host


def hooks_log(host: Host, plugin: str = "hooks") -> list[str]:
    assert host.h.settings is not None
    path: Path = host.h.settings.data_dir / "plugins" / plugin / "hooks.log"
    return path.read_text().splitlines() if path.exists() else []


async def start_server(host: Host) -> None:
    created = await host.client.post("/api/servers", json={"name": "s", "game": "g"})
    server_id = created.json()["data"]["id"]
    assert (await host.client.post(f"/api/servers/{server_id}/start")).status_code == 200


# -- hooks -------------------------------------------------------------------------------------


async def test_hook_on_load_and_on_enable(host: Host) -> None:
    assert hooks_log(host)[:2] == ["load", "enable"]
    store = host.storage("hooks")
    assert await store.get("hook:load") >= 1
    assert await store.get("hook:enable") >= 1


async def test_hook_on_disable_then_on_enable_again(host: Host) -> None:
    before = len(hooks_log(host))
    await host.set_enabled("hooks", False)
    assert hooks_log(host)[before:] == ["disable"]
    await host.set_enabled("hooks", True)
    assert hooks_log(host)[before:] == ["disable", "enable"]


async def test_hook_on_config_change_gets_only_the_changed_keys(host: Host) -> None:
    before = len(hooks_log(host))
    r = await host.client.put(host.url("hooks", "/config"), json={"config": {"a": "x", "b": 5}})
    assert r.status_code == 200, r.text
    assert hooks_log(host)[before:] == ['config {"b": 5}']
    assert await host.storage("hooks").get("hook:changes") == {"b": 5}
    assert await host.storage("hooks").get("hook:seen") == 5  # ctx sees the new value


async def test_hook_on_unload_on_the_old_side_of_a_reload(host: Host) -> None:
    before = len(hooks_log(host))
    unloads = await host.storage("hooks").get("hook:unload", 0)
    r = await host.client.post(host.url("hooks", "/reload"))
    assert r.status_code == 200, r.text
    host.check_runtime("hooks")
    assert sorted(hooks_log(host)[before:]) == ["disable", "enable", "load", "unload"]
    assert await host.storage("hooks").get("hook:unload") == unloads + 1


# -- ownership ---------------------------------------------------------------------------------


async def owner_answers(host: Host) -> dict[str, object]:
    load = await host.client.get(host.url("owner", "/from-load"))
    enable = await host.client.get(host.url("owner", "/from-enable"))
    tasks = [t["id"] for t in (await host.detail("owner"))["tasks"]]
    return {
        "load": load.status_code,
        "enable": enable.status_code,
        "middleware": load.headers.get("x-owner"),
        "tasks": tasks,
    }


async def test_disable_removes_everything_and_enable_restores_it_once(host: Host) -> None:
    store = host.storage("owner")
    ws = await host.ws()
    for _ in range(2):  # twice: re-enabling never duplicates anything
        await host.set_enabled("owner", False)
        assert await owner_answers(host) == {
            "load": 503,
            "enable": 503,
            "middleware": None,
            "tasks": [],
        }
        await ws.send(json.dumps({"type": "plugin:owner:ping", "data": 1}))
        error = (await receive_type(ws, "error"))["data"]["message"]
        assert "is not enabled (state: disabled)" in error
        before = await store.get("events", 0)
        await start_server(host)
        assert await store.get("events", 0) == before  # no listener while disabled
        assert (await host.client.post(host.url("owner", "/tasks/tick/run"))).status_code == 404

        await host.set_enabled("owner", True)
        assert await owner_answers(host) == {
            "load": 200,
            "enable": 200,
            "middleware": "yes",
            "tasks": ["tick"],
        }
        await ws.send(json.dumps({"type": "plugin:owner:ping", "data": 2}))
        assert (await receive_type(ws, "plugin:owner:pong"))["data"] == 2
        await start_server(host)
        assert await store.get("events") == before + 1  # one listener, not two
        detail = await host.detail("owner")
        assert sorted(r["url"] for r in detail["routes"]) == [
            "/add-route",
            "/from-enable",
            "/from-load",
        ]
    await ws.close()


async def test_a_route_registered_while_enabled_is_dropped_on_disable(host: Host) -> None:
    r = await host.client.post(host.url("owner", "/add-route"))
    assert r.json() == {"added": True}
    assert (await host.client.get(host.url("owner", "/dynamic"))).json() == {"dynamic": True}
    await host.set_enabled("owner", False)
    await host.set_enabled("owner", True)
    assert (await host.client.get(host.url("owner", "/dynamic"))).status_code == 404
    assert (await host.client.get(host.url("owner", "/from-enable"))).status_code == 200


async def test_unregister_functions_remove_each_registration(host: Host) -> None:
    store = host.storage("unreg")
    ws: websockets.ClientConnection = await host.ws()
    added = await host.client.post(host.url("unreg", "/add"))
    assert added.json() == {"added": ["listener", "middleware", "route", "ws"]}
    temp = await host.client.get(host.url("unreg", "/temp"))
    assert (temp.json(), temp.headers.get("x-mark")) == ({"temp": True}, "on")
    await ws.send(json.dumps({"type": "plugin:unreg:echo", "data": "a"}))
    assert (await receive_type(ws, "plugin:unreg:echo"))["data"] == "a"
    before = await store.get("counted", 0)
    await start_server(host)
    assert await store.get("counted") == before + 1

    removed = await host.client.post(host.url("unreg", "/remove"))
    assert removed.json() == {"removed": True}
    assert (await host.client.get(host.url("unreg", "/temp"))).status_code == 404
    after = await host.client.post(host.url("unreg", "/remove"))
    assert "x-mark" not in after.headers
    await ws.send(json.dumps({"type": "plugin:unreg:echo", "data": "b"}))
    error = (await receive_type(ws, "error"))["data"]["message"]
    assert error == "Unknown message type 'plugin:unreg:echo': plugin 'unreg' has no such handler"
    await start_server(host)
    assert await store.get("counted") == before + 1
    await ws.close()


# -- lifecycle ---------------------------------------------------------------------------------


async def test_refused_transitions_are_409_naming_the_states(host: Host) -> None:
    r = await host.client.post(host.url("idle", "/enable"), json={"enabled": False})
    assert r.status_code == 409
    assert r.json()["error"] == (
        "Cannot disable plugin 'idle': it is loaded, but needs to be enabled or restarting"
    )
    on = await host.client.post(host.url("unreg", "/enable"), json={"enabled": True})
    assert on.status_code == 409
    assert "it is enabled" in on.json()["error"]
    assert (await host.detail("unreg"))["status"] == "enabled"


async def test_a_failing_on_enable_puts_the_plugin_in_error(host: Host) -> None:
    r = await host.client.post(host.url("failing", "/enable"), json={"enabled": True})
    assert r.status_code == 400
    assert "on_enable failed: RuntimeError: on_enable exploded" in r.json()["error"]
    detail = await host.detail("failing")
    assert detail["status"] == "error"
    assert detail["error"] == "on_enable failed: RuntimeError: on_enable exploded"
    trace = detail["errorDetail"]
    assert "Traceback" in trace
    assert "backend/plugin.py" in trace
    assert "in helper" in trace  # the frame of the plugin's own code that raised
    assert (await host.client.get(host.url("failing", "/never"))).status_code == 503
