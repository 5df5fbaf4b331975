"""Dependencies are re-checked after every change: a dependency moving out of range, or removed,
stops its dependents (error, naming the unmet range); they come back, enabled again, when the
dependency is met again — also across a restart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from catalyst.plugins import persistence
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.conftest import stop_app
from tests.plugin_helpers import AppFactory, admin_client, manager_of, manifest, write_plugin


def route(name: str) -> str:
    return f"def on_load(ctx):\n    ctx.get('/who')(lambda r: {{'me': {name!r}}})\n"


def set_version(folder: Path, version: str) -> None:
    data = json.loads((folder / "plugin.json").read_text())
    (folder / "plugin.json").write_text(json.dumps({**data, "version": version}))


async def states(client: httpx.AsyncClient) -> dict[str, tuple[str, str | None]]:
    listed = (await client.get("/api/plugins")).json()["data"]
    return {p["name"]: (p["status"], p["error"]) for p in listed}


async def test_dependents_follow_their_dependency(
    settings: Settings, app_factory: AppFactory, tmp_path: Path
) -> None:
    d = settings.plugins_dir
    base = write_plugin(d, "base", route("base"))
    write_plugin(d, "middle", route("middle"), dependencies={"base": "^1.0.0"})
    write_plugin(d, "top", route("top"), dependencies={"middle": "*"})
    write_plugin(d, "idle", "", dependencies={"base": "^1.0.0"})  # loaded, never enabled
    app = await app_factory(plugin_auto_enable=["base", "middle", "top"])
    c = await admin_client(app)
    assert (await c.get("/api/plugins/top/who")).json() == {"me": "top"}

    # The dependency moves out of range: dependents stop, naming what they need.
    set_version(base, "2.0.0")
    assert (await c.post("/api/plugins/base/reload")).status_code == 200
    assert await states(c) == {
        "base": ("enabled", None),
        "middle": ("error", "needs base ^1.0.0, found 2.0.0"),
        "top": ("error", "needs middle, which is in error"),
        "idle": ("error", "needs base ^1.0.0, found 2.0.0"),
    }
    assert (await c.get("/api/plugins/middle/who")).status_code == 503
    assert (await c.get("/api/plugins/top/who")).status_code == 503
    r = await c.post("/api/plugins/middle/enable", json={"enabled": True})
    assert r.status_code == 409

    # Back in range: they come back, enabled again as they were; the idle one only loaded.
    set_version(base, "1.2.0")
    assert (await c.post("/api/plugins/base/reload")).status_code == 200
    assert await states(c) == {
        "base": ("enabled", None),
        "middle": ("enabled", None),
        "top": ("enabled", None),
        "idle": ("loaded", None),
    }
    assert (await c.get("/api/plugins/top/who")).json() == {"me": "top"}

    # Removed: dependents stop; restored: they come back.
    shutil.move(base, tmp_path / "base")
    assert (await c.post("/api/plugins/rescan")).json()["data"]["removed"] == ["base"]
    assert (await states(c))["middle"] == ("error", "needs base, which is not installed")
    assert (await states(c))["top"] == ("error", "needs middle, which is in error")
    shutil.move(tmp_path / "base", base)
    assert (await c.post("/api/plugins/rescan")).json()["data"]["added"] == ["base"]
    assert {n: s for n, (s, _) in (await states(c)).items()} == {
        "base": "enabled",
        "middle": "enabled",
        "top": "enabled",
        "idle": "loaded",
    }

    # Stopped by a dependency is not disabled: after a restart with the dependency out of range
    # and then back, the dependents are enabled again.
    set_version(base, "3.0.0")
    await manager_of(app).reload("base")
    await stop_app(app)
    second = await app_factory(plugin_auto_enable=[])
    assert manager_of(second).get("middle").error == "needs base ^1.0.0, found 3.0.0"
    set_version(base, "1.0.0")
    await manager_of(second).reload("base")
    assert manager_of(second).get("top").state is PluginState.ENABLED


async def test_enabling_refuses_a_dependency_out_of_range(
    settings: Settings, app_factory: AppFactory
) -> None:
    d = settings.plugins_dir
    write_plugin(d, "base", "", version="2.0.0")
    write_plugin(d, "user", "", dependencies={"base": "^1.0.0"})
    write_plugin(d, "other", "", dependencies={"base": ">=2"})
    app = await app_factory(plugin_auto_enable=["base"])
    c = await admin_client(app)
    assert (await states(c))["user"] == ("error", "needs base ^1.0.0, found 2.0.0")
    r = await c.post("/api/plugins/other/enable", json={"enabled": True})
    assert r.status_code == 200
    (d / "other" / "plugin.json").write_text(
        json.dumps(manifest("other", dependencies={"base": "^1.0.0"}))
    )
    r = await c.post("/api/plugins/other/reload")
    assert r.status_code == 400
    assert "needs base ^1.0.0, found 2.0.0" in r.json()["error"]


async def test_a_dependent_held_back_at_start_comes_back_when_its_dependency_is_enabled(
    settings: Settings, app_factory: AppFactory
) -> None:
    d = settings.plugins_dir
    write_plugin(d, "base", "")
    write_plugin(d, "user", route("user"), dependencies={"base": "*"})
    first = await app_factory(plugin_auto_enable=["base", "user"])
    c = await admin_client(first)
    assert (await c.post("/api/plugins/user/enable", json={"enabled": False})).is_success
    assert (await c.post("/api/plugins/base/enable", json={"enabled": False})).is_success
    assert (await c.post("/api/plugins/user/enable", json={"enabled": True})).status_code == 409
    # The database says: user enabled, base disabled (as if changed while the host was down).
    manager = manager_of(first)
    user = manager.get("user")
    await persistence.save_enabled(first.state.services.db, user, True)
    await stop_app(first)
    second = await app_factory()
    c = await admin_client(second)
    assert (await states(c))["user"] == ("error", "needs base, which is not enabled")
    assert (await c.post("/api/plugins/base/enable", json={"enabled": True})).is_success
    assert (await states(c))["user"] == ("enabled", None)
    assert (await c.get("/api/plugins/user/who")).json() == {"me": "user"}


async def test_disabling_a_plugin_stopped_by_its_dependency_keeps_it_off(
    settings: Settings, app_factory: AppFactory
) -> None:
    d = settings.plugins_dir
    base = write_plugin(d, "base", "")
    write_plugin(d, "user", "", dependencies={"base": "^1.0.0"})
    app = await app_factory(plugin_auto_enable=["base", "user"])
    c = await admin_client(app)
    set_version(base, "2.0.0")
    await manager_of(app).reload("base")
    assert (await states(c))["user"] == ("error", "needs base ^1.0.0, found 2.0.0")
    assert (await c.post("/api/plugins/user/enable", json={"enabled": False})).is_success
    set_version(base, "1.0.0")
    await manager_of(app).reload("base")
    assert (await states(c))["user"] == ("loaded", None)  # met again, but not enabled again
