"""Finding plugin folders (catalyst.plugins.discovery), without importing their code."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from catalyst.auth.permissions import CATALOG
from catalyst.plugins.discovery import PluginSource, discover, discover_one
from catalyst.plugins.manifest import ManifestError

FIXTURES = Path(__file__).parent.parent / "fixture_plugins"
HOST = "1.0.0"


def find(plugins_dir: Path) -> list[PluginSource]:
    return discover(plugins_dir, host_version=HOST, permission_catalog=CATALOG)


def write_plugin(plugins_dir: Path, name: str, **overrides: object) -> Path:
    folder = plugins_dir / name
    (folder / "backend").mkdir(parents=True)
    (folder / "backend" / "plugin.py").write_text("# plugin code\n")
    manifest = {
        "name": name,
        "version": "1.0.0",
        "displayName": name.title(),
        "description": "A test plugin.",
        "author": "Tests",
        "catalystVersion": "*",
        "backend": {"entry": "backend/plugin.py"},
        **overrides,
    }
    (folder / "plugin.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def fixture_sources() -> dict[str, PluginSource]:
    return {s.name: s for s in find(FIXTURES)}


def test_fixture_folders_are_all_listed_valid_or_not(
    fixture_sources: dict[str, PluginSource],
) -> None:
    expected = {
        "bad-manifest",
        "good-plugin",
        "incompatible-host",
        "invalid-json",
        "name-mismatch",
        "path-escape",
        "raises-on-import",
        "unknown-permission",
    }
    assert expected <= set(fixture_sources)
    assert "not-a-plugin" not in fixture_sources  # no plugin.json


def test_results_are_sorted_by_name() -> None:
    names = [s.name for s in find(FIXTURES)]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("name", "paths"),
    [
        ("good-plugin", []),
        ("raises-on-import", []),
        ("name-mismatch", ["name"]),
        ("path-escape", ["backend.entry"]),
        ("invalid-json", [""]),
        ("incompatible-host", ["catalystVersion"]),
        ("unknown-permission", []),  # a warning since issue 9: see the test below
    ],
)
def test_each_fixture_reports_its_problem(
    fixture_sources: dict[str, PluginSource], name: str, paths: list[str]
) -> None:
    source = fixture_sources[name]
    assert [e.path for e in source.errors] == paths
    assert source.ok is (paths == [])
    assert (source.manifest is not None) is source.ok
    assert source.path == FIXTURES / name


def test_bad_manifest_fixture_keeps_every_error(fixture_sources: dict[str, PluginSource]) -> None:
    source = fixture_sources["bad-manifest"]
    assert not source.ok
    assert source.manifest is None
    assert source.raw is not None
    assert len({e.path for e in source.errors}) >= 6
    assert source.error_message == f"{source.errors[0]} (and {len(source.errors) - 1} more)"


def test_raw_is_kept_for_invalid_plugins_that_parsed(
    fixture_sources: dict[str, PluginSource],
) -> None:
    assert fixture_sources["incompatible-host"].raw is not None
    assert fixture_sources["incompatible-host"].raw["displayName"] == "Incompatible host"
    assert fixture_sources["invalid-json"].raw is None


def test_discovery_imports_no_plugin_code() -> None:
    before = set(sys.modules)
    sources = {s.name: s for s in find(FIXTURES)}
    # raises-on-import's backend raises at import time: finding it valid proves it was not run.
    assert sources["raises-on-import"].ok
    new = set(sys.modules) - before
    loaded_from_fixtures = [
        m for m in new if str(FIXTURES) in str(getattr(sys.modules[m], "__file__", "") or "")
    ]
    assert loaded_from_fixtures == []


def test_missing_plugins_dir_is_empty(tmp_path: Path) -> None:
    assert find(tmp_path / "nope") == []


def test_plugins_dir_that_is_a_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert find(tmp_path / "file") == []


def test_skips_hidden_cache_and_non_plugin_entries(tmp_path: Path) -> None:
    write_plugin(tmp_path, "zeta")
    write_plugin(tmp_path, "alpha")
    write_plugin(tmp_path, ".hidden")
    write_plugin(tmp_path, "__pycache__")
    write_plugin(tmp_path, "node_modules")
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "plugin.json").write_text("{}")  # a file, not a folder
    (tmp_path / "loose.py").write_text("")
    assert [s.name for s in find(tmp_path)] == ["alpha", "zeta"]


def test_only_direct_subfolders(tmp_path: Path) -> None:
    write_plugin(tmp_path / "group", "nested")
    assert find(tmp_path) == []


def test_name_is_the_folder_name_even_when_the_manifest_disagrees(tmp_path: Path) -> None:
    folder = write_plugin(tmp_path, "folder-name")
    data = json.loads((folder / "plugin.json").read_text())
    data["name"] = "manifest-name"
    (folder / "plugin.json").write_text(json.dumps(data))
    [source] = find(tmp_path)
    assert source.name == "folder-name"
    assert source.raw is not None
    assert source.raw["name"] == "manifest-name"
    assert [e.path for e in source.errors] == ["name"]


def test_symlinked_plugin_folder_is_discovered(tmp_path: Path) -> None:
    real = write_plugin(tmp_path / "dev", "linked")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "linked").symlink_to(real, target_is_directory=True)
    (plugins / "broken").symlink_to(tmp_path / "missing", target_is_directory=True)
    [source] = find(plugins)
    assert source.name == "linked"
    assert source.ok


def test_discover_one(tmp_path: Path) -> None:
    folder = write_plugin(tmp_path, "solo", permissions=["server.read"])
    source = discover_one(folder, host_version=HOST, permission_catalog=CATALOG)
    assert source.ok
    assert source.manifest is not None
    assert source.manifest.permissions == ["server.read"]
    assert source.error_message is None


def test_discover_one_without_manifest(tmp_path: Path) -> None:
    source = discover_one(tmp_path, host_version=HOST, permission_catalog=CATALOG)
    assert not source.ok
    assert source.raw is None
    assert source.error_message == "plugin.json not found"


def test_rediscovery_sees_fixed_manifests(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "name-mismatch", tmp_path / "name-mismatch")
    assert not find(tmp_path)[0].ok
    manifest = tmp_path / "name-mismatch" / "plugin.json"
    manifest.write_text(manifest.read_text().replace("some-other-name", "name-mismatch"))
    assert find(tmp_path)[0].ok


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([], None),
        ([ManifestError("name", "bad")], "name: bad"),
        ([ManifestError("", "plugin.json not found")], "plugin.json not found"),
        (
            [ManifestError("a", "x"), ManifestError("b", "y"), ManifestError("c", "z")],
            "a: x (and 2 more)",
        ),
    ],
)
def test_error_message(errors: list[ManifestError], expected: str | None) -> None:
    source = PluginSource("p", Path("p"), None, None, errors)
    assert source.error_message == expected
    assert not source.ok


def test_an_unknown_permission_is_a_warning(fixture_sources: dict[str, PluginSource]) -> None:
    source = fixture_sources["unknown-permission"]
    assert [w.path for w in source.warnings] == ["permissions.1"]
    assert source.manifest is not None
    assert "unknown permission" not in " ".join(source.manifest.permissions)
