"""A generation's registrations: two scopes undone last-in first-out, one published table for
HTTP and WebSocket, re-published only while live; /ws finds handlers in that same table."""

from __future__ import annotations

from pathlib import Path

from catalyst.auth.principals import Principals
from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.dispatcher import Dispatcher
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.registrations import Registrations
from catalyst.plugins.routing import RouteSpec
from catalyst.plugins.scheduler import Scheduler
from catalyst.plugins.ws_handlers import WsHandlerSpec
from catalyst.ws.endpoint import find_handler


def dispatcher() -> Dispatcher:
    return Dispatcher(Principals(None, "session"))  # type: ignore[arg-type]  # never resolves


def hello(data: object, client_id: str) -> None:
    return None


async def test_scopes_are_undone_last_in_first_out_and_disable_keeps_the_load_scope() -> None:
    regs = Registrations("p", Scheduler(), dispatcher())
    undone: list[str] = []
    regs.scope.push("route", "first", lambda: undone.append("load 1"))
    regs.scope.push("route", "second", lambda: undone.append("load 2"))
    regs.begin_enable()
    regs.scope.push("ws", "a", lambda: undone.append("enable 1"))
    regs.scope.push("task", "b", lambda: undone.append("enable 2"))
    assert await regs.close_enable_scope() == []
    assert undone == ["enable 2", "enable 1"]
    assert regs.scope is regs.load_scope  # a re-enable registers into a fresh enable scope
    await regs.load_scope.close()
    assert undone == ["enable 2", "enable 1", "load 2", "load 1"]


async def test_a_failing_disposer_is_reported_and_the_others_still_run() -> None:
    regs = Registrations("p", Scheduler(), dispatcher())
    undone: list[str] = []
    regs.scope.push("route", "ok", lambda: undone.append("ok"))

    def broken() -> None:
        raise RuntimeError("cannot undo")

    regs.scope.push("route", "bad", broken)
    assert await regs.load_scope.close() == ["route:bad"]
    assert undone == ["ok"]


async def test_activate_gives_one_table_for_http_and_ws_republished_only_while_live() -> None:
    disp = dispatcher()
    regs = Registrations("p", Scheduler(), disp)
    regs.routes.append(RouteSpec("GET", "/a", lambda: "a"))
    regs.ws_handlers["hi"] = WsHandlerSpec(hello)
    regs.changed()  # not live: nothing is published
    assert disp.table("p") is None
    assert not regs.live
    disp.publish(regs.activate())
    table = disp.table("p")
    assert table is not None
    assert regs.live
    assert [r.spec.url for r in table.routes] == ["/a"]
    assert set(table.ws) == {"hi"}
    regs.ws_handlers["later"] = WsHandlerSpec(hello)
    regs.changed()  # live: the new table replaces the old one in one step
    republished = disp.table("p")
    assert republished is not None
    assert republished is not table
    assert set(republished.ws) == {"hi", "later"}
    regs.deactivate()
    regs.routes.clear()
    regs.changed()
    assert disp.table("p") is republished  # a generation no longer live publishes nothing


def test_ws_dispatch_reads_the_published_table(tmp_path: Path) -> None:
    disp = dispatcher()
    regs = Registrations("p", Scheduler(), disp)
    spec = WsHandlerSpec(hello)
    regs.ws_handlers["hi"] = spec
    records = {"p": PluginRecord("p", PluginSource("p", tmp_path, None, None))}
    assert find_handler(disp, records, "plugin:p:hi") == (
        "Plugin 'p' is not enabled (state: discovered): 'plugin:p:hi' is not handled"
    )
    disp.publish(regs.activate())
    assert find_handler(disp, records, "plugin:p:hi") == ("p", spec)
    assert "has no such handler" in str(find_handler(disp, records, "plugin:p:nope"))
    assert "no plugin 'q'" in str(find_handler(disp, records, "plugin:q:hi"))
    disp.withdraw("p")
    assert "is not enabled" in str(find_handler(disp, records, "plugin:p:hi"))
