"""WebSocket handlers and sends, tasks run now, listeners and emits, made by plugin code in each
runtime and observed by real ``/ws`` clients, the admin API and storage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import websockets

from tests.contract.conftest import Host, Plugin, contract_host, receive_type

pytestmark = pytest.mark.asyncio(loop_scope="module")

TALK = """
from catalyst.sdk import PluginPermissionError


def on_enable(ctx):
    def two(data, client_id):
        ctx.send_websocket_message(
            client_id, {"type": "plugin:talk:two", "data": {"got": data, "clientId": client_id}}
        )

    async def three(data, client_id, client):
        ctx.send_websocket_message(client.id, {"type": "plugin:talk:three", "data": {
            "username": client.username, "userId": client.user_id, "same": client.id == client_id,
            "canWrite": client.can("server.write"), "got": data,
        }})

    def keyword(data, client_id, *, client):
        answer = {"type": "plugin:talk:keyword", "data": client.username}
        ctx.send_websocket_message(client_id, answer)

    def guarded(data, client_id):
        ctx.send_websocket_message(client_id, {"type": "plugin:talk:guarded", "data": data})

    def to_user(data, client_id, client):
        ctx.send_to_user(client.user_id, {"type": "plugin:talk:user", "data": data})

    def broadcast(data, client_id):
        ctx.broadcast({"type": "plugin:talk:all", "data": data["text"]}, data.get("permission"))

    def star(data, client_id):
        ctx.send_websocket_message("*", {"type": "plugin:talk:star", "data": data})

    def boom(data, client_id):
        raise ValueError(f"bad input {data}")

    async def failing_listener(data):
        raise LookupError("listener failed on purpose")

    ctx.on_websocket_message("boom", boom)
    ctx.on("server:deleted", failing_listener)
    ctx.on_websocket_message("two", two)
    ctx.on_websocket_message("three", three)
    ctx.on_websocket_message("keyword", keyword)
    ctx.on_websocket_message("guarded", guarded, permission="server.write")
    ctx.on_websocket_message("to-user", to_user)
    ctx.on_websocket_message("broadcast", broadcast)
    ctx.on_websocket_message("star", star)


    async def started(data):  # one parameter: the data
        await ctx.increment_storage("started")
        await ctx.set_storage("started:last", data["server"]["name"])

    async def any_server(data, event):  # two: the data and the event name
        await ctx.increment_storage(f"seen:{event}")

    def own(data, event):  # sync, two parameters: its own events
        ctx.logger.info("own event", event=event, data=data)

    ctx.on("server:started", started)
    ctx.on("server:*", any_server)
    ctx.on("talk:*", own)

    @ctx.post("/emit")
    async def emit(request):
        body = await request.json()
        try:
            await ctx.emit(body["event"], body.get("data"))
        except PluginPermissionError as exc:
            return {"refused": str(exc)}
        return {"emitted": body["event"]}

    async def tick():
        runs = await ctx.increment_storage("ticks")
        ctx.logger.info("tick ran", runs=runs)

    def failing():
        raise RuntimeError("task failed on purpose")

    # last: a route registered after a task drops the task in the process runtime (see LATE)
    ctx.schedule_task("0 0 1 1 *", tick, name="tick")
    ctx.schedule_task("0 0 1 1 *", failing, name="failing")
"""

LATE = """
def on_enable(ctx):
    async def early():
        await ctx.increment_storage("early")

    ctx.schedule_task("0 0 1 1 *", early, name="early")
    ctx.get("/after")(lambda request: {"after": True})

    async def heard(data):  # no server.read: core server events never reach it
        await ctx.increment_storage("heard")

    ctx.on("server:*", heard)
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(runtime: str) -> AsyncIterator[Host]:
    plugins = {
        "talk": Plugin(TALK, manifest={"permissions": ["server.read"]}),
        "late": Plugin(LATE),
    }
    async with contract_host(runtime, plugins) as host:
        yield host


def msg(kind: str, data: Any = None) -> str:
    return json.dumps({"type": f"plugin:talk:{kind}", "data": data})


async def closing(*sockets: websockets.ClientConnection) -> None:
    for ws in sockets:
        await ws.close()


