"""Dependency order, missing and mismatched dependencies, cycles, and the 409s."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.plugins import dependencies
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

ORDER_LOG = """
import os
def on_enable(ctx):
    with open(os.environ["ORDER_LOG"], "a") as f:
        f.write(ctx.name + "\\n")
"""


def test_load_order_puts_dependencies_first() -> None:
    graph = {"app": {"db": "*", "auth": "*"}, "auth": {"db": "*"}, "db": {}, "zz": {}}
    order = dependencies.load_order(graph)
    assert order.index("db") < order.index("auth") < order.index("app")
    assert sorted(order) == sorted(graph)


def test_check_reports_missing_mismatch_cycle_and_propagates() -> None:
    graph = {
        "a": {"b": "^1.0.0"},
        "b": {},
        "c": {"ghost": "*"},
        "d": {"b": ">=2"},
        "x": {"y": "*"},
        "y": {"x": "*"},
        "e": {"c": "*"},
    }
    versions = {n: "1.2.0" for n in graph}
    problems = dependencies.check(graph, versions, {})
    assert "a" not in problems
    assert problems["c"] == "needs ghost, which is not installed"
    assert problems["d"] == "needs b >=2, found 1.2.0"
    assert problems["x"].startswith("Dependency cycle: x → y → x")
    assert problems["e"] == "needs c, which is in error"


@pytest.mark.runtime(
    "inprocess",
    reason=("its plugins record their order in one shared file outside their data folders"),
)
async def test_enable_order_cascade_refusals_and_errors(
    settings: Settings,
    app_factory: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "order.log"
    monkeypatch.setenv("ORDER_LOG", str(log))
    d = settings.plugins_dir
    write_plugin(d, "base", ORDER_LOG)
    write_plugin(d, "middle", ORDER_LOG, dependencies={"base": "^1.0.0"})
    write_plugin(d, "top", ORDER_LOG, dependencies={"middle": ">=1"})
    write_plugin(d, "needs-ghost", "", dependencies={"ghost": "*"})
    write_plugin(d, "too-new", "", dependencies={"base": ">=2"})
    write_plugin(d, "loop-a", "", dependencies={"loop-b": "*"})
    write_plugin(d, "loop-b", "", dependencies={"loop-a": "*"})
    app = await app_factory(plugin_auto_enable=["top", "middle", "base"])
    manager = manager_of(app)
    assert log.read_text().split() == ["base", "middle", "top"]
    assert manager.get("needs-ghost").state is PluginState.ERROR
    assert manager.get("needs-ghost").error == "needs ghost, which is not installed"
    assert manager.get("too-new").error == "needs base >=2, found 1.0.0"
    assert "Dependency cycle" in (manager.get("loop-a").error or "")
    c = await admin_client(app)
    r = await c.post("/api/plugins/base/enable", json={"enabled": False})
    assert r.status_code == 409
    assert r.json()["error"] == (
        "Cannot disable plugin 'base': enabled plugins depend on it: middle"
    )
    assert (await c.post("/api/plugins/top/enable", json={"enabled": False})).status_code == 200
    assert (await c.post("/api/plugins/middle/enable", json={"enabled": False})).status_code == 200
    r = await c.post("/api/plugins/top/enable", json={"enabled": True})
    assert r.status_code == 409
    assert r.json()["error"] == (
        "Cannot enable plugin 'top': its dependency 'middle' is disabled, but needs to be enabled"
    )
    assert manager.get("top").state is PluginState.DISABLED
    detail = (await c.get("/api/plugins/middle")).json()["data"]
    assert detail["dependencies"] == {"base": "^1.0.0"}
    assert detail["dependents"] == ["top"]
