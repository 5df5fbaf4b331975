"""catalyst.sdk.testing.PluginHarness runs one plugin in a real in-process host."""

from __future__ import annotations

from catalyst.sdk.testing import PluginHarness
from tests.plugin_helpers import EXAMPLE


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
