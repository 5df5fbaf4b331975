"""plugin.json validation (catalyst.plugins.manifest): each rule, its path, all errors at once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from catalyst.auth.permissions import CATALOG
from catalyst.plugins.manifest import (
    ConfigField,
    ManifestError,
    ManifestResult,
    PluginManifest,
    load_manifest,
    validate_manifest,
)

FIXTURES = Path(__file__).parent.parent / "fixture_plugins"
HOST = "1.0.0"


def base_manifest(name: str | None = "my-plugin", **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "displayName": "My Plugin",
        "description": "Does things.",
        "author": "Someone",
        "catalystVersion": ">=1.0.0",
        "backend": {"entry": "backend/plugin.py"},
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}


def plugin_folder(root: Path, name: str = "my-plugin", files: tuple[str, ...] = ()) -> Path:
    folder = root / name
    for rel in ("backend/plugin.py", *files):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("# plugin code\n")
    return folder


def check(raw: object, folder: Path, host: str = HOST) -> ManifestResult:
    return validate_manifest(raw, folder, host_version=host, permission_catalog=CATALOG)


def errors_at(result: ManifestResult) -> dict[str, str]:
    paths = [e.path for e in result.errors]
    assert len(paths) == len(set(paths)), f"one error per path expected: {result.errors}"
    return {e.path: e.message for e in result.errors}


def warnings_at(result: ManifestResult) -> dict[str, str]:
    """Compatibility warnings (never fatal): unknown keys and permissions, original names."""
    return {w.path: w.message for w in result.warnings}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return plugin_folder(tmp_path)


def test_minimal_manifest_is_valid(folder: Path) -> None:
    result = check(base_manifest(), folder)
    assert result.ok
    assert result.errors == []
    assert result.manifest is not None
    assert result.manifest.display_name == "My Plugin"
    assert result.manifest.catalyst_version == ">=1.0.0"
    assert result.manifest.permissions == []
    assert result.manifest.frontend is None


def test_good_fixture_loads_with_every_part() -> None:
    raw, result = load_manifest(
        FIXTURES / "good-plugin", host_version=HOST, permission_catalog=CATALOG
    )
    assert result.errors == []
    assert result.ok
    m = result.manifest
    assert m is not None
    assert raw == json.loads((FIXTURES / "good-plugin" / "plugin.json").read_text())
    assert m.name == "good-plugin"
    assert m.backend is not None
    assert m.backend.entry == "backend/plugin.py"
    assert m.frontend is not None
    assert m.frontend.entry == "frontend/index.js"
    assert m.config["mode"].option_values() == ["fast", "safe"]
    assert [k for k, f in m.config.items() if f.is_secret] == ["apiKey", "password"]
    assert m.events["greeted"].description == "Someone was greeted"
    assert m.events["greeted"].payload == {"name": "string"}
    assert m.repository == {"type": "git", "url": "https://example.com/good-plugin.git"}


def test_to_json_is_camel_case_without_nulls_and_round_trips() -> None:
    _, result = load_manifest(
        FIXTURES / "good-plugin", host_version=HOST, permission_catalog=CATALOG
    )
    assert result.manifest is not None
    out = result.manifest.to_json()
    assert out["displayName"] == "Good Plugin"
    assert out["catalystVersion"] == ">=1.0.0"
    assert "display_name" not in out
    assert "catalyst_version" not in out
    assert "label" not in out["config"]["greeting"]  # None left out
    assert out["config"]["mode"]["options"][1] == {"value": "safe", "label": "Safe mode"}
    json.dumps(out)
    again = check(out, FIXTURES / "good-plugin")
    assert again.ok
    assert again.manifest == result.manifest


def test_python_names_are_accepted_when_building_the_model_directly() -> None:
    m = PluginManifest(
        name="x",
        version="1.0.0",
        display_name="X",
        description="d",
        author="a",
        catalyst_version="*",
    )
    assert m.to_json()["displayName"] == "X"


def test_bad_manifest_fixture_reports_every_problem_at_once() -> None:
    raw, result = load_manifest(
        FIXTURES / "bad-manifest", host_version=HOST, permission_catalog=CATALOG
    )
    assert raw is not None
    assert result.manifest is None
    assert not result.ok
    paths = [e.path for e in result.errors]
    assert len(result.errors) >= 6
    assert set(paths) == {
        "name",
        "version",
        "displayName",
        "description",
        "author",
        "catalystVersion",
        "backend.entry",
        "frontend.entry",
        "dependencies.Bad Dep",
        "dependencies.other-plugin",
        "config.greeting.default",
        "config.mode.options",
        "config.bad key",
        "config.retries.min",
        "config.colour.type",
    }
    assert set(warnings_at(result)) >= {"permissions.1", "permissions.2", "display_name"}
    assert set(warnings_at(result)) >= {"unknownKey"}
    # The name is both malformed and different from the folder: two errors, one path.
    assert paths.count("name") == 2
    assert len(paths) - 1 == len(set(paths))


def test_model_errors_and_context_errors_come_together(folder: Path) -> None:
    raw = base_manifest(
        description=None,  # model error
        permissions=[5],  # type error
        backend={"entry": "../x.py"},  # path error
        config={"n": {"type": "integer", "default": "1"}},  # default error
    )
    result = check(raw, folder)
    assert set(errors_at(result)) == {
        "description",
        "permissions.0",
        "backend.entry",
        "config.n.default",
    }
    assert result.manifest is None


# --- name ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "my-plugin-2", "0", "a" * 50, "--"])
def test_valid_names(tmp_path: Path, name: str) -> None:
    assert check(base_manifest(name), plugin_folder(tmp_path, name)).ok


@pytest.mark.parametrize("name", ["", "A", "My-Plugin", "my_plugin", "my plugin", "a" * 51, "é"])
def test_invalid_names(folder: Path, name: str) -> None:
    result = check(base_manifest(name), folder)
    messages = [e.message for e in result.errors if e.path == "name"]
    too_long = "is 51 characters long; a plugin name has at most 50"
    assert any("is not a valid plugin name" in m or m == too_long for m in messages)


def test_name_with_trailing_newline_is_refused(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, "ok")
    result = check(base_manifest("ok\n"), folder)
    assert any("is not a valid plugin name" in e.message for e in result.errors)


def test_name_must_equal_folder_name(folder: Path) -> None:
    result = check(base_manifest("other-name"), folder)
    assert errors_at(result) == {
        "name": "'other-name' does not match the plugin's folder name 'my-plugin'"
    }


def test_name_mismatch_fixture() -> None:
    _, result = load_manifest(
        FIXTURES / "name-mismatch", host_version=HOST, permission_catalog=CATALOG
    )
    assert [e.path for e in result.errors] == ["name"]
    assert "'some-other-name'" in result.errors[0].message
    assert "'name-mismatch'" in result.errors[0].message


# --- version and texts -------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0.0", "0.1.0-beta.2", "2.0.0+build.1"])
def test_semver_versions_are_accepted(folder: Path, version: str) -> None:
    assert check(base_manifest(version=version), folder).ok


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "latest", ""])
def test_non_semver_versions_are_refused(folder: Path, version: str) -> None:
    assert "version" in errors_at(check(base_manifest(version=version), folder))


def test_version_must_be_a_string(folder: Path) -> None:
    message = errors_at(check(base_manifest(version=1), folder))["version"]
    assert message == "Input should be a valid string, got 1"


@pytest.mark.parametrize(
    ("key", "limit"), [("displayName", 100), ("description", 500), ("author", 100)]
)
def test_text_lengths(folder: Path, key: str, limit: int) -> None:
    assert check(base_manifest(**{key: "x" * limit}), folder).ok
    for bad in ("", "x" * (limit + 1)):
        assert set(errors_at(check(base_manifest(**{key: bad}), folder))) == {key}
    assert errors_at(check(base_manifest(**{key: "   "}), folder)) == {key: "must not be blank"}


@pytest.mark.parametrize(
    "key", ["name", "version", "displayName", "description", "author", "catalystVersion"]
)
def test_required_keys(folder: Path, key: str) -> None:
    raw = base_manifest()
    del raw[key]
    assert errors_at(check(raw, folder)) == {key: "required key is missing"}


def test_backend_is_optional(folder: Path) -> None:
    assert check(base_manifest(backend=None), folder).ok


# --- catalystVersion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "host"),
    [(">=1.0.0", "1.0.0"), ("^1.2", "1.4.0"), ("~2.3.0", "2.3.9"), ("1.x || 2.x", "2.0.0")],
)
def test_compatible_host(folder: Path, wanted: str, host: str) -> None:
    assert check(base_manifest(catalystVersion=wanted), folder, host=host).ok


@pytest.mark.parametrize(("wanted", "host"), [(">=2.0.0", "1.9.9"), ("^1.2", "2.0.0")])
def test_incompatible_host_names_the_range_and_the_host(
    folder: Path, wanted: str, host: str
) -> None:
    result = check(base_manifest(catalystVersion=wanted), folder, host=host)
    message = errors_at(result)["catalystVersion"]
    assert f"'{wanted}'" in message
    assert host in message
    assert result.manifest is None


def test_incompatible_host_fixture() -> None:
    raw, result = load_manifest(
        FIXTURES / "incompatible-host", host_version=HOST, permission_catalog=CATALOG
    )
    assert raw is not None
    assert raw["displayName"] == "Incompatible host"
    assert errors_at(result) == {
        "catalystVersion": "this plugin needs Catalyst '>=99.0.0', but this host is version 1.0.0"
    }


def test_malformed_catalyst_version_is_one_error(folder: Path) -> None:
    message = errors_at(check(base_manifest(catalystVersion=">>1"), folder))["catalystVersion"]
    assert "'>>1' is not a valid version range" in message


def test_host_version_must_be_semver(folder: Path) -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        check(base_manifest(), folder, host="dev")


# --- dependencies ------------------------------------------------------------------------------


def test_valid_dependencies(folder: Path) -> None:
    result = check(base_manifest(dependencies={"other": "^1.0.0", "third-one": "*"}), folder)
    assert result.manifest is not None
    assert result.manifest.dependencies == {"other": "^1.0.0", "third-one": "*"}


def test_dependency_names_and_ranges_are_checked(folder: Path) -> None:
    raw = base_manifest(dependencies={"Bad_Name": "^1", "good": "soon", "num": 1})
    errors = errors_at(check(raw, folder))
    assert set(errors) == {"dependencies.Bad_Name", "dependencies.good", "dependencies.num"}
    assert "not a valid plugin name" in errors["dependencies.Bad_Name"]
    assert "not a valid version range" in errors["dependencies.good"]


def test_a_plugin_cannot_depend_on_itself(folder: Path) -> None:
    errors = errors_at(check(base_manifest(dependencies={"my-plugin": "*"}), folder))
    assert errors == {"dependencies.my-plugin": "a plugin cannot depend on itself"}


# --- permissions -------------------------------------------------------------------------------


def test_known_permissions_are_accepted(folder: Path) -> None:
    result = check(base_manifest(permissions=sorted(CATALOG)), folder)
    assert result.manifest is not None
    assert result.manifest.permissions == sorted(CATALOG)


def test_unknown_permission_is_a_warning_naming_the_valid_ones(folder: Path) -> None:
    result = check(base_manifest(permissions=["server.read", "servers.read"]), folder)
    assert result.ok
    assert result.manifest is not None
    assert result.manifest.permissions == ["server.read"]
    message = warnings_at(result)["permissions.1"]
    assert "unknown permission 'servers.read' ignored" in message
    assert "did you mean 'server.read'?" in message
    for valid in CATALOG:
        assert valid in message


def test_unknown_permission_fixture() -> None:
    _, result = load_manifest(
        FIXTURES / "unknown-permission", host_version=HOST, permission_catalog=CATALOG
    )
    assert result.errors == []
    assert list(warnings_at(result)) == ["permissions.1"]


@pytest.mark.parametrize("perm", ["server.*", "*", "SERVER.READ", ""])
def test_wildcards_and_near_misses_are_not_permissions(folder: Path, perm: str) -> None:
    result = check(base_manifest(permissions=[perm]), folder)
    assert set(warnings_at(result)) == {"permissions.0"}
    assert result.manifest is not None
    assert result.manifest.permissions == []


def test_duplicate_permission(folder: Path) -> None:
    raw = base_manifest(permissions=["server.read", "user.read", "server.read"])
    result = check(raw, folder)
    assert warnings_at(result) == {"permissions.2": "duplicate permission 'server.read' ignored"}
    assert result.manifest is not None
    assert result.manifest.permissions == ["server.read", "user.read"]


def test_permissions_must_be_a_list_of_strings(folder: Path) -> None:
    assert set(errors_at(check(base_manifest(permissions="server.read"), folder))) == {
        "permissions"
    }
    assert set(errors_at(check(base_manifest(permissions=[1, "user.read"]), folder))) == {
        "permissions.0"
    }


def test_custom_catalog(folder: Path) -> None:
    raw = base_manifest(permissions=["server.read"])
    result = validate_manifest(raw, folder, host_version=HOST, permission_catalog={"x.y"})
    assert warnings_at(result)["permissions.0"].endswith("(known: x.y)")


# --- backend.entry and frontend.entry ----------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("../outside.py", "must not contain '..'"),
        ("backend/../../outside.py", "must not contain '..'"),
        ("/etc/plugin.py", "got absolute path '/etc/plugin.py'"),
        ("C:/plugins/plugin.py", "got absolute path"),
        ("backend\\plugin.py", "use '/' to separate folders"),
        ("backend/missing.py", "file not found: 'backend/missing.py'"),
        ("backend/plugin.txt", "must be a Python file ending in .py"),
        ("backend/plugin", "must be a Python file ending in .py"),
        ("back\0end.py", "must not contain NUL"),
    ],
)
def test_backend_entry_problems(tmp_path: Path, entry: str, expected: str) -> None:
    folder = plugin_folder(tmp_path, files=("backend/plugin.txt", "backend/plugin"))
    (tmp_path / "outside.py").write_text("# exists, and is still refused\n")
    errors = errors_at(check(base_manifest(backend={"entry": entry}), folder))
    assert set(errors) == {"backend.entry"}
    assert expected in errors["backend.entry"]


@pytest.mark.parametrize(
    "entry", ["backend/plugin.py", "./backend/plugin.py", "backend/__init__.py"]
)
def test_backend_entry_inside_the_folder(tmp_path: Path, entry: str) -> None:
    folder = plugin_folder(tmp_path, files=("backend/__init__.py",))
    assert check(base_manifest(backend={"entry": entry}), folder).ok


def test_frontend_entry_rules(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, files=("frontend/index.js",))
    assert check(base_manifest(frontend={"entry": "frontend/index.js"}), folder).ok
    cases = {
        "frontend/missing.js": "file not found",
        "../x.js": "must not contain '..'",
        "/x.js": "absolute path",
        "frontend": "'frontend' is not a file",
    }
    for entry, expected in cases.items():
        errors = errors_at(check(base_manifest(frontend={"entry": entry}), folder))
        assert set(errors) == {"frontend.entry"}, entry
        assert expected in errors["frontend.entry"]


needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")


@pytest.mark.parametrize("entry", ["index.js", "./index.js", "frontend/../index.js"])
def test_frontend_entry_at_the_plugin_root_is_refused(tmp_path: Path, entry: str) -> None:
    folder = plugin_folder(tmp_path, files=("index.js",))
    errors = errors_at(check(base_manifest(frontend={"entry": entry}), folder))
    assert set(errors) == {"frontend.entry"}
    if ".." not in entry:  # ".." has its own message
        assert "is at the plugin root" in errors["frontend.entry"]
        assert "for example 'frontend/index.js'" in errors["frontend.entry"]


def test_frontend_folder_must_not_hold_the_backend_entry(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, files=("backend/ui.js", "dist/ui.js"))
    errors = errors_at(check(base_manifest(frontend={"entry": "backend/ui.js"}), folder))
    assert set(errors) == {"frontend.entry"}
    assert "also holds the backend entry 'backend/plugin.py'" in errors["frontend.entry"]
    assert check(base_manifest(frontend={"entry": "dist/ui.js"}), folder).ok
    nested = base_manifest(frontend={"entry": "dist/ui.js"}, backend={"entry": "dist/x/p.py"})
    (folder / "dist" / "x").mkdir()
    (folder / "dist" / "x" / "p.py").write_text("# plugin code\n")
    assert set(errors_at(check(nested, folder))) == {"frontend.entry"}


@needs_symlinks
def test_frontend_folder_linking_to_the_root_is_refused(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, files=("index.js",))
    (folder / "web").symlink_to(folder, target_is_directory=True)
    errors = errors_at(check(base_manifest(frontend={"entry": "web/index.js"}), folder))
    assert "is at the plugin root" in errors["frontend.entry"]


@needs_symlinks
def test_frontend_entry_linking_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, files=("index.js",))
    (folder / "frontend").mkdir()
    (folder / "frontend" / "index.js").symlink_to(folder / "index.js")
    errors = errors_at(check(base_manifest(frontend={"entry": "frontend/index.js"}), folder))
    assert "leads out of its own folder" in errors["frontend.entry"]


def test_entry_must_not_be_empty_or_have_other_keys(folder: Path) -> None:
    result = check(base_manifest(backend={"entry": "", "main": "x.py"}), folder)
    assert set(errors_at(result)) == {"backend.entry"}
    assert warnings_at(result) == {"backend.main": "unknown key 'main' ignored (allowed: entry)"}
    assert errors_at(check(base_manifest(backend={}), folder)) == {
        "backend.entry": "required key is missing"
    }


def test_path_escape_fixture() -> None:
    _, result = load_manifest(
        FIXTURES / "path-escape", host_version=HOST, permission_catalog=CATALOG
    )
    assert [e.path for e in result.errors] == ["backend.entry"]
    assert "'..'" in result.errors[0].message


@needs_symlinks
def test_symlinked_file_leading_out_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "my-plugin"
    (folder / "backend").mkdir(parents=True)
    outside = tmp_path / "outside.py"
    outside.write_text("# not the plugin's\n")
    (folder / "backend" / "plugin.py").symlink_to(outside)
    message = errors_at(check(base_manifest(), folder))["backend.entry"]
    assert "leads outside the plugin folder" in message
    assert str(outside) in message


@needs_symlinks
def test_symlinked_folder_leading_out_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "my-plugin"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "plugin.py").write_text("# not the plugin's\n")
    (folder / "backend").symlink_to(elsewhere, target_is_directory=True)
    errors = errors_at(check(base_manifest(frontend={"entry": "backend/plugin.py"}), folder))
    assert set(errors) == {"backend.entry", "frontend.entry"}
    assert "leads outside the plugin folder" in errors["frontend.entry"]


@needs_symlinks
def test_symlink_staying_inside_is_fine(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, files=("src/real.py",))
    (folder / "backend" / "plugin.py").unlink()
    (folder / "backend" / "plugin.py").symlink_to(Path("..") / "src" / "real.py")
    assert check(base_manifest(), folder).ok


@needs_symlinks
def test_symlinked_plugin_folder_is_fine(tmp_path: Path) -> None:
    real = plugin_folder(tmp_path / "real")
    link = tmp_path / "plugins" / "my-plugin"
    link.parent.mkdir()
    link.symlink_to(real, target_is_directory=True)
    assert check(base_manifest(), link).ok


@needs_symlinks
def test_symlink_loop_is_an_error_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "my-plugin"
    (folder / "backend").mkdir(parents=True)
    (folder / "backend" / "plugin.py").symlink_to(folder / "backend" / "plugin.py")
    errors = errors_at(check(base_manifest(), folder))
    assert set(errors) == {"backend.entry"}


# --- config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "string", "default": "hi", "description": "d", "label": "L", "max": 5},
        {"type": "text"},
        {"type": "integer", "default": 3, "min": 0, "max": 3},
        {"type": "number", "default": 1},
        {"type": "number", "default": 0.5, "min": 0.5},
        {"type": "boolean", "default": False},
        {"type": "select", "options": ["a", {"value": "b", "label": "B"}], "default": "b"},
        {"type": "secret", "required": True},
        {"type": "password", "default": "changeme"},
        {"type": "string", "secret": True},
        {"type": "integer", "required": True, "default": None},
    ],
)
def test_valid_config_fields(folder: Path, spec: dict[str, Any]) -> None:
    result = check(base_manifest(config={"x": spec}), folder)
    assert result.errors == []
    assert result.manifest is not None
    assert isinstance(result.manifest.config["x"], ConfigField)


@pytest.mark.parametrize(
    ("spec", "path", "expected"),
    [
        ({"type": "integer", "default": True}, "default", "expected an integer, got True"),
        ({"type": "integer", "default": 1.5}, "default", "expected an integer, got 1.5"),
        ({"type": "number", "default": False}, "default", "expected a number, got False"),
        ({"type": "number", "default": "1"}, "default", "expected a number, got '1'"),
        ({"type": "boolean", "default": "true"}, "default", "expected true or false"),
        ({"type": "boolean", "default": 0}, "default", "expected true or false"),
        ({"type": "string", "default": 1}, "default", "expected a string, got 1"),
        ({"type": "text", "default": ["a"]}, "default", "expected a string"),
        ({"type": "secret", "default": 1}, "default", "expected a string"),
        ({"type": "select", "options": ["a"], "default": "b"}, "default", "expected one of 'a'"),
        ({"type": "integer", "min": 1, "max": 5, "default": 9}, "default", "at most 5, got 9"),
        ({"type": "integer", "min": 1, "default": 0}, "default", "at least 1, got 0"),
        ({"type": "string", "max": 3, "default": "abcd"}, "default", "at most 3 characters"),
        ({"type": "select"}, "options", "needs a non-empty list of options"),
        ({"type": "select", "options": []}, "options", "needs a non-empty list of options"),
        ({"type": "select", "options": ["a", "a"]}, "options.1", "duplicate option 'a'"),
        ({"type": "select", "options": [5]}, "options.0", "expected a string or an object"),
        ({"type": "select", "options": [{"value": "a"}]}, "options.0", "'value' and 'label'"),
        ({"type": "string", "options": ["a"]}, "options", "only apply to select fields"),
        ({"type": "integer", "min": 5, "max": 1}, "min", "min (5) is greater than max (1)"),
        ({"type": "boolean", "min": 1}, "min", "only applies to number, integer, string"),
        ({"type": "select", "options": ["a"], "max": 1}, "max", "only applies to number"),
        ({"type": "number", "min": float("nan")}, "min", "must be a finite number"),
        ({"type": "number", "min": "1"}, "min", "valid number"),
        ({"type": "string", "required": "yes"}, "required", "valid boolean"),
        ({"type": "colour"}, "type", "got 'colour'"),
        ({"description": "x"}, "type", "required key is missing"),
    ],
)
def test_config_field_problems_have_exact_paths(
    folder: Path, spec: dict[str, Any], path: str, expected: str
) -> None:
    result = check(base_manifest(config={"x": spec}), folder)
    errors = errors_at(result)
    assert set(errors) == {f"config.x.{path}"}
    assert expected in errors[f"config.x.{path}"]
    assert result.manifest is None


def test_misspelt_field_keys_are_warnings_naming_the_right_one(folder: Path) -> None:
    result = check(base_manifest(config={"x": {"type": "string", "defualt": "x"}}), folder)
    assert result.ok
    assert "did you mean 'default'?" in warnings_at(result)["config.x.defualt"]


def test_config_value_that_is_no_field_at_all(folder: Path) -> None:
    errors = errors_at(check(base_manifest(config={"someOption": None}), folder))
    assert set(errors) == {"config.someOption"}


@pytest.mark.parametrize("key", ["bad key", "1abc", "a-b", "é", ""])
def test_config_key_names(folder: Path, key: str) -> None:
    errors = errors_at(check(base_manifest(config={key: {"type": "string"}}), folder))
    assert set(errors) == {f"config.{key}"}
    assert "is not a valid config key" in errors[f"config.{key}"]


@pytest.mark.parametrize("key", ["_x", "camelCase", "A1", "snake_case_2"])
def test_valid_config_key_names(folder: Path, key: str) -> None:
    assert check(base_manifest(config={key: {"type": "string"}}), folder).ok


def test_every_config_field_is_checked(folder: Path) -> None:
    config = {
        "a": {"type": "integer", "default": "1"},
        "b": {"type": "nope"},
        "c": {"type": "select"},
        "d": {"type": "string"},
    }
    errors = errors_at(check(base_manifest(config=config), folder))
    assert set(errors) == {"config.a.default", "config.b.type", "config.c.options"}


# --- keys, events, metadata --------------------------------------------------------------------


def test_unknown_top_level_key_lists_the_allowed_ones(folder: Path) -> None:
    result = check(base_manifest(whatever=1), folder)
    assert result.ok
    message = warnings_at(result)["whatever"]
    assert message.startswith("unknown key 'whatever' ignored (allowed: name, version, displayName")


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("display_name", "displayName"), ("catalyst_version", "catalystVersion")],
)
def test_snake_case_keys_are_refused_with_a_suggestion(
    folder: Path, key: str, suggestion: str
) -> None:
    raw = base_manifest()
    raw[key] = raw.pop(suggestion)
    result = check(raw, folder)
    assert errors_at(result) == {suggestion: "required key is missing"}
    assert warnings_at(result) == {
        key: f"unknown key '{key}' ignored (did you mean '{suggestion}'?)"
    }


def test_optional_metadata_is_accepted(folder: Path) -> None:
    raw = base_manifest(
        homepage="https://example.com",
        repository="https://example.com/repo.git",
        license="MIT",
        keywords=["a", "b"],
        icon="icon.png",
    )
    result = check(raw, folder)
    assert result.ok
    assert result.manifest is not None
    assert result.manifest.to_json()["keywords"] == ["a", "b"]


def test_bad_metadata_types(folder: Path) -> None:
    errors = errors_at(check(base_manifest(repository=5, keywords="a", homepage=1), folder))
    assert set(errors) == {"repository", "keywords", "homepage"}
    assert errors["repository"].startswith("expected a URL or an object")


def test_events(folder: Path) -> None:
    good = {"greeted": {"payload": {"name": "string"}, "description": "d"}, "bare": {}}
    result = check(base_manifest(events=good), folder)
    assert result.manifest is not None
    assert result.manifest.events["bare"].payload == {}
    bad = {"a": {"payload": 5}, "b": {"descr": "x"}, "c": "nope"}
    result = check(base_manifest(events=bad), folder)
    assert set(errors_at(result)) == {"events.a.payload", "events.c"}
    assert set(warnings_at(result)) == {"events.b.descr"}


@pytest.mark.parametrize(("raw", "kind"), [([], "an array"), ("x", "a string"), (None, "null")])
def test_top_level_must_be_an_object(folder: Path, raw: object, kind: str) -> None:
    result = check(raw, folder)
    assert result.errors == [
        ManifestError("", f"plugin.json must contain a JSON object, got {kind}")
    ]


def test_errors_come_in_manifest_order(folder: Path) -> None:
    raw = {"permissions": [1], "name": "BAD", **base_manifest(name=None, version=None)}
    paths = [e.path for e in check(raw, folder).errors]
    assert paths[0] == "version"  # missing keys first, then in the file's order
    assert paths.index("permissions.0") < paths.index("name")


# --- load_manifest -----------------------------------------------------------------------------


def load(folder: Path) -> tuple[dict[str, Any] | None, ManifestResult]:
    return load_manifest(folder, host_version=HOST, permission_catalog=CATALOG)


def test_load_missing_manifest(folder: Path) -> None:
    raw, result = load(folder)
    assert raw is None
    assert result.errors == [ManifestError("", "plugin.json not found")]
    assert not result.ok


def test_load_invalid_json_names_line_and_column() -> None:
    raw, result = load(FIXTURES / "invalid-json")
    assert raw is None
    assert result.errors == [
        ManifestError(
            "",
            "plugin.json is not valid JSON: Expecting property name enclosed in double quotes "
            "at line 4, column 1",
        )
    ]


def test_load_non_object_json(folder: Path) -> None:
    (folder / "plugin.json").write_text('["a list"]')
    raw, result = load(folder)
    assert raw is None
    assert [str(e) for e in result.errors] == [
        "plugin.json must contain a JSON object, got an array"
    ]


def test_load_accepts_a_byte_order_mark(folder: Path) -> None:
    (folder / "plugin.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(base_manifest()).encode())
    raw, result = load(folder)
    assert result.ok
    assert raw == base_manifest()


def test_load_undecodable_file(folder: Path) -> None:
    (folder / "plugin.json").write_bytes(b'{"name": "\xff"}')
    raw, result = load(folder)
    assert raw is None
    assert result.errors[0].message.startswith("cannot read plugin.json:")


def test_load_deeply_nested_json(folder: Path) -> None:
    (folder / "plugin.json").write_text("[" * 100_000 + "]" * 100_000)
    raw, result = load(folder)
    assert raw is None
    assert result.errors == [ManifestError("", "plugin.json is nested too deeply to read")]


def test_manifest_error_str() -> None:
    assert str(ManifestError("config.x.default", "bad")) == "config.x.default: bad"
    assert str(ManifestError("", "plugin.json not found")) == "plugin.json not found"


def test_result_is_not_ok_with_errors_even_with_a_manifest() -> None:
    m = PluginManifest.model_validate(base_manifest())
    assert ManifestResult(m, []).ok
    assert not ManifestResult(m, [ManifestError("x", "y")]).ok
    assert not ManifestResult(None, []).ok
