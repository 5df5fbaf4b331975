"""sys.exit() or KeyboardInterrupt in a plugin's cron task or event listener, sync or async, is
contained like any other failure: the real `catalyst serve` keeps serving (before the fix a sync
task calling sys.exit() stopped the whole host)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.plugin_helpers import write_plugin
from tests.serve_subprocess import serving

PLUGIN = """
import sys

def on_enable(ctx):
    def exits():
        sys.exit(4)

    async def exits_async():
        raise KeyboardInterrupt

    ctx.schedule_task("0 0 1 1 *", exits, name="exits")
    ctx.schedule_task("0 0 1 1 *", exits_async, name="exits-async")

    def interrupted(data):
        raise KeyboardInterrupt

    async def leaves(data):
        sys.exit(5)

    ctx.on("server:started", interrupted)
    ctx.on("server:started", leaves)
"""


@pytest.mark.slow
def test_sys_exit_in_tasks_and_listeners_does_not_stop_the_host(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "leaver", PLUGIN, permissions=["server.read"])
    with serving(tmp_path, plugins, ["leaver"]) as served:
        proc, base, headers, log = served.proc, served.base, served.headers, served.output
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            for task in ("exits", "exits-async"):
                r = c.post(f"/api/plugins/leaver/tasks/{task}/run")
                assert r.status_code == 200, r.text
            server = c.post("/api/servers", json={"name": "s", "game": "g", "node": "n"})
            r = c.post(f"/api/servers/{server.json()['data']['id']}/start")
            assert r.status_code == 200, r.text
            deadline = time.monotonic() + 30
            while True:  # the two tasks and the two listeners each logged their failure
                assert proc.poll() is None, log()
                assert c.get("/livez").status_code == 200
                params = {"level": "error"}
                errors = c.get("/api/plugins/leaver/logs", params=params).json()["data"]
                if len(errors) >= 4:
                    break
                assert time.monotonic() < deadline, errors
                time.sleep(0.1)
            tasks = {t["id"]: t for t in c.get("/api/plugins/leaver").json()["data"]["tasks"]}
            assert tasks["exits"]["lastError"] == "SystemExit: 4"
            assert tasks["exits-async"]["lastError"] == "KeyboardInterrupt"
