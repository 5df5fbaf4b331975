"""The plugin manifest (``plugin.json``): its model, and a validator that reports every problem.

Validation runs in two layers so one run shows everything that is wrong:

* the Pydantic model checks the shape: keys, types, lengths, name and version syntax, ranges;
* checks that need the folder, the host or the permission catalog (and config checks that need
  exact paths such as ``config.greeting.default``) run on the raw data, part by part, on every part
  that is well-formed, whether or not the rest of the manifest is.

Each problem is a :class:`ManifestError` with the JSON path of the offending value.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from catalyst.auth.permissions import HOST_FULL
from catalyst.plugins import compat, frontend_files, versioning
from catalyst.plugins.config_schema import ConfigField, SelectOption, field_problems

__all__ = [
    "MANIFEST_FILE",
    "BackendSpec",
    "ConfigField",
    "EventSpec",
    "FrontendSpec",
    "ManifestError",
    "ManifestResult",
    "PluginManifest",
    "SelectOption",
    "load_manifest",
    "validate_manifest",
]

MANIFEST_FILE: Final = "plugin.json"


def _pattern(regex: str, what: str, rule: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):  # fullmatch: "$" would let a trailing newline through
            raise ValueError(f"'{value}' is not a valid {what}: {rule}")
        return value

    return AfterValidator(check)


def _semver(value: str) -> str:
    versioning.parse_version(value)
    return value


def _version_range(value: str) -> str:
    versioning.parse_range(value)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _one_error(message: str) -> WrapValidator:
    """Replace the per-member errors of a union with one readable message."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("invalid", "{message}", {"message": message}) from None

    return WrapValidator(validate)


def _at_most(limit: int, what: str) -> AfterValidator:
    """Lengths the database columns hold (``plugins.name`` 50, ``plugins.version`` 64)."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long; a {what} has at most {limit}")
        return value

    return AfterValidator(check)


PluginName = Annotated[
    str,
    _at_most(50, "plugin name"),
    _pattern("[a-z0-9-]{1,50}", "plugin name", "use 1–50 lowercase letters, digits and hyphens"),
]
VersionText = Annotated[str, _at_most(64, "version"), AfterValidator(_semver)]
RangeText = Annotated[str, AfterValidator(_version_range)]
ConfigKey = Annotated[
    str,
    _pattern(
        "[A-Za-z_][A-Za-z0-9_]*", "config key", "use letters, digits and '_', not first a digit"
    ),
]
Text100 = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)]
Text500 = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_not_blank)]


class BackendSpec(BaseModel):
    """``backend``: the Python entry module, relative to the plugin folder."""

    model_config = ConfigDict(extra="forbid", strict=True)

    entry: str = Field(min_length=1)


class FrontendSpec(BackendSpec):
    """``frontend``: the browser ES module, relative to the plugin folder."""


class Limits(BaseModel):
    """``limits``: what a process-runtime plugin's child may use."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    #: Resident memory in MiB; past it the child is killed and restarted.
    memory_mb: int = Field(default=256, ge=32, le=65536, alias="memoryMb")


class EventSpec(BaseModel):
    """A declared event: the shape of its payload and what it means."""

    model_config = ConfigDict(extra="forbid", strict=True)

    payload: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


