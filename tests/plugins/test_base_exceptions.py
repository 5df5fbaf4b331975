"""BaseException from plugin code (sys.exit, KeyboardInterrupt, a stray CancelledError) stays at
the plugin boundary: at startup, rescan, enable, disable and reload the plugin goes to ``error``
(or the call fails as JSON) and the host goes on. Only the host's own cancellation propagates."""

from __future__ import annotations

import asyncio

import pytest

from catalyst.plugins.lifecycle import HookFailed, call_hook
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

RAISES = {
    "sys.exit": ("import sys\n", "sys.exit(3)", "SystemExit: 3"),
    "KeyboardInterrupt": ("", "raise KeyboardInterrupt", "KeyboardInterrupt"),
    "CancelledError": ("import asyncio\n", "raise asyncio.CancelledError()", "CancelledError"),
}


def code_for(variant: str, where: str) -> str:
    """A plugin raising ``variant`` in ``where``: import, async on_load, or sync on_enable
    (which runs in a worker thread)."""
    imports, statement, _ = RAISES[variant]
    if where == "import":
        return f"{imports}{statement}\n"
    if where == "on_load":
        return f"{imports}async def on_load(ctx):\n    {statement}\n"
    return f"{imports}def {where}(ctx):\n    {statement}\n"


@pytest.mark.parametrize("variant", sorted(RAISES))
@pytest.mark.parametrize("where", ["import", "on_load", "on_enable"])
async def test_the_host_starts_and_the_plugin_is_in_error(
    settings: Settings, app_factory: AppFactory, variant: str, where: str
) -> None:
    write_plugin(settings.plugins_dir, "boom", code_for(variant, where))
    write_plugin(
        settings.plugins_dir, "fine", "def on_load(ctx):\n    ctx.get('/ok')(lambda r: 1)\n"
    )
    app = await app_factory(plugin_auto_enable=["boom", "fine"])
    client = await admin_client(app)
    assert (await client.get("/api/health")).status_code == 200
    detail = (await client.get("/api/plugins/boom")).json()["data"]
    assert detail["status"] == "error"
    hook = "import" if where == "import" else where
    assert detail["error"] == f"{hook} failed: {RAISES[variant][2]}"
    assert "Traceback" in detail["errorDetail"]
    assert manager_of(app).get("fine").state is PluginState.ENABLED


@pytest.mark.parametrize("variant", sorted(RAISES))
async def test_rescan_answers_json_and_the_plugin_is_in_error(
    settings: Settings, app_factory: AppFactory, variant: str
) -> None:
    app = await app_factory()
    client = await admin_client(app)
    write_plugin(settings.plugins_dir, "boom-import", code_for(variant, "import"))
    write_plugin(settings.plugins_dir, "boom-load", code_for(variant, "on_load"))
    r = await client.post("/api/plugins/rescan")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"added": ["boom-import", "boom-load"], "removed": []}
    for name, hook in (("boom-import", "import"), ("boom-load", "on_load")):
        record = manager_of(app).get(name)
        assert record.state is PluginState.ERROR
        assert record.error == f"{hook} failed: {RAISES[variant][2]}"


@pytest.mark.parametrize("variant", sorted(RAISES))
async def test_enable_disable_and_reload_contain_it(
    settings: Settings, app_factory: AppFactory, variant: str
) -> None:
    folder = write_plugin(settings.plugins_dir, "boom", code_for(variant, "on_enable"))
    write_plugin(settings.plugins_dir, "quits", code_for(variant, "on_disable"))
    app = await app_factory(plugin_auto_enable=["quits"])
    client = await admin_client(app)
    message = RAISES[variant][2]

    r = await client.post("/api/plugins/boom/enable", json={"enabled": True})
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "error": f"Plugin 'boom' failed to enable: on_enable failed: {message}",
    }
    assert manager_of(app).get("boom").state is PluginState.ERROR

    r = await client.post("/api/plugins/quits/enable", json={"enabled": False})
    assert r.status_code == 200
    assert r.json()["data"]["status"] == "disabled"
    assert r.json()["data"]["warning"] == f"on_disable failed: {message}"

    (folder / "backend" / "plugin.py").write_text(code_for(variant, "import"))
    r = await client.post("/api/plugins/boom/reload")
    assert r.status_code == 400
    assert r.json()["error"] == f"Reload of plugin 'boom' failed: import failed: {message}"
    assert (await client.get("/api/health")).status_code == 200


async def test_the_hosts_own_cancellation_still_propagates() -> None:
    started = asyncio.Event()

    async def on_load(ctx: object) -> None:
        started.set()
        await asyncio.sleep(30)

    task = asyncio.create_task(call_hook("p", {"on_load": on_load}, "on_load", None, timeout_s=60))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_stray_cancelled_error_from_the_plugin_is_its_failure() -> None:
    async def on_load(ctx: object) -> None:
        raise asyncio.CancelledError

    with pytest.raises(HookFailed, match="on_load failed: CancelledError"):
        await call_hook("p", {"on_load": on_load}, "on_load", None, timeout_s=60)
