"""One test per ctx capability (``test_ctx_<name>``) and per hook (``test_hook_<name>``).

``tests/sdk/test_sdk_contract.py`` checks that every hook and ctx member has its test here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalyst.auth.sessions import Principal
from catalyst.plugins.context import PluginContext
from catalyst.sdk import PluginPermissionError, RegistrationError
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

pytestmark = pytest.mark.runtime(
    "inprocess",
    reason=(
        "calls the host-side ctx and reads the plugin module's globals; "
        "tests/contract runs the ctx contract from plugin code in both runtimes"
    ),
)


CODE = """
events = []

def on_load(ctx):
    events.append(("load", ctx.name))

def on_enable(ctx):
    events.append(("enable", ctx.name))

def on_disable(ctx):
    events.append(("disable", ctx.name))

def on_unload(ctx):
    events.append(("unload", ctx.name))

def on_config_change(ctx, changes):
    events.append(("config", changes))
"""


class Env:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def ctx(self) -> PluginContext:
        ctx = manager_of(self.app).get("demo").instance.ctx  # type: ignore[union-attr]
        assert ctx is not None
        return ctx

    @property
    def events(self) -> list[Any]:
        return manager_of(self.app).get("demo").instance.module.events  # type: ignore[union-attr, no-any-return]

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(f"/api/plugins/demo{path}")


@pytest.fixture
async def env(settings: Settings, app_factory: AppFactory) -> AsyncIterator[Env]:
    write_plugin(
        settings.plugins_dir,
        "demo",
        CODE,
        permissions=["server.read"],
        config={"greeting": {"type": "string", "default": "hi", "description": "g"}},
    )
    app = await app_factory(plugin_auto_enable=["demo"])
    client = await admin_client(app)
    yield Env(app, client)
    await client.aclose()


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.arrived = asyncio.Event()

    async def send(self, text: str) -> None:
        self.sent.append(text)
        self.arrived.set()

    async def received(self, count: int) -> list[str]:
        """The messages sent to this socket, once there are ``count`` of them."""
        async with asyncio.timeout(5):
            while len(self.sent) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.sent

    async def close(self, code: int, reason: str) -> None:
        self.sent.append(f"closed {code}")


def connect(app: FastAPI, user_id: int, permissions: frozenset[str]) -> tuple[str, FakeSocket]:
    sock = FakeSocket()
    conn = app.state.services.hub.add(
        Principal(user_id, f"u{user_id}", (), permissions), sock.send, sock.close
    )
    return conn.id, sock


# -- identity ----------------------------------------------------------------------------------


async def test_ctx_name(env: Env) -> None:
    assert env.ctx.name == "demo"


async def test_ctx_version(env: Env) -> None:
    assert env.ctx.version == "1.0.0"


async def test_ctx_logger(env: Env) -> None:
    env.ctx.logger.info("any field name works", event="x", level="y")
    env.ctx.logger.warning("careful", n=3)
    logs = (await env.client.get("/api/plugins/demo/logs")).json()["data"]
    assert logs[-1]["level"] == "warning"
    assert (logs[-1]["message"], logs[-1]["fields"]) == ("careful", {"n": 3})


async def last_logs(env: Env, n: int) -> list[dict[str, Any]]:
    logs: list[dict[str, Any]] = (await env.client.get("/api/plugins/demo/logs")).json()["data"]
    return logs[-n:]


async def test_ctx_logger_takes_the_stdlib_and_the_seeds_call_shapes(env: Env) -> None:
    log = env.ctx.logger
    log.info("Received event:", {"server": 1})  # the seed: console-style extra arguments
    log.info("x=%s n=%d", "a", 3)  # stdlib interpolation
    log.info("as json %j", [1, 2])  # pino placeholder
    try:
        raise ValueError("nope")
    except ValueError as e:
        log.error({"error": e}, "Error occurred")  # pino: an object first, then the message
        log.error(e, "With the error first")
        log.error("stdlib style", exc_info=True)
    log.info("with extra", extra={"user": 1}, n=2)
    log.log(logging.WARNING, "by number %s", "ok")
    log.critical("critical is an error")
    log.info({"msg": "pino msg key", "a": 1})
    records = await last_logs(env, 10)
    shown = [(r["level"], r["message"]) for r in records]
    assert shown == [
        ("info", 'Received event: {"server": 1}'),
        ("info", "x=a n=3"),
        ("info", "as json [1, 2]"),
        ("error", "Error occurred"),
        ("error", "With the error first"),
        ("error", "stdlib style"),
        ("info", "with extra"),
        ("warning", "by number ok"),
        ("error", "critical is an error"),
        ("info", "pino msg key"),
    ]
    pino, first, stdlib, extra = records[3], records[4], records[5], records[6]
    assert pino["fields"]["error"] == "ValueError: nope"
    assert "ValueError: nope" in pino["fields"]["traceback"]
    assert first["fields"]["error"] == "ValueError: nope"
    assert "ValueError: nope" in stdlib["fields"]["traceback"]
    assert extra["fields"] == {"user": 1, "n": 2}
    assert records[9]["fields"] == {"a": 1}


async def test_ctx_logger_never_raises(env: Env) -> None:
    class Evil:
        def __str__(self) -> str:
            raise RuntimeError("no str")

        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    log = env.ctx.logger
    log.info(Evil())
    log.info("evil arg", Evil(), evil=Evil())
    log.info("cycle", data=cyclic)
    log.info("%d", "not a number")
    log.info("done: 50%", 1)
    log.error("bad exc_info", exc_info=("junk",))
    log.info(message="keyword message", message_extra=1)
    log.info("a field named message", message="m")
    log.info()
    log.exception("no exception being handled")
    records = await last_logs(env, 10)
    assert [r["message"] for r in records] == [
        "<unprintable Evil>",
        "evil arg <unprintable Evil>",
        "cycle",
        "%d not a number",
        "done: 50% 1",
        "bad exc_info",
        "keyword message",
        "a field named message",
        "",
        "no exception being handled",
    ]
    assert records[7]["fields"] == {"message_": "m"}
    assert "traceback" not in records[9]["fields"]


# -- HTTP --------------------------------------------------------------------------------------


async def test_ctx_register_route(env: Env) -> None:
    remove = env.ctx.register_route("GET", "/r/{x}", lambda r: {"x": r.path_params["x"]})
    assert (await env.get("/r/abc")).json() == {"x": "abc"}
    remove()
    assert (await env.get("/r/abc")).status_code == 404


async def check_decorator(env: Env, decorator: Callable[[str], Any], verb: str) -> None:
    decorator("/verb")(lambda r: {"verb": r.method})
    r = await env.client.request(verb, "/api/plugins/demo/verb")
    assert r.json() == {"verb": verb}


async def test_ctx_get(env: Env) -> None:
    await check_decorator(env, env.ctx.get, "GET")


async def test_ctx_post(env: Env) -> None:
    await check_decorator(env, env.ctx.post, "POST")


async def test_ctx_put(env: Env) -> None:
    await check_decorator(env, env.ctx.put, "PUT")


async def test_ctx_patch(env: Env) -> None:
    await check_decorator(env, env.ctx.patch, "PATCH")


async def test_ctx_delete(env: Env) -> None:
    await check_decorator(env, env.ctx.delete, "DELETE")


async def test_ctx_register_middleware(env: Env) -> None:
    async def tag(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-tag"] = "yes"
        return response

    env.ctx.get("/m")(lambda r: {})
    remove = env.ctx.register_middleware(tag)
    assert (await env.get("/m")).headers["x-tag"] == "yes"
    remove()
    assert "x-tag" not in (await env.get("/m")).headers


# -- WebSocket ---------------------------------------------------------------------------------


async def test_ctx_on_websocket_message(env: Env) -> None:
    got: list[tuple[Any, str]] = []
    env.ctx.on_websocket_message("hi", lambda data, client: got.append((data, client)))
    inst = manager_of(env.app).get("demo").instance
    assert inst is not None
    assert "hi" in inst.ws_handlers
    inst.ws_handlers["hi"]({"a": 1}, "c1")
    assert got == [({"a": 1}, "c1")]
    with pytest.raises(RegistrationError, match="already has a handler"):
        env.ctx.on_websocket_message("hi", lambda d, c: None)
    with pytest.raises(RegistrationError, match="without ':'"):
        env.ctx.on_websocket_message("a:b", lambda d, c: None)
    env.ctx.on_websocket_message("guarded", lambda d, c, client: None, permission="server.write")
    assert inst.ws_handlers["guarded"].permission == "server.write"
    for bad in ("", " server.write", 5):
        with pytest.raises(RegistrationError, match="must be a permission name"):
            env.ctx.on_websocket_message("bad", lambda d, c: None, permission=bad)  # type: ignore[arg-type]


async def test_ctx_send_websocket_message(env: Env) -> None:
    assert env.ctx.send_websocket_message("*", {"type": "nobody"}) is False
    client_id, sock = connect(env.app, 1, frozenset())
    _, other = connect(env.app, 2, frozenset())
    assert env.ctx.send_websocket_message(client_id, {"type": "t", "data": 1}) is True
    assert env.ctx.send_websocket_message("nobody", {"type": "t"}) is False
    assert env.ctx.send_websocket_message("*", {"type": "all"}) is True  # the seed's broadcast
    assert await sock.received(2) == ['{"type":"t","data":1}', '{"type":"all"}']
    assert await other.received(1) == ['{"type":"all"}']


async def test_ctx_send_to_user(env: Env) -> None:
    _, a1 = connect(env.app, 1, frozenset())
    _, a2 = connect(env.app, 1, frozenset())
    _, b = connect(env.app, 2, frozenset())
    assert env.ctx.send_to_user(1, {"type": "t"}) == 2
    await a1.received(1)
    await a2.received(1)
    # b's message would have been queued before theirs: it has none.
    assert (len(a1.sent), len(a2.sent), len(b.sent)) == (1, 1, 0)


async def test_ctx_broadcast(env: Env) -> None:
    _, admin = connect(env.app, 1, frozenset({"*"}))
    _, viewer = connect(env.app, 2, frozenset({"server.read"}))
    assert env.ctx.broadcast({"type": "all"}) == 2
    assert env.ctx.broadcast({"type": "admins"}, permission="admin.read") == 1
    assert len(await admin.received(2)) == 2
    assert await viewer.received(1) == ['{"type":"all"}']


# -- tasks and events --------------------------------------------------------------------------


async def test_ctx_schedule_task(env: Env) -> None:
    runs: list[int] = []
    task_id = env.ctx.schedule_task("* * * * *", lambda: runs.append(1), name="tick")
    assert task_id == "tick"
    other = env.ctx.schedule_task("* * * * *", lambda: runs.append(2))
    assert other != task_id  # same cron, no collision
    r = await env.client.post(f"/api/plugins/demo/tasks/{task_id}/run")
    assert r.status_code == 200
    assert runs == [1]
    with pytest.raises(RegistrationError, match="invalid cron"):
        env.ctx.schedule_task("every tuesday", lambda: None)
    # Valid syntax that never fires is refused at registration, not later at enable.
    with pytest.raises(RegistrationError, match="never fires"):
        env.ctx.schedule_task("0 0 31 4 *", lambda: None)
    six = env.ctx.schedule_task("*/10 * * * * *", lambda: None, name="seconds")
    assert six == "seconds"


async def test_ctx_on(env: Env) -> None:
    got: list[Any] = []
    remove = env.ctx.on("server:*", lambda data, event: got.append((event, data)))
    await env.app.state.services.bus.emit("server:started", {"id": 1})
    await env.app.state.services.bus.emit("plugin:enabled", {})
    assert got == [("server:started", {"id": 1})]
    remove()
    await env.app.state.services.bus.emit("server:started", {"id": 2})
    assert len(got) == 1


async def test_ctx_emit(env: Env) -> None:
    got: list[Any] = []
    env.app.state.services.bus.subscribe("demo:*", lambda e, d: got.append((e, d)))
    await env.ctx.emit("thing", {"n": 1})
    await env.ctx.emit("demo:other", 2)
    assert got == [("demo:thing", {"n": 1}), ("demo:other", 2)]
    with pytest.raises(PluginPermissionError, match="only emit its own events"):
        await env.ctx.emit("server:started", {})


# -- config ------------------------------------------------------------------------------------


async def test_ctx_config(env: Env) -> None:
    assert env.ctx.config == {"greeting": "hi"}


async def test_ctx_get_config(env: Env) -> None:
    assert env.ctx.get_config("greeting") == "hi"
    assert env.ctx.get_config("missing", "fallback") == "fallback"


async def test_ctx_set_config(env: Env) -> None:
    await env.ctx.set_config("greeting", "hello")
    assert env.ctx.get_config("greeting") == "hello"
    from catalyst.sdk import ConfigError

    with pytest.raises(ConfigError, match="Unknown config key"):
        await env.ctx.set_config("nope", 1)


# -- storage -----------------------------------------------------------------------------------


async def test_ctx_get_storage(env: Env) -> None:
    assert await env.ctx.get_storage("k") is None
    assert await env.ctx.get_storage("k", 5) == 5


async def test_ctx_set_storage(env: Env) -> None:
    await env.ctx.set_storage("k", {"a": [1, 2]})
    assert await env.ctx.get_storage("k") == {"a": [1, 2]}


async def test_ctx_delete_storage(env: Env) -> None:
    await env.ctx.set_storage("k", 1)
    assert await env.ctx.delete_storage("k") is True
    assert await env.ctx.delete_storage("k") is False


async def test_ctx_list_storage(env: Env) -> None:
    await env.ctx.set_storage("a:1", 1)
    await env.ctx.set_storage("a:2", 2)
    await env.ctx.set_storage("b", 3)
    assert await env.ctx.list_storage("a:") == {"a:1": 1, "a:2": 2}


async def test_ctx_increment_storage(env: Env) -> None:
    results = await asyncio.gather(*(env.ctx.increment_storage("n") for _ in range(20)))
    assert sorted(results) == list(range(1, 21))
    assert await env.ctx.increment_storage("n", 5) == 25


# -- files -------------------------------------------------------------------------------------


async def test_ctx_data_dir(env: Env, settings: Settings) -> None:
    folder = env.ctx.data_dir
    assert folder == settings.data_dir / "plugins" / "demo"
    assert folder.is_dir()
    (folder / "note.txt").write_text("kept")
    await manager_of(env.app).reload("demo")
    assert (env.ctx.data_dir / "note.txt").read_text() == "kept"


# -- database ----------------------------------------------------------------------------------


async def test_ctx_db(env: Env) -> None:
    assert await env.ctx.db.servers.count() == 0  # server.read was declared and granted
    with pytest.raises(PluginPermissionError):
        await env.ctx.db.users.count()


# -- hooks -------------------------------------------------------------------------------------


async def test_hook_on_load(env: Env) -> None:
    assert env.events[0] == ("load", "demo")


async def test_hook_on_enable(env: Env) -> None:
    assert env.events[1] == ("enable", "demo")


async def test_hook_on_disable(env: Env) -> None:
    await manager_of(env.app).disable("demo")
    assert env.events[-1] == ("disable", "demo")


async def test_hook_on_unload(env: Env) -> None:
    events = env.events
    await manager_of(env.app).stop()
    assert events[-2:] == [("disable", "demo"), ("unload", "demo")]


async def test_hook_on_config_change(env: Env) -> None:
    await env.client.put("/api/plugins/demo/config", json={"config": {"greeting": "yo"}})
    assert env.events[-1] == ("config", {"greeting": "yo"})
