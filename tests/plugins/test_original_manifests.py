"""Manifests of the original system keep working (issue 9, item 22).

``tests/fixture_plugins/original-readme/my-plugin`` is the original README's quick start verbatim;
``original-real/support-tickets`` is shaped like real plugins of the original. Both load: what only
the original accepted becomes a warning, shown by the API and never fatal.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from catalyst import __version__
from catalyst.auth.permissions import CATALOG
from catalyst.plugins.compat import ORIGINAL_PERMISSIONS
from catalyst.plugins.manifest import ManifestResult, load_manifest
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of

FIXTURES = Path(__file__).parent.parent / "fixture_plugins"
README = FIXTURES / "original-readme" / "my-plugin"
REAL = FIXTURES / "original-real" / "support-tickets"


def load(folder: Path) -> ManifestResult:
    _raw, result = load_manifest(folder, host_version="1.0.0", permission_catalog=CATALOG)
    return result


def warnings_at(result: ManifestResult) -> dict[str, str]:
    return {w.path: w.message for w in result.warnings}


def test_the_readme_quick_start_manifest_validates_as_printed() -> None:
    result = load(README)
    assert result.errors == []
    assert result.manifest is not None
    field = result.manifest.config["someOption"]
    assert (field.type, field.default) == ("string", "default value")
    assert result.manifest.permissions == ["server.read"]
    assert result.manifest.backend is not None
    assert result.manifest.backend.entry == "backend/index.py"
    assert list(warnings_at(result)) == ["backend.entry"]
    assert "using its Python port 'backend/index.py'" in warnings_at(result)["backend.entry"]


def test_a_real_original_manifest_loads_with_warnings() -> None:
    result = load(REAL)
    assert result.errors == []
    manifest = result.manifest
    assert manifest is not None
    assert manifest.frontend is None  # hasTabs/hasComponents only: no module to serve
    assert manifest.permissions == ["server.read", "server.write"]
    types = {k: (f.type, f.default) for k, f in manifest.config.items()}
    assert types == {
        "maxOpenTickets": ("integer", 5),
        "notifyStaff": ("boolean", True),
        "categories": ("array", ["bug", "billing", "other"]),
        "webhookUrl": ("string", ""),
        "limits": ("object", {"perHour": 10}),
        "greeting": ("string", "Thanks!"),
    }
    warnings = warnings_at(result)
    assert "tabs are what the frontend module exports" in warnings["frontend.hasTabs"]
    assert "frontend.hasComponents" in warnings
    assert "no 'entry'" in warnings["frontend"]
    assert warnings["permissions.1"] == (
        "'console.read' is the original system's name: requested as 'server.read'"
    )
    assert "'console.write'" in warnings["permissions.2"]
    assert "'server.start'" in warnings["permissions.3"]
    assert "unknown permission 'alerts.read' ignored" in warnings["permissions.4"]
    assert "unknown key 'placeholder' ignored" in warnings["config.greeting.placeholder"]


def test_every_mapped_permission_is_in_our_catalog() -> None:
    assert set(ORIGINAL_PERMISSIONS.values()) <= set(CATALOG)
    assert not set(ORIGINAL_PERMISSIONS) & set(CATALOG)


async def test_original_plugins_run_and_the_api_shows_their_warnings(
    settings: Settings, app_factory: AppFactory
) -> None:
    for folder in (README, REAL):
        shutil.copytree(folder, settings.plugins_dir / folder.name)
    app = await app_factory(plugin_auto_enable=["my-plugin", "support-tickets"])
    client = await admin_client(app)
    r = await client.get("/api/plugins/my-plugin/test")
    assert r.json() == {"success": True, "message": "Hello from plugin!"}
    ctx = manager_of(app).get("my-plugin").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    assert ctx.get_config("someOption") == "default value"
    r = await client.get("/api/plugins/support-tickets/tickets/stats")
    assert r.json() == {"open": 0}

    detail = (await client.get("/api/plugins/support-tickets")).json()["data"]
    assert detail["status"] == "enabled"
    assert detail["errors"] == []
    paths = [w["path"] for w in detail["warnings"]]
    assert "frontend.hasTabs" in paths
    assert "permissions.1" in paths
    assert detail["permissions"] == ["server.read", "server.write"]
    assert detail["configSchema"]["categories"]["type"] == "array"
    listed = {p["name"]: p for p in (await client.get("/api/plugins")).json()["data"]}
    assert listed["my-plugin"]["warnings"][0]["path"] == "backend.entry"
    # A saved array value is checked against its type.
    r = await client.put("/api/plugins/support-tickets/config", json={"config": {"categories": 1}})
    assert r.status_code == 400
    r = await client.put(
        "/api/plugins/support-tickets/config", json={"config": {"categories": ["x"]}}
    )
    assert r.status_code == 200
    assert __version__  # the host version the fixtures' ">=1.0.0" is checked against


def test_the_guide_lists_every_mapped_permission() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "PLUGIN_DEVELOPMENT.md").read_text()
    section = guide.split("### Manifests written for the original system")[1].split("\n## ")[0]
    for original, ours in ORIGINAL_PERMISSIONS.items():
        row = next(line for line in section.splitlines() if f"`{original}`" in line)
        assert row.rstrip(" |").endswith(f"`{ours}`"), original


def test_plugin_validate_prints_the_warnings_and_passes() -> None:
    from typer.testing import CliRunner

    from catalyst.cli import app

    result = CliRunner().invoke(app, ["plugin", "validate", str(README)])
    assert result.exit_code == 0, result.output
    assert "my-plugin 1.0.0: valid" in result.output
    assert "warning: backend.entry: 'backend/index.js' is the original" in result.output


def test_an_original_name_maps_only_to_a_permission_the_catalog_has(tmp_path: Path) -> None:
    from catalyst.plugins.manifest import validate_manifest

    raw = {
        "name": "p",
        "version": "1.0.0",
        "displayName": "P",
        "description": "d",
        "author": "a",
        "catalystVersion": "*",
        "permissions": ["console.read", "x.y"],
    }
    result = validate_manifest(
        raw, tmp_path / "p", host_version="1.0.0", permission_catalog={"x.y"}
    )
    assert result.manifest is not None
    assert result.manifest.permissions == ["x.y"]
    assert "unknown permission 'console.read' ignored" in warnings_at(result)["permissions.0"]
