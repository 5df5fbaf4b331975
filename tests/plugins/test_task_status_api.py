"""The admin API shows a task's status from the database: the same on every instance and kept
across restarts; run-now runs once in the cluster. Two hosts ("instances" a and b) share one
database and one plugins folder; SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalyst.api import plugins as plugins_api
from catalyst.db.models import TaskState
from catalyst.settings import Settings
from tests.conftest import HarnessFactory, stop_app
from tests.live_server import eventually
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

# "hold" waits for a file while it runs; "tick" counts its runs in storage. Neither fires by
# itself during a test (once a year).
PLUGIN = """
import asyncio
from pathlib import Path

def on_enable(ctx):
    async def hold():
        Path(ctx.data_dir, "started").write_text("yes")
        while not Path(ctx.data_dir, "release").exists():
            await asyncio.sleep(0.01)

    async def tick():
        await ctx.set_storage("ticks", await ctx.get_storage("ticks", 0) + 1)

    ctx.schedule_task("0 0 1 1 *", hold, name="hold")
    ctx.schedule_task("0 0 1 1 *", tick, name="tick")
"""
URL = "/api/plugins/timer"


def tasks(detail: httpx.Response) -> dict[str, dict[str, Any]]:
    assert detail.status_code == 200, detail.text
    return {t["id"]: t for t in detail.json()["data"]["tasks"]}


async def db_row(app: FastAPI, key: str) -> TaskState | None:
    async with app.state.services.db() as s:
        row: TaskState | None = await s.get(TaskState, key)
        return row


async def test_status_survives_a_restart(settings: Settings, app_factory: AppFactory) -> None:
    write_plugin(settings.plugins_dir, "timer", PLUGIN)
    app = await app_factory(plugin_auto_enable=["timer"])
    c = await admin_client(app)
    ran = (await c.post(f"{URL}/tasks/tick/run")).json()
    assert (ran["message"], ran["data"]["runCount"]) == ("Task ran", 1)
    before = tasks(await c.get(URL))["tick"]
    assert before["lastRun"] is not None
    assert before["runCount"] == 1
    await stop_app(app)
    again = await app_factory()
    after = tasks(await (await admin_client(again)).get(URL))["tick"]
    assert {k: after[k] for k in ("lastRun", "lastDuration", "runCount", "errorCount")} == {
        k: before[k] for k in ("lastRun", "lastDuration", "runCount", "errorCount")
    }
    assert (after["running"], after["runningOn"]) == (False, None)


def instance(settings: Settings, name: str, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"instance_id": name, "data_dir": tmp_path / f"data-{name}"})


async def test_run_now_runs_once_in_the_cluster(
    settings: Settings,
    harness_factory: HarnessFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plugins_api, "RUN_NOW_WAIT", 0.05)  # answer while "hold" still runs
    write_plugin(settings.plugins_dir, "timer", PLUGIN)
    hosts = {}
    for name in ("a", "b"):
        harness = await harness_factory(
            instance(settings, name, tmp_path), plugin_auto_enable=["timer"]
        )
        hosts[name] = (harness.app, await harness.as_admin())
    (app_a, a), (app_b, b) = hosts["a"], hosts["b"]
    listed = tasks(await a.get(URL))
    assert set(listed) == set(tasks(await b.get(URL))) == {"hold", "tick"}  # the same ids

    started = await a.post(f"{URL}/tasks/hold/run")  # the id as a's listing gives it
    assert started.json()["message"] == "Task started; it is still running"
    data_a = tmp_path / "data-a" / "plugins" / "timer"
    await eventually(lambda: (data_a / "started").exists())
    refused = await b.post(f"{URL}/tasks/hold/run")
    assert refused.status_code == 409
    assert refused.json()["error"] == (
        "Cannot run task 'hold': it is running on instance 'a', but needs to be idle"
    )
    on_b = tasks(await b.get(URL))["hold"]
    assert (on_b["running"], on_b["runningOn"], on_b["runCount"]) == (True, "a", 0)
    assert (await a.post(f"{URL}/tasks/hold/run")).status_code == 409  # the local 409

    (data_a / "release").write_text("go")
    scheduler_a = app_a.state.services.scheduler
    await eventually(lambda: not scheduler_a.tasks("timer")[0].status.running)
    await scheduler_a.written("timer")  # its status is in the database
    on_b = tasks(await b.get(URL))["hold"]
    assert (on_b["running"], on_b["runningOn"], on_b["runCount"]) == (False, None, 1)

    # now b may run it: once, on b, recorded for both
    (tmp_path / "data-b" / "plugins" / "timer").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data-b" / "plugins" / "timer" / "release").write_text("go")
    monkeypatch.setattr(plugins_api, "RUN_NOW_WAIT", 5.0)
    ran = await b.post(f"{URL}/tasks/hold/run")
    assert (ran.json()["message"], ran.json()["data"]["runCount"]) == ("Task ran", 2)
    assert tasks(await a.get(URL))["hold"]["runCount"] == 2
    row = await db_row(app_b, "timer:hold")
    assert row is not None
    assert (row.run_count, row.skipped_count, row.running_on) == (2, 0, None)
    ticked = await a.post(f"{URL}/tasks/tick/run")
    assert ticked.json()["data"]["runCount"] == 1
    assert tasks(await b.get(URL))["tick"]["runCount"] == 1
