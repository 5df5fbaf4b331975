"""catalyst.sdk.testing.PluginHarness runs plugins in a real host: in-process, or live on TCP."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import websockets

from catalyst.clock import FakeClock
from catalyst.plugins.state import PluginState
from catalyst.sdk.testing import PluginHarness, PluginLoadError
from tests.plugin_helpers import EXAMPLE, write_plugin

FIXTURES = Path(__file__).resolve().parents[1] / "fixture_plugins"
TICKER = """
def on_enable(ctx):
    async def tick():
        await ctx.increment_storage("runs")
        await ctx.emit("ticked")

    ctx.schedule_task("* * * * *", tick)
"""


async def test_harness_serves_the_example_plugin_and_users_with_permissions() -> None:
    async with PluginHarness(EXAMPLE, config={"greeting": "From the harness"}) as h:
        r = await h.client.get("/api/plugins/example-plugin/hello")
        assert r.json()["message"] == "From the harness"
        assert h.record.enabled
        assert h.ctx.get_config("greeting") == "From the harness"
        assert await h.ctx.db.servers.count() == 0  # server.read was granted on enable
        viewer = await h.as_user(["server.read"])
        assert (await viewer.get("/api/plugins/example-plugin/hello")).status_code == 200
        assert (await viewer.get("/api/plugins")).status_code == 403
    # The example plugin on disk is untouched by the harness's temporary host.
    assert (EXAMPLE / "plugin.json").is_file()


async def test_harness_checks_every_plugin_under_test() -> None:
    async with PluginHarness(EXAMPLE, plugins=[FIXTURES / "good-plugin"]) as h:
        assert h.record.enabled
        assert h.plugin("good-plugin").enabled
    with pytest.raises(PluginLoadError, match="raises-on-import"):
        async with PluginHarness(EXAMPLE, plugins=[FIXTURES / "raises-on-import"]):
            pass


async def test_harness_serves_a_plugins_folder_as_it_is_on_a_given_database(
    database_url: str, tmp_path: Path
) -> None:
    for name in ("good-plugin", "raises-on-import"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    async with PluginHarness(
        plugins_dir=tmp_path,
        database_url=database_url,
        migrate=False,
        admin=False,
        plugin_auto_enable=["good-plugin", "raises-on-import"],
    ) as h:
        assert h.services.settings.database_url == database_url
        assert h.plugin("good-plugin").enabled
        assert h.plugin("raises-on-import").state is PluginState.ERROR  # served, not checked
        assert (await h.client.get("/api/plugins")).status_code == 401  # admin=False: anonymous


async def test_harness_users_get_clients_and_tokens() -> None:
    async with PluginHarness(EXAMPLE) as h:
        username, password = await h.add_user(["server.read"], username="viewer")
        viewer = await h.login(username, password)
        assert (await viewer.get("/api/auth/me")).json()["data"]["username"] == "viewer"
        token = await h.user_token(["admin.read"])
        assert (await h.new_client(token).get("/api/plugins")).status_code == 200
        assert (await h.new_client().get("/api/plugins")).status_code == 401
        admin = h.new_client(await h.token())
        assert (await admin.get("/api/auth/me")).json()["data"]["username"] == "admin"


async def test_harness_clock_drives_cron_tasks(tmp_path: Path) -> None:
    folder = write_plugin(tmp_path, "ticker", TICKER)
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    async with PluginHarness(folder, clock=clock) as h:
        ticked = asyncio.Event()

        async def seen(_event: str, _data: object) -> None:
            ticked.set()

        h.services.bus.subscribe("ticker:ticked", seen)
        await clock.advance(60)  # fires the task (in a process plugin, its run is a round trip)
        async with asyncio.timeout(5):
            await ticked.wait()
        assert await h.ctx.get_storage("runs") == 1


async def test_live_harness_serves_http_and_websockets_over_tcp() -> None:
    async with PluginHarness(EXAMPLE, live=True) as h:
        assert str(h.client.base_url) == h.url
        r = await h.client.get("/api/plugins/example-plugin/hello")
        assert r.status_code == 200
        async with websockets.connect(f"{h.ws_url}?token={await h.token()}") as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"


async def test_stop_runs_the_host_shutdown_inside_the_test() -> None:
    async with PluginHarness(EXAMPLE) as h:
        record = h.record
        await h.stop()
        assert record.state is PluginState.UNLOADED
        await h.stop()  # once only