class PluginManifest(BaseModel):
    """A well-formed ``plugin.json``. Keys are camelCase in JSON, snake_case in Python."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    name: PluginName
    version: VersionText
    display_name: Text100 = Field(alias="displayName")
    description: Text500
    author: Text100
    catalyst_version: RangeText = Field(alias="catalystVersion")
    permissions: list[str] = Field(default_factory=list)
    backend: BackendSpec | None = None
    frontend: FrontendSpec | None = None
    dependencies: dict[PluginName, RangeText] = Field(default_factory=dict)
    config: dict[ConfigKey, ConfigField] = Field(default_factory=dict)
    events: dict[str, EventSpec] = Field(default_factory=dict)
    #: ``process`` (the default): a child process behind the host's permission checks;
    #: ``inprocess``: inside the host, which needs the ``host.full`` consent.
    runtime: Literal["process", "inprocess"] = "process"
    limits: Limits = Field(default_factory=Limits)
    # Common optional metadata, accepted so manifests written for npm-like tooling keep working.
    homepage: str | None = None
    repository: Annotated[
        str | dict[str, Any] | None,
        _one_error('expected a URL or an object such as {"type": "git", "url": "..."}'),
    ] = None
    license: str | None = None
    keywords: list[str] | None = None
    icon: str | None = None

    @property
    def requested_permissions(self) -> list[str]:
        """What enabling asks the admin to consent to: ``permissions``, plus ``host.full`` for
        an in-process plugin."""
        extra = (
            [HOST_FULL] if self.runtime == "inprocess" and HOST_FULL not in self.permissions else []
        )
        return [*self.permissions, *extra]

    def to_json(self) -> dict[str, Any]:
        """The manifest as ``plugin.json`` spells it (camelCase, unset optional keys left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class ManifestError:
    """One problem, at a JSON path such as ``config.greeting.default`` (``""``: the whole file)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class ManifestResult:
    """The manifest when it is valid, otherwise ``None``; every problem found; and warnings about
    what was accepted for compatibility with the original system (:mod:`.compat`)."""

    manifest: PluginManifest | None
    errors: list[ManifestError] = field(default_factory=list)
    warnings: list[ManifestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.errors


# --- Pydantic errors → ManifestError ---------------------------------------------------------

_MODELS_AT: Final[dict[tuple[str, ...], type[BaseModel]]] = {
    (): PluginManifest,
    ("backend",): BackendSpec,
    ("frontend",): FrontendSpec,
    ("config", "*"): ConfigField,
    ("events", "*"): EventSpec,
    ("limits",): Limits,
}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    shape = parent[:1] + ("*",) * (len(parent) - 1)
    model = _MODELS_AT.get(shape)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _message(err: ErrorDetails, loc: tuple[str, ...]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
        return f"unknown key '{loc[-1]}' ({hint})"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    if kind.endswith("_type") or kind == "literal_error":
        return f"{err['msg']}, got {_show(err['input'])}"
    return err["msg"]


def _from_pydantic(exc: ValidationError) -> Iterator[ManifestError]:
    for err in exc.errors(include_url=False):
        loc = tuple(str(part) for part in err["loc"] if part != "[key]")
        yield ManifestError(".".join(loc), _message(err, loc))


# --- checks that need the folder, the host or exact config paths -----------------------------


def _check_config(raw: dict[str, Any]) -> Iterator[ManifestError]:
    config = raw.get("config")
    if not isinstance(config, dict):
        return
    for key, spec in config.items():
        try:
            parsed = ConfigField.model_validate(spec)
        except ValidationError:
            continue  # already reported with its path by the model
        for sub, message in field_problems(parsed):
            yield ManifestError(f"config.{key}.{sub}", message)


def _entry_problem(entry: str, folder: Path, *, python: bool) -> str | None:
    if "\0" in entry:
        return "must not contain NUL characters"
    if "\\" in entry:
        return f"use '/' to separate folders, got '{entry}'"
    posix = PurePosixPath(entry)
    if posix.is_absolute() or PureWindowsPath(entry).drive:
        return f"must be a path relative to the plugin folder, got absolute path '{entry}'"
    if ".." in posix.parts:
        return (
            f"must not contain '..' (the entry must stay inside the plugin folder), got '{entry}'"
        )
    if python and posix.suffix != ".py":
        return f"must be a Python file ending in .py, got '{entry}'"
    try:
        base = folder.resolve()
        target = (folder / entry).resolve()
        if not target.is_relative_to(base):
            return f"'{entry}' leads outside the plugin folder (through a symlink) to {target}"
        if not target.is_file():
            return (
                f"file not found: '{entry}'" if not target.exists() else f"'{entry}' is not a file"
            )
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (Python 3.11)
        return f"cannot resolve '{entry}': {exc}"
    return None


def _check_entries(raw: dict[str, Any], folder: Path) -> Iterator[ManifestError]:
    for key in ("backend", "frontend"):
        spec = raw.get(key)
        entry = spec.get("entry") if isinstance(spec, dict) else None
        if isinstance(entry, str) and entry:
            problem = _entry_problem(entry, folder, python=key == "backend")
            if problem is None and key == "frontend":
                problem = frontend_files.folder_problem(folder, entry, raw.get("backend"))
            if problem:
                yield ManifestError(f"{key}.entry", problem)


def _check_permissions(raw: dict[str, Any], catalog: Collection[str]) -> Iterator[ManifestError]:
    permissions = raw.get("permissions")
    if not isinstance(permissions, list):
        return
    first_at: dict[str, int] = {}
    valid = sorted(catalog)
    for i, perm in enumerate(permissions):
        if not isinstance(perm, str):
            continue
        if perm in first_at:
            yield ManifestError(
                f"permissions.{i}",
                f"duplicate permission '{perm}' (first at permissions.{first_at[perm]})",
            )
            continue
        first_at[perm] = i
        if perm not in catalog:
            close = difflib.get_close_matches(perm, valid, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            yield ManifestError(
                f"permissions.{i}",
                f"unknown permission '{perm}' ({hint}valid: {', '.join(valid) or 'none'})",
            )


def _check_context(
    raw: dict[str, Any],
    folder: Path,
    host: versioning.Version,
    catalog: Collection[str],
) -> Iterator[ManifestError]:
    name = raw.get("name")
    if isinstance(name, str) and name != folder.name:
        yield ManifestError(
            "name", f"'{name}' does not match the plugin's folder name '{folder.name}'"
        )
    wanted = raw.get("catalystVersion")
    if isinstance(wanted, str):
        try:
            compatible = versioning.parse_range(wanted).match(host)
        except ValueError:
            compatible = True  # a malformed range is already reported by the model
        if not compatible:
            yield ManifestError(
                "catalystVersion",
                f"this plugin needs Catalyst '{wanted}', but this host is version {host}",
            )
    dependencies = raw.get("dependencies")
    if isinstance(name, str) and isinstance(dependencies, dict) and name in dependencies:
        yield ManifestError(f"dependencies.{name}", "a plugin cannot depend on itself")
    yield from _check_permissions(raw, catalog)
    yield from _check_entries(raw, folder)
    yield from _check_config(raw)


# --- entry points ------------------------------------------------------------------------------


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def validate_manifest(
    raw: object, folder: Path, *, host_version: str, permission_catalog: Collection[str]
) -> ManifestResult:
    """Validate a parsed ``plugin.json`` found in ``folder``; every problem is reported at once.

    ``host_version`` must itself be a semantic version (a ValueError otherwise: it is the host's
    bug, not the plugin's).
    """
    host = versioning.parse_version(host_version)
    if not isinstance(raw, dict):
        message = f"{MANIFEST_FILE} must contain a JSON object, got {_json_type(raw)}"
        return ManifestResult(None, [ManifestError("", message)])
    cleaned, notes = compat.normalise(raw, folder, permission_catalog, _allowed_keys)
    manifest: PluginManifest | None = None
    errors: list[ManifestError] = []
    try:
        # by_name=False: plugin.json must use the camelCase keys ("displayName").
        manifest = PluginManifest.model_validate(cleaned, by_name=False)
    except ValidationError as exc:
        errors.extend(_from_pydantic(exc))
    errors.extend(_check_context(cleaned, folder, host, permission_catalog))
    unique = list(dict.fromkeys(errors))
    rank = {key: i for i, key in enumerate(raw)}
    unique.sort(key=lambda e: rank.get(e.path.split(".")[0], -1) if e.path else -2)
    warnings = [ManifestError(path, message) for path, message in notes]
    return ManifestResult(None if unique else manifest, unique, warnings)


def _failed(message: str) -> tuple[None, ManifestResult]:
    return None, ManifestResult(None, [ManifestError("", message)])


def load_manifest(
    folder: Path, *, host_version: str, permission_catalog: Collection[str]
) -> tuple[dict[str, Any] | None, ManifestResult]:
    """Read and validate ``folder/plugin.json``: ``(the raw JSON object or None, the result)``."""
    try:
        # utf-8-sig: tolerate the byte-order mark some Windows editors write.
        text = (folder / MANIFEST_FILE).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return _failed(f"{MANIFEST_FILE} not found")
    except (OSError, UnicodeDecodeError) as exc:
        return _failed(f"cannot read {MANIFEST_FILE}: {exc}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return _failed(f"{MANIFEST_FILE} is not valid JSON: {exc.msg} at {where}")
    except RecursionError:
        return _failed(f"{MANIFEST_FILE} is nested too deeply to read")
    result = validate_manifest(
        raw, folder, host_version=host_version, permission_catalog=permission_catalog
    )
    return (raw if isinstance(raw, dict) else None), result
