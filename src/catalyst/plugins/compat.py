"""Manifests written for the original system keep working, with warnings instead of errors.

The original validated ``plugin.json`` with Zod, which silently dropped keys it did not know, and
its permissions had other names. Before our manifest model sees a ``plugin.json``,
:func:`normalise` rewrites what the original accepted into what we accept and says what it did:

* an unknown key (``frontend.hasTabs``, ``main``, a typo) is dropped with a warning, which names
  the key it probably meant;
* a ``frontend`` without ``entry`` (the original's ``{"hasTabs": true}``) is dropped: no module;
* a JavaScript ``backend.entry`` (``backend/index.js``) becomes its Python port beside it
  (``backend/index.py``) when that file exists;
* a permission of the original maps to ours (:data:`ORIGINAL_PERMISSIONS`); one we do not know
  is ignored, and a repeated one is requested once.

Warnings are shown by the admin API (``warnings``), the UI's problem list and ``catalyst plugin
validate``; they never stop a plugin. Bare config defaults are handled by the config schema
(:mod:`catalyst.plugins.config_schema`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Final

from catalyst.plugins.config_schema import is_field_spec

__all__ = ["ORIGINAL_PERMISSIONS", "Problem", "normalise"]

Problem = tuple[str, str]  # (JSON path, message)
AllowedKeys = Callable[[tuple[str, ...]], list[str]]

#: The original system's permission names → ours (auth/permissions.py has no finer grain:
#: console output and server files belong to ``server.read``/``server.write``).
ORIGINAL_PERMISSIONS: Final[Mapping[str, str]] = {
    "console.read": "server.read",
    "console.write": "server.write",
    "server.view": "server.read",
    "server.start": "server.write",
    "server.stop": "server.write",
    "server.restart": "server.write",
    "server.create": "server.write",
    "server.delete": "server.write",
    "server.install": "server.write",
    "server.update": "server.write",
    "file.read": "server.read",
    "file.write": "server.write",
    "files.read": "server.read",
    "files.write": "server.write",
    "users.read": "user.read",
    "users.write": "user.write",
    "user.view": "user.read",
}

#: Keys the original knew, and why ours does without them.
_KNOWN_ORIGINAL_KEYS: Final[Mapping[str, str]] = {
    "frontend.hasTabs": "tabs are what the frontend module exports",
    "frontend.hasComponents": "components are what the frontend module exports",
}
_SCRIPT_SUFFIXES: Final = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")


class _Normaliser:
    def __init__(self, folder: Path, catalog: Collection[str], allowed: AllowedKeys) -> None:
        self.folder = folder
        self.catalog = catalog
        self.allowed = allowed
        self.warnings: list[Problem] = []

    def warn(self, path: str, message: str) -> None:
        self.warnings.append((path, message))

    def strip(self, obj: dict[str, Any], parent: tuple[str, ...]) -> dict[str, Any]:
        """``obj`` without the keys the model at ``parent`` does not know, each warned about."""
        keys = self.allowed(parent)
        kept: dict[str, Any] = {}
        for key, value in obj.items():
            if key in keys:
                kept[key] = value
                continue
            path = ".".join((*parent, key))
            reason = _KNOWN_ORIGINAL_KEYS.get(path)
            if reason is None:
                close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
                reason = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(keys)
            self.warn(path, f"unknown key '{key}' ignored ({reason})")
        return kept

    def frontend(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        spec = self.strip(spec, ("frontend",))
        if "entry" in spec:
            return spec
        self.warn("frontend", "no 'entry' given: the plugin has no frontend module")
        return None

    def backend(self, spec: dict[str, Any]) -> dict[str, Any]:
        spec = self.strip(spec, ("backend",))
        entry = spec.get("entry")
        if isinstance(entry, str) and entry.endswith(_SCRIPT_SUFFIXES) and "\0" not in entry:
            port = PurePosixPath(entry).with_suffix(".py").as_posix()
            if (self.folder / port).is_file():
                self.warn(
                    "backend.entry",
                    f"'{entry}' is the original system's JavaScript entry: using its Python "
                    f"port '{port}'",
                )
                spec = {**spec, "entry": port}
        return spec

    def permissions(self, requested: list[Any]) -> list[Any]:
        out: list[Any] = []
        valid = sorted(self.catalog)
        for i, perm in enumerate(requested):
            path = f"permissions.{i}"
            if not isinstance(perm, str):
                out.append(perm)  # the model reports it with its type
                continue
            ours = perm if perm in self.catalog else ORIGINAL_PERMISSIONS.get(perm)
            if ours is None or ours not in self.catalog:
                close = difflib.get_close_matches(perm, valid, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                known = ", ".join(valid) or "none"
                self.warn(path, f"unknown permission '{perm}' ignored ({hint}known: {known})")
                continue
            if ours != perm:
                self.warn(path, f"'{perm}' is the original system's name: requested as '{ours}'")
            if ours in out:
                if ours == perm:
                    self.warn(path, f"duplicate permission '{perm}' ignored")
                continue
            out.append(ours)
        return out

    def each(
        self, table: dict[str, Any], section: str, clean: Callable[[Any], bool]
    ) -> dict[str, Any]:
        return {
            key: self.strip(value, (section, key)) if clean(value) else value
            for key, value in table.items()
        }

    def run(self, raw: dict[str, Any]) -> dict[str, Any]:
        out = self.strip(raw, ())
        if isinstance(out.get("backend"), dict):
            out["backend"] = self.backend(out["backend"])
        if isinstance(out.get("frontend"), dict):
            frontend = self.frontend(out["frontend"])
            if frontend is None:
                del out["frontend"]
            else:
                out["frontend"] = frontend
        if isinstance(out.get("permissions"), list):
            out["permissions"] = self.permissions(out["permissions"])
        if isinstance(out.get("config"), dict):
            out["config"] = self.each(out["config"], "config", is_field_spec)
        if isinstance(out.get("events"), dict):
            out["events"] = self.each(out["events"], "events", lambda v: isinstance(v, dict))
        return out


def normalise(
    raw: dict[str, Any], folder: Path, catalog: Collection[str], allowed: AllowedKeys
) -> tuple[dict[str, Any], list[Problem]]:
    """``raw`` rewritten into what the manifest model accepts, and a warning per rewrite.

    ``allowed(parent)`` lists the keys the model knows at a JSON path (``()``, ``("backend",)``,
    ``("config", "<key>")`` …). ``raw`` itself is not changed.
    """
    normaliser = _Normaliser(folder, catalog, allowed)
    return normaliser.run(raw), normaliser.warnings
