"""Write plugin folders for tests, and reach into the apps that serve them."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from catalyst.plugins.manager import PluginManager
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.state import PluginState
from tests.conftest import harness_of

EXAMPLE = Path(__file__).resolve().parent.parent / "catalyst-plugins" / "example-plugin"
FIXTURE_PLUGINS = Path(__file__).resolve().parent / "fixture_plugins"


def manifest(name: str, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "displayName": name.title(),
        "description": f"Test plugin {name}",
        "author": "Tests",
        "catalystVersion": ">=1.0.0",
        "permissions": [],
        "backend": {"entry": "backend/plugin.py"},
    }
    data.update(over)
    return data


def write_plugin(
    plugins_dir: Path,
    name: str,
    code: str = "",
    *,
    files: dict[str, str] | None = None,
    **manifest_over: Any,
) -> Path:
    """Create ``plugins_dir/name`` with a plugin.json and ``backend/plugin.py`` = ``code``."""
    folder = plugins_dir / name
    (folder / "backend").mkdir(parents=True, exist_ok=True)
    (folder / "plugin.json").write_text(json.dumps(manifest(name, **manifest_over), indent=2))
    (folder / "backend" / "plugin.py").write_text(textwrap.dedent(code))
    for rel, text in (files or {}).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


def copy_fixture(
    plugins_dir: Path, fixture: str, name: str | None = None, *, files: dict[str, str] | None = None
) -> Path:
    """Copy ``tests/fixture_plugins/<fixture>`` to ``plugins_dir/<name>`` (renamed in its
    plugin.json too), then write ``files`` into it; returns the new folder."""
    name = name or fixture
    folder = plugins_dir / name
    shutil.copytree(FIXTURE_PLUGINS / fixture, folder)
    if name != fixture:
        data = json.loads((folder / "plugin.json").read_text())
        (folder / "plugin.json").write_text(json.dumps({**data, "name": name}, indent=2))
    for rel, text in (files or {}).items():
        (folder / rel).write_text(textwrap.dedent(text))
    return folder


AppFactory = Callable[..., Awaitable[FastAPI]]


async def admin_client(app: FastAPI) -> httpx.AsyncClient:
    """A client of ``app`` (started by the ``app_factory`` fixture) logged in as the admin."""
    return await harness_of(app).as_admin()


def state_of(record: PluginRecord) -> PluginState:
    """The record's state now (a call: mypy keeps no narrowing of ``record.state`` past it)."""
    return record.state


def manager_of(app: FastAPI) -> PluginManager:
    manager: PluginManager = app.state.services.plugins
    return manager
