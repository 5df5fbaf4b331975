"""Names and versions longer than the database columns are manifest errors (never a database
error), and one plugin's database failure stays that plugin's: the others and the host go on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from catalyst.db.models import Plugin
from catalyst.plugins import discovery, scanning
from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.manifest import validate_manifest
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, manifest, write_plugin

LONG_NAME = "a" * 60
LONG_VERSION = "1.0.0-" + "x" * 64  # a valid semantic version of 70 characters


def test_the_manifest_refuses_long_names_and_versions(tmp_path: Path) -> None:
    folder = tmp_path / LONG_NAME
    folder.mkdir()
    raw = manifest(LONG_NAME, version=LONG_VERSION, backend=None)
    result = validate_manifest(raw, folder, host_version="1.0.0", permission_catalog=[])
    assert {str(e) for e in result.errors} == {
        "name: is 60 characters long; a plugin name has at most 50",
        "version: is 70 characters long; a version has at most 64",
    }
    deps = manifest("ok", backend=None, dependencies={LONG_NAME: "*"})
    result = validate_manifest(deps, tmp_path, host_version="1.0.0", permission_catalog=[])
    assert any(
        e.path.startswith("dependencies") and "at most 50" in e.message for e in result.errors
    )


async def test_the_host_starts_and_rescans_with_over_long_plugins(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, LONG_NAME, "")
    write_plugin(settings.plugins_dir, "long-version", "", version=LONG_VERSION)
    write_plugin(settings.plugins_dir, "fine", "")
    app = await app_factory(plugin_auto_enable=[LONG_NAME, "long-version", "fine"])
    client = await admin_client(app)
    assert (await client.get("/api/health")).status_code == 200
    manager = manager_of(app)
    assert manager.get(LONG_NAME).state is PluginState.ERROR
    assert "at most 50" in (manager.get(LONG_NAME).error or "")
    assert manager.get("long-version").error == (
        "version: is 70 characters long; a version has at most 64"
    )
    assert manager.get("fine").state is PluginState.ENABLED

    write_plugin(settings.plugins_dir, "b" * 51, "")
    r = await client.post("/api/plugins/rescan")
    assert r.status_code == 200
    assert r.json()["data"]["added"] == ["b" * 51]
    async with app.state.services.db() as db:
        names = set((await db.scalars(select(Plugin.name))).all())
    assert names == {"fine"}  # invalid plugins get no row


async def test_one_plugins_database_failure_is_its_own(
    settings: Settings,
    app_factory: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
    db_backend: str,
) -> None:
    """A version past the column slips through (as if validation missed it): on PostgreSQL the
    row cannot be written; that plugin is in error and the others start."""
    for name in ("alpha", "bad", "omega"):
        write_plugin(
            settings.plugins_dir, name, "def on_load(ctx):\n    ctx.get('/x')(lambda r: 1)\n"
        )
    real = discovery.discover

    def discover(*args: object, **kwargs: object) -> list[PluginSource]:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        for source in found:
            if source.name == "bad" and source.manifest:
                source.manifest = source.manifest.model_copy(update={"version": LONG_VERSION * 2})
        return found

    monkeypatch.setattr(scanning, "discover", discover)
    app = await app_factory(plugin_auto_enable=["alpha", "bad", "omega"])
    client = await admin_client(app)
    manager = manager_of(app)
    assert manager.get("alpha").state is PluginState.ENABLED
    assert manager.get("omega").state is PluginState.ENABLED
    bad = manager.get("bad")
    if db_backend == "postgresql":  # SQLite does not enforce VARCHAR lengths
        assert bad.state is PluginState.ERROR
        assert (bad.error or "").startswith("Could not save the plugin in the database")
    r = await client.post("/api/plugins/rescan")
    assert r.status_code == 200
    assert (await client.get("/api/health")).status_code == 200
    assert json.loads((await client.get("/api/plugins/alpha/x")).text) == 1