async def test_handler_data_and_client_id(host: Host) -> None:
    ws = await host.ws()
    await ws.send(msg("two", {"n": [1, "ü"]}))
    got = (await receive_type(ws, "plugin:talk:two"))["data"]
    assert got["got"] == {"n": [1, "ü"]}
    assert isinstance(got["clientId"], str)
    assert got["clientId"]
    await closing(ws)


@pytest.mark.parametrize("kind", ["three", "keyword"])
async def test_handler_with_client(host: Host, kind: str) -> None:
    username, password = await host.h.add_user(["server.read"])
    ws = await host.ws(await host.h.token(username, password))
    await ws.send(msg(kind, "hi"))
    got = (await receive_type(ws, f"plugin:talk:{kind}"))["data"]
    if kind == "keyword":
        assert got == username
    else:
        assert (got["username"], got["same"], got["canWrite"], got["got"]) == (
            username,
            True,
            False,
            "hi",
        )
        assert isinstance(got["userId"], int)
    await closing(ws)


async def test_handler_permission(host: Host) -> None:
    viewer = await host.ws(await host.h.user_token(["server.read"]))
    await viewer.send(msg("guarded", 1))
    error = await receive_type(viewer, "error")
    assert error["data"]["message"] == (
        "Permission 'server.write' is required for plugin:talk:guarded"
    )
    writer = await host.ws(await host.h.user_token(["server.write"]))
    await writer.send(msg("guarded", 2))
    assert (await receive_type(writer, "plugin:talk:guarded"))["data"] == 2
    await viewer.send(json.dumps({"type": "ping", "data": "still up"}))
    assert (await receive_type(viewer, "pong"))["data"] == "still up"
    await closing(viewer, writer)


async def test_send_to_user_reaches_every_connection_of_that_user_only(host: Host) -> None:
    username, password = await host.h.add_user(["server.read"])
    token = await host.h.token(username, password)
    first, second = await host.ws(token), await host.ws(token)
    stranger = await host.ws(await host.h.user_token(["server.read"]))
    await first.send(msg("to-user", "for me"))
    for ws in (first, second):
        assert (await receive_type(ws, "plugin:talk:user"))["data"] == "for me"
    await stranger.send(msg("two", "after"))  # its next plugin message is its own answer
    assert (await receive_type(stranger, "plugin:talk:two"))["data"]["got"] == "after"
    await closing(first, second, stranger)


async def test_broadcast_to_all_and_by_permission(host: Host) -> None:
    admin = await host.ws()
    viewer = await host.ws(await host.h.user_token(["server.read"]))
    await viewer.send(msg("broadcast", {"text": "everyone"}))
    for ws in (admin, viewer):
        assert (await receive_type(ws, "plugin:talk:all"))["data"] == "everyone"
    await viewer.send(msg("broadcast", {"text": "admins", "permission": "admin.read"}))
    assert (await receive_type(admin, "plugin:talk:all"))["data"] == "admins"
    await viewer.send(msg("star", "then star"))
    assert (await receive_type(viewer, "plugin:talk:star"))["data"] == "then star"
    assert (await receive_type(admin, "plugin:talk:star"))["data"] == "then star"
    await closing(admin, viewer)


async def test_schedule_task_run_now_and_status(host: Host) -> None:
    before = await host.storage("talk").get("ticks", 0)
    r = await host.client.post(host.url("talk", "/tasks/tick/run"))
    assert r.status_code == 200, r.text
    ran = r.json()["data"]
    assert (ran["id"], ran["cron"], ran["lastError"]) == ("tick", "0 0 1 1 *", None)
    assert ran["runCount"] >= 1
    assert await host.storage("talk").get("ticks") == before + 1
    listed = {t["id"]: t for t in (await host.detail("talk"))["tasks"]}
    assert listed["tick"]["runCount"] == ran["runCount"]
    assert listed["tick"]["lastRun"] is not None


async def test_a_failing_task_records_its_error(host: Host) -> None:
    mark = await host.log_mark("talk")
    r = await host.client.post(host.url("talk", "/tasks/failing/run"))
    assert r.status_code == 200, r.text
    ran = r.json()["data"]
    assert "task failed on purpose" in ran["lastError"]
    assert ran["errorCount"] >= 1
    failures = [x for x in await host.logs("talk", mark) if x["level"] == "error"]
    assert any("task failed on purpose" in json.dumps(x["fields"]) for x in failures)


