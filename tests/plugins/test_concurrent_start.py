"""Startup loads independent plugins side by side: N hanging ``on_load`` hooks cost one timeout,
dependencies still finish before their dependents start, and a sync hook whose thread outlives
its timeout is reported on the plugin until the thread ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.plugins import lifecycle
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.live_server import eventually
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

pytestmark = pytest.mark.runtime(
    "inprocess",
    reason=(
        "its plugins write a shared log outside their data folder and hold hook threads "
        "in the host, which only the in-process runtime allows"
    ),
)

SLOW = """
import asyncio, os

def note(what):
    with open(os.environ["START_LOG"], "a") as f:
        f.write(what + "\\n")

async def on_load(ctx):
    note("start " + ctx.name)
    try:
        await asyncio.sleep(30)
    finally:
        note("end " + ctx.name)
"""

AFTER = """
import os

def on_load(ctx):
    with open(os.environ["START_LOG"], "a") as f:
        f.write("start " + ctx.name + "\\n")
"""

STUCK_THREAD = """
import os, time
from pathlib import Path


def on_load(ctx):  # sync: runs in a worker thread, which no timeout can stop
    release = Path(os.environ["RELEASE_FILE"])
    for _ in range(3000):
        if release.exists():
            return
        time.sleep(0.01)
"""


async def test_three_hanging_on_loads_overlap_and_dependents_wait(
    settings: Settings,
    app_factory: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "start.log"
    monkeypatch.setenv("START_LOG", str(log))
    for name in ("slow-a", "slow-b", "slow-c"):
        write_plugin(settings.plugins_dir, name, SLOW)
    write_plugin(settings.plugins_dir, "after", AFTER, dependencies={"slow-a": "^1.0.0"})
    app = await app_factory(plugin_hook_timeout=0.5)
    lines = log.read_text().split("\n")[:-1]
    # All three started before any of them was stopped by the timeout: one timeout in all.
    assert sorted(lines[:3]) == ["start slow-a", "start slow-b", "start slow-c"]
    assert {"end slow-a", "end slow-b", "end slow-c"} < set(lines[3:])
    # The dependent's on_load ran only once its dependency's had ended.
    assert lines.index("start after") > lines.index("end slow-a")
    manager = manager_of(app)
    for name in ("slow-a", "slow-b", "slow-c"):
        assert manager.get(name).state is PluginState.ERROR
        assert manager.get(name).error == "on_load failed: timed out after 0.5 s"
    assert manager.get("after").state is PluginState.LOADED


async def test_a_sync_hook_thread_outliving_its_timeout_is_reported(
    settings: Settings,
    app_factory: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[str] = []

    class Log:
        def warning(self, event: str, **fields: object) -> None:
            warnings.append(event)

        def __getattr__(self, name: str) -> object:
            return lambda *a, **k: None

    monkeypatch.setattr(lifecycle, "log", Log())
    release = tmp_path / "release"
    monkeypatch.setenv("RELEASE_FILE", str(release))
    write_plugin(settings.plugins_dir, "stuck", STUCK_THREAD)
    app = await app_factory(plugin_hook_timeout=0.2)
    record = manager_of(app).get("stuck")
    assert record.state is PluginState.ERROR
    assert [o["hook"] for o in record.overruns] == ["on_load"]
    client = await admin_client(app)
    detail = (await client.get("/api/plugins/stuck")).json()["data"]
    assert [o["hook"] for o in detail["hookOverruns"]] == ["on_load"]
    assert warnings == ["hook thread still running after timeout"]
    release.touch()
    await eventually(lambda: not record.overruns)
    assert warnings[1:] == ["hook thread ended after its timeout"]
