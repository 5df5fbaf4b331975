"""POST /api/plugins/{name}/tasks/{id}/run answers the task as the detail lists it."""

from __future__ import annotations

import shutil

from catalyst.settings import Settings
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client


async def test_run_now_answers_the_listed_task_id(
    settings: Settings, app_factory: AppFactory
) -> None:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    app = await app_factory(plugin_auto_enable=["example-plugin"])
    c = await admin_client(app)
    (listed,) = (await c.get("/api/plugins/example-plugin")).json()["data"]["tasks"]
    assert listed["id"] == "five-minute"
    ran = (await c.post("/api/plugins/example-plugin/tasks/five-minute/run")).json()["data"]
    assert (ran["id"], ran["name"], ran["cron"]) == (listed["id"], listed["name"], listed["cron"])
    assert ran["runCount"] == 1
    (after,) = (await c.get("/api/plugins/example-plugin")).json()["data"]["tasks"]
    assert set(ran) == set(after)
