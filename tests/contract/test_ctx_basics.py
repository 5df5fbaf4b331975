"""ctx identity, logger, config, storage, db and data_dir, called by plugin code in each runtime
and observed through the plugin's routes, its log and its storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.contract.conftest import Host, Plugin, contract_host

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASICS = """
import datetime
from pathlib import Path

from catalyst.sdk import ConfigError, PluginPermissionError, RegistrationError


def on_load(ctx):
    @ctx.get("/identity")
    def identity(request):
        return {"name": ctx.name, "version": ctx.version}

    @ctx.post("/log")
    def log(request):
        for level in ("trace", "debug", "info", "warning", "warn", "error", "critical", "fatal"):
            getattr(ctx.logger, level)(f"{level} message", level_name=level, n=1)
        ctx.logger.log("warning", "by name %s", "ok")
        ctx.logger.log(40, "by number %s", "ok")
        ctx.logger.info("x=%s n=%d", "a", 3)
        ctx.logger.info("Received event:", {"server": 1})
        try:
            raise ValueError("nope")
        except ValueError as e:
            ctx.logger.error({"error": e}, "Error occurred")
            ctx.logger.exception("caught it")
        ctx.logger.info("with extra", extra={"user": 1}, n=2)
        ctx.logger.info({"msg": "pino msg key", "a": 1})
        return {"logged": True}

    @ctx.get("/cfg")
    def config(request):
        return {
            "config": ctx.config,
            "greeting": ctx.get_config("greeting"),
            "missing": ctx.get_config("missing", "fallback"),
        }

    @ctx.post("/cfg")
    async def set_config(request):
        body = await request.json()
        try:
            await ctx.set_config(body["key"], body["value"])
        except ConfigError as exc:  # ConfigValidationError in-process: a ConfigError too
            return {"refused": True, "message": str(exc)}
        return {"saved": ctx.get_config(body["key"])}

    @ctx.post("/storage")
    async def storage(request):
        body = await request.json()
        key, value = body.get("key"), body.get("value")
        op = body["op"]
        if op == "set":
            await ctx.set_storage(key, value)
            return {"result": None}
        if op == "get":
            return {"result": await ctx.get_storage(key, body.get("default"))}
        if op == "delete":
            return {"result": await ctx.delete_storage(key)}
        if op == "list":
            return {"result": await ctx.list_storage(body.get("prefix", ""))}
        if op == "increment":
            return {"result": await ctx.increment_storage(key, value)}
        return {"result": "unknown op"}

    @ctx.post("/storage/big")
    async def big(request):
        value = {"max": 2**63 - 1, "min": -(2**63)}
        await ctx.set_storage("big", value)
        return {"back": await ctx.get_storage("big") == value}

    @ctx.post("/storage/refused/{kind}")
    async def refused(request):
        kind = request.path_params["kind"]
        value = {
            "huge": {"n": 10**30},
            "negative": [-(2**70)],
            "set": {1, 2},
            "datetime": datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC),
        }[kind]
        try:
            await ctx.set_storage(f"refused:{kind}", value)
        except Exception as exc:
            return {"refused": type(exc).__name__, "message": str(exc)}
        return {"stored": await ctx.get_storage(f"refused:{kind}")}

    @ctx.get("/db")
    async def db(request):
        servers = await ctx.db.servers.count()
        try:
            await ctx.db.users.count()
        except PluginPermissionError as exc:
            refused = f"{type(exc).__name__}: {exc}"
        else:
            refused = None
        return {"servers": servers, "users": refused}

    @ctx.get("/uncaught/permission")
    async def uncaught_permission(request):
        return {"users": await ctx.db.users.count()}

    @ctx.get("/uncaught/config")
    async def uncaught_config(request):
        await ctx.set_config("count", "not a number")
        return {}

    @ctx.post("/register-bad")
    def register_bad(request):
        refused = []
        for attempt in (
            lambda: ctx.schedule_task("every tuesday", lambda: None),
            lambda: ctx.register_route("GET", "/logs", lambda r: {}),
            lambda: ctx.on_websocket_message("a:b", lambda d, c: None),
        ):
            try:
                attempt()
            except RegistrationError as exc:
                refused.append(str(exc))
        return {"refused": refused}

    @ctx.post("/file")
    async def write_file(request):
        body = await request.json()
        path = Path(ctx.data_dir) / body["name"]
        path.write_text(body["text"])
        return {"path": str(path)}

    @ctx.get("/file/{name}")
    def read_file(request):
        path = Path(ctx.data_dir) / request.path_params["name"]
        return {"text": path.read_text() if path.exists() else None}
