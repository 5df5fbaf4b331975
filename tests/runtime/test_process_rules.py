"""Rules only the process runtime has: a child per generation, what it is started with, streamed
answers, import failures, a new child when its sandbox or environment must change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from catalyst.plugins.generation import Generation
from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.sdk.request import Request
from catalyst.sdk.testing import PluginHarness
from tests.plugin_helpers import write_plugin
from tests.runtime.conftest import StateWaiter

ENV_PLUGIN = """
import os

def on_load(ctx):
    @ctx.get("/env")
    async def env(request):
        return {"token": os.environ.get("DEMO_TOKEN"), "pid": os.getpid()}
"""

STREAM_PLUGIN = """
from starlette.responses import StreamingResponse

def on_load(ctx):
    @ctx.get("/stream")
    async def stream(request):
        async def chunks():
            for i in range(3):
                yield f"part {i};".encode()
        return StreamingResponse(chunks(), media_type="text/plain")
"""


def _pid(h: PluginHarness, name: str) -> int:
    gen = h.plugin(name).instance
    assert isinstance(gen, ProcessGeneration)
    return gen.link.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


async def test_a_config_field_with_env_reaches_the_child_and_a_change_starts_a_new_one(
    tmp_path: Path,
) -> None:
    write_plugin(
        tmp_path,
        "envy",
        ENV_PLUGIN,
        config={"token": {"type": "secret", "default": "first", "env": "DEMO_TOKEN"}},
    )
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["envy"]) as h:
        first = (await h.client.get("/api/plugins/envy/env")).json()
        assert first["token"] == "first"
        waiter = StateWaiter(h)
        reloaded = waiter.expect("envy", "reloaded")
        r = await h.client.put("/api/plugins/envy/config", json={"config": {"token": "second"}})
        assert r.status_code == 200, r.text
        await reloaded(10.0)
        second = (await h.client.get("/api/plugins/envy/env")).json()
        assert second == {"token": "second", "pid": second["pid"]}
        assert second["pid"] != first["pid"]
        waiter.close()


async def test_a_reload_starts_a_new_child_and_the_old_one_exits(tmp_path: Path) -> None:
    folder = write_plugin(tmp_path, "twice", ENV_PLUGIN)
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["twice"]) as h:
        old = _pid(h, "twice")
        (folder / "backend" / "plugin.py").write_text(ENV_PLUGIN.replace("token", "tok"))
        r = await h.client.post("/api/plugins/twice/reload")
        assert r.status_code == 200, r.text
        new = _pid(h, "twice")
        assert new != old
        assert not _alive(old)
        body = (await h.client.get("/api/plugins/twice/env")).json()
        assert body["pid"] == new
        assert "tok" in body
    assert not _alive(new)  # and the host's shutdown stopped the new one


async def test_a_streamed_answer_arrives_in_parts(tmp_path: Path) -> None:
    write_plugin(tmp_path, "streamer", STREAM_PLUGIN)
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["streamer"]) as h:
        r = await h.client.get("/api/plugins/streamer/stream")
        assert r.status_code == 200
        assert r.text == "part 0;part 1;part 2;"
        assert r.headers["content-type"].startswith("text/plain")


async def test_an_import_error_is_a_load_failure_with_the_childs_traceback(
    tmp_path: Path,
) -> None:
    write_plugin(tmp_path, "broken", "import nothing_like_this_module\n")
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["broken"]) as h:
        record = h.plugin("broken")
        assert record.state.value == "error"
        assert "ModuleNotFoundError" in (record.error or "")
        assert "nothing_like_this_module" in (record.error_detail or "")
        assert record.crashes == 0  # not a crash loop


async def test_an_exit_during_import_is_a_load_failure_with_the_output_tail(
    tmp_path: Path,
) -> None:
    write_plugin(tmp_path, "quitter", "import os, sys\nprint('bye now', flush=True)\nos._exit(3)\n")
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["quitter"]) as h:
        record = h.plugin("quitter")
        assert record.state.value == "error"
        assert "exit code 3" in (record.error or "")
        assert "bye now" in (record.error_detail or "")


async def test_granting_net_outbound_starts_a_child_sandboxed_for_it(tmp_path: Path) -> None:
    write_plugin(tmp_path, "netty", ENV_PLUGIN, permissions=["net.outbound"])
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["netty"]) as h:
        before = _pid(h, "netty")
        gen = h.plugin("netty").instance
        assert isinstance(gen, ProcessGeneration)
        assert gen.net_outbound
        r = await h.client.post("/api/plugins/netty/permissions", json={"revoke": ["net.outbound"]})
        assert r.status_code == 200, r.text
        after = h.plugin("netty").instance
        assert isinstance(after, ProcessGeneration)
        assert not after.net_outbound
        assert after.link.pid != before


async def test_an_inprocess_plugin_runs_sandboxed_until_host_full_is_consented(
    tmp_path: Path,
) -> None:
    """Dropping an ``inprocess`` plugin into the folder never runs its code in the host: it is
    loaded in the process runtime until an admin's enable consents to ``host.full``."""
    write_plugin(tmp_path, "trusted", ENV_PLUGIN, runtime="inprocess")
    async with PluginHarness(plugins_dir=tmp_path) as h:
        record = h.plugin("trusted")
        assert record.state.value == "loaded"
        assert isinstance(record.instance, ProcessGeneration)
        detail = (await h.client.get("/api/plugins/trusted")).json()["data"]
        assert "host.full" in detail["permissions"]
        r = await h.client.post("/api/plugins/trusted/enable", json={"enabled": True})
        assert r.status_code == 200, r.text
        assert "host.full" in h.plugin("trusted").granted
        assert isinstance(h.plugin("trusted").instance, Generation)
        body = (await h.client.get("/api/plugins/trusted/env")).json()
        assert body["pid"] == os.getpid()  # inside the host, as consented
        r = await h.client.post("/api/plugins/trusted/permissions", json={"revoke": ["host.full"]})
        assert r.status_code == 200, r.text
        assert isinstance(h.plugin("trusted").instance, ProcessGeneration)
        body = (await h.client.get("/api/plugins/trusted/env")).json()
        assert body["pid"] != os.getpid()


async def test_a_request_that_picked_the_old_table_is_served_by_the_new_child(
    tmp_path: Path,
) -> None:
    """A request that found the route in the table a reload then swapped out, and reaches the
    old generation after its child stopped, is answered by the generation serving now (as the
    old code would still have answered in-process), not with 502."""
    folder = write_plugin(tmp_path, "late", ENV_PLUGIN)
    async with PluginHarness(plugins_dir=tmp_path, plugin_auto_enable=["late"]) as h:
        old_table = h.services.dispatcher.table("late")
        assert old_table is not None
        route, params, _other = old_table.find("GET", "/env")
        assert route is not None
        (folder / "backend" / "plugin.py").write_text(ENV_PLUGIN.replace("token", "tok"))
        assert (await h.client.post("/api/plugins/late/reload")).status_code == 200
        scope: dict[str, Any] = {
            "type": "http",
            "method": "GET",
            "path": "/api/plugins/late/env",
            "raw_path": b"/api/plugins/late/env",
            "query_string": b"",
            "headers": [],
            "path_params": params,
            "catalyst.plugin": "late",
            "catalyst.principal": None,
        }
        response = await route.call(Request(scope))
        assert response.status_code == 200
        body = json.loads(bytes(response.body))
        assert "tok" in body  # the new code answered
        assert body["pid"] == _pid(h, "late")