async def test_a_task_stays_after_a_later_registration(
    host: Host, request: pytest.FixtureRequest
) -> None:
    """A task scheduled before a route (both in on_enable) is listed and runs."""
    assert (await host.client.get(host.url("late", "/after"))).json() == {"after": True}
    assert [t["id"] for t in (await host.detail("late"))["tasks"]] == ["early"]
    r = await host.client.post(host.url("late", "/tasks/early/run"))
    assert r.status_code == 200, r.text
    assert await host.storage("late").get("early") == 1


async def test_unknown_task_is_404(host: Host) -> None:
    assert (await host.client.post(host.url("talk", "/tasks/nope/run"))).status_code == 404


async def test_listeners_get_core_events_with_arity_1_and_2(host: Host) -> None:
    store = host.storage("talk")
    before = await store.get("started", 0), await store.get("seen:server:started", 0)
    created = await host.client.post("/api/servers", json={"name": "alpha", "game": "g"})
    server_id = created.json()["data"]["id"]
    assert (await host.client.post(f"/api/servers/{server_id}/start")).status_code == 200
    # emit returns after every listener finished: no wait needed
    assert await store.get("started") == before[0] + 1
    assert await store.get("started:last") == "alpha"
    assert await store.get("seen:server:started") == before[1] + 1
    assert await store.get("seen:server:created", 0) >= 1


async def test_emit_reaches_its_own_listener_and_other_plugins(host: Host) -> None:
    mark = await host.log_mark("talk")
    r = await host.client.post(host.url("talk", "/emit"), json={"event": "thing", "data": {"n": 1}})
    assert r.json() == {"emitted": "thing"}
    records = [x for x in await host.logs("talk", mark) if x["message"] == "own event"]
    assert [x["fields"] for x in records] == [{"event": "talk:thing", "data": {"n": 1}}]


async def test_emit_of_another_namespace_is_refused_in_plugin_code(host: Host) -> None:
    r = await host.client.post(host.url("talk", "/emit"), json={"event": "server:started"})
    assert "only emit its own events" in r.json()["refused"]


async def test_a_raising_ws_handler_answers_an_error_and_logs_its_traceback(
    host: Host, request: pytest.FixtureRequest
) -> None:
    mark = await host.log_mark("talk")
    ws = await host.ws()
    await ws.send(msg("boom", 7))
    error = (await receive_type(ws, "error"))["data"]["message"]
    await ws.send(json.dumps({"type": "ping", "data": "up"}))
    assert (await receive_type(ws, "pong"))["data"] == "up"
    await closing(ws)
    (record,) = [x for x in await host.logs("talk", mark) if x["level"] == "error"]
    assert "ValueError: bad input 7" in record["fields"]["traceback"]
    assert "backend/plugin.py" in record["fields"]["traceback"]
    assert (error, record["message"]) == (
        "Handler for plugin:talk:boom failed (ValueError)",
        "WebSocket handler for plugin:talk:boom failed: ValueError: bad input 7",
    )


async def test_a_failing_listener_is_logged_and_never_reaches_the_emitter(host: Host) -> None:
    mark = await host.log_mark("talk")
    created = await host.client.post("/api/servers", json={"name": "gone", "game": "g"})
    server_id = created.json()["data"]["id"]
    r = await host.client.delete(f"/api/servers/{server_id}")
    assert r.status_code == 200, r.text
    (record,) = [x for x in await host.logs("talk", mark) if x["level"] == "error"]
    assert record["message"] == "listener for 'server:deleted' failed on event 'server:deleted'"
    assert record["fields"]["error"] == "LookupError: listener failed on purpose"
    assert "backend/plugin.py" in record["fields"]["traceback"]
    listeners = (await host.detail("talk"))["listeners"]
    (failing,) = [x for x in listeners if x["event"] == "server:deleted"]
    assert failing["errors"] >= 1


async def test_core_events_need_the_permission_their_data_needs(host: Host) -> None:
    """``server:*`` events carry servers: a listener hears them only with ``server.read``, as
    ``ctx.db.servers`` needs it (``late`` has no permission; ``talk`` has server.read)."""
    created = await host.client.post("/api/servers", json={"name": "quiet", "game": "g"})
    server_id = created.json()["data"]["id"]
    assert (await host.client.post(f"/api/servers/{server_id}/start")).status_code == 200
    assert await host.storage("late").get("heard", 0) == 0