"""

CONFIG = {
    "greeting": {"type": "string", "default": "hi", "description": "g"},
    "count": {"type": "integer", "default": 1, "min": 0, "max": 10, "description": "c"},
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(runtime: str) -> AsyncIterator[Host]:
    plugin = Plugin(BASICS, manifest={"permissions": ["server.read"], "config": CONFIG})
    async with contract_host(runtime, {"basics": plugin}) as host:
        yield host


async def call(host: Host, method: str, path: str, body: Any = None) -> Any:
    r = await host.client.request(method, host.url("basics", path), json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_ctx_name_and_version(host: Host) -> None:
    assert await call(host, "GET", "/identity") == {"name": "basics", "version": "1.0.0"}


async def test_ctx_logger_levels_and_call_shapes(host: Host) -> None:
    mark = await host.log_mark("basics")
    assert await call(host, "POST", "/log") == {"logged": True}
    records = await host.logs("basics", mark)
    shown = [(r["level"], r["message"]) for r in records]
    assert shown == [
        ("debug", "trace message"),
        ("debug", "debug message"),
        ("info", "info message"),
        ("warning", "warning message"),
        ("warning", "warn message"),
        ("error", "error message"),
        ("error", "critical message"),
        ("error", "fatal message"),
        ("warning", "by name ok"),
        ("error", "by number ok"),
        ("info", "x=a n=3"),
        ("info", 'Received event: {"server": 1}'),
        ("error", "Error occurred"),
        ("error", "caught it"),
        ("info", "with extra"),
        ("info", "pino msg key"),
    ]
    assert records[2]["fields"] == {"level_name": "info", "n": 1}
    pino, caught, extra, msg_key = records[12], records[13], records[14], records[15]
    assert pino["fields"]["error"] == "ValueError: nope"
    assert 'raise ValueError("nope")' in pino["fields"]["traceback"]
    assert "ValueError: nope" in caught["fields"]["traceback"]
    assert extra["fields"] == {"user": 1, "n": 2}
    assert msg_key["fields"] == {"a": 1}


async def test_ctx_config_and_get_config(host: Host) -> None:
    got = await call(host, "GET", "/cfg")
    assert got["missing"] == "fallback"
    assert got["greeting"] == got["config"]["greeting"]
    assert set(got["config"]) == {"greeting", "count"}


async def test_ctx_set_config_valid_is_saved(host: Host) -> None:
    assert await call(host, "POST", "/cfg", {"key": "count", "value": 7}) == {"saved": 7}
    assert (await call(host, "GET", "/cfg"))["config"]["count"] == 7
    assert (await host.detail("basics"))["config"]["count"] == 7  # the host saved it


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [("nope", 1, "Unknown config key"), ("count", "seven", "count"), ("count", 99, "count")],
)
async def test_ctx_set_config_invalid_raises_config_error_in_plugin_code(
    host: Host, key: str, value: Any, says: str
) -> None:
    before = (await call(host, "GET", "/cfg"))["config"]
    got = await call(host, "POST", "/cfg", {"key": key, "value": value})
    assert got["refused"] is True
    assert says in got["message"]
    assert (await call(host, "GET", "/cfg"))["config"] == before


VALUES: list[Any] = [
    {"nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}]}},
    "ünïcödé ✓ 日本語 🎉",
    {"ключ": ["значение", "🙂"]},
    2**62,
    -(2**53) - 1,
    [],
    "",
    0,
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
async def test_ctx_set_and_get_storage_round_trip(host: Host, value: Any) -> None:
    await call(host, "POST", "/storage", {"op": "set", "key": "rt", "value": value})
    assert await call(host, "POST", "/storage", {"op": "get", "key": "rt"}) == {"result": value}
    assert await host.storage("basics").get("rt") == value  # what the host stored


async def test_ctx_storage_large_ints_round_trip(host: Host) -> None:
    """The whole signed 64-bit range round-trips."""
    assert await call(host, "POST", "/storage/big") == {"back": True}
    assert await host.storage("basics").get("big") == {"max": 2**63 - 1, "min": -(2**63)}


@pytest.mark.parametrize("kind", ["huge", "negative", "set", "datetime"])
async def test_ctx_set_storage_refuses_what_json_storage_cannot_keep(
    host: Host, kind: str, request: pytest.FixtureRequest
) -> None:
    """Integers outside 64 bits, sets and datetimes are refused (StorageError) in plugin code
    and nothing is stored, in both runtimes."""
    got = await call(host, "POST", f"/storage/refused/{kind}")
    assert got.get("refused") == "StorageError", got
    assert await host.storage("basics").get(f"refused:{kind}", "absent") == "absent"


async def test_ctx_get_storage_default(host: Host) -> None:
    got = await call(host, "POST", "/storage", {"op": "get", "key": "absent", "default": 5})
    assert got == {"result": 5}


async def test_ctx_delete_storage(host: Host) -> None:
    await call(host, "POST", "/storage", {"op": "set", "key": "gone", "value": 1})
    assert await call(host, "POST", "/storage", {"op": "delete", "key": "gone"}) == {"result": True}
    assert await call(host, "POST", "/storage", {"op": "delete", "key": "gone"}) == {
        "result": False
    }
    assert await host.storage("basics").get("gone", "missing") == "missing"


async def test_ctx_list_storage(host: Host) -> None:
    for key, value in (("ls:a", 1), ("ls:b", {"x": "ü"}), ("other", 3)):
        await call(host, "POST", "/storage", {"op": "set", "key": key, "value": value})
    got = await call(host, "POST", "/storage", {"op": "list", "prefix": "ls:"})
    assert got == {"result": {"ls:a": 1, "ls:b": {"x": "ü"}}}


async def test_ctx_increment_storage(host: Host) -> None:
    inc = {"op": "increment", "key": "counter"}
    assert await call(host, "POST", "/storage", {**inc, "value": 1}) == {"result": 1}
    assert await call(host, "POST", "/storage", {**inc, "value": 41}) == {"result": 42}
    assert await call(host, "POST", "/storage", {**inc, "value": 0.5}) == {"result": 42.5}
    assert await host.storage("basics").get("counter") == 42.5


async def test_ctx_db_granted_and_refused(host: Host) -> None:
    r = await host.client.post("/api/servers", json={"name": "s1", "game": "minecraft"})
    assert r.status_code == 201, r.text
    got = await call(host, "GET", "/db")
    assert got["servers"] >= 1
    assert got["users"] is not None
    assert got["users"].startswith("PluginPermissionError: ")
    assert "user.read" in got["users"]


async def test_ctx_data_dir_is_writable(host: Host) -> None:
    written = await call(host, "POST", "/file", {"name": "note.txt", "text": "kept ✓"})
    assert await call(host, "GET", "/file/note.txt") == {"text": "kept ✓"}
    assert host.h.settings is not None
    expected = host.h.settings.data_dir / "plugins" / "basics" / "note.txt"
    assert expected.read_text() == "kept ✓"
    assert written["path"].endswith("/basics/note.txt")


async def test_ctx_data_dir_is_kept_across_reload(host: Host) -> None:
    await call(host, "POST", "/file", {"name": "reload.txt", "text": "before reload"})
    r = await host.client.post(host.url("basics", "/reload"))
    assert r.status_code == 200, r.text
    host.check_runtime("basics")
    assert await call(host, "GET", "/file/reload.txt") == {"text": "before reload"}


async def test_uncaught_permission_error_answers_403(host: Host) -> None:
    r = await host.client.get(host.url("basics", "/uncaught/permission"))
    assert r.status_code == 403
    assert "user.read" in r.json()["error"]


async def test_uncaught_config_error_answers_400(host: Host) -> None:
    r = await host.client.get(host.url("basics", "/uncaught/config"))
    assert r.status_code == 400
    assert "count" in r.json()["error"]


async def test_refused_registrations_raise_registration_error_in_plugin_code(host: Host) -> None:
    refused = (await call(host, "POST", "/register-bad"))["refused"]
    assert len(refused) == 3
    assert "invalid cron" in refused[0]
    assert "reserved for the admin API" in refused[1]
    assert "without ':'" in refused[2]
