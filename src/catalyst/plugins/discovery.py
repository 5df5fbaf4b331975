"""Find plugin folders and read their manifests, without importing any plugin code.

Every direct subfolder of the plugins directory that holds a ``plugin.json`` becomes a
:class:`PluginSource`, valid or not: an invalid plugin is still listed, with all its problems, so
the admin can see why it does not load.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalyst.plugins.manifest import MANIFEST_FILE, ManifestError, PluginManifest, load_manifest

__all__ = ["PluginSource", "discover", "discover_one"]

_SKIPPED = frozenset({"__pycache__", "node_modules"})


@dataclass
class PluginSource:
    """One plugin folder as found on disk: its raw manifest, the validated one, and problems.

    ``name`` is the folder name (a valid manifest's ``name`` always equals it). ``manifest`` is
    set only when there are no errors; ``raw`` is the parsed JSON object whenever it could be read.
    """

    name: str
    path: Path
    raw: dict[str, Any] | None
    manifest: PluginManifest | None
    errors: list[ManifestError] = field(default_factory=list)
    #: What was accepted only for compatibility with the original system; never fatal.
    warnings: list[ManifestError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.errors

    @property
    def error_message(self) -> str | None:
        """The first problem as ``path: message``, plus how many more there are; None if valid."""
        if not self.errors:
            return None
        first = str(self.errors[0])
        more = len(self.errors) - 1
        return f"{first} (and {more} more)" if more else first


def discover_one(
    folder: Path, *, host_version: str, permission_catalog: Collection[str]
) -> PluginSource:
    """Read and validate the plugin in ``folder``."""
    raw, result = load_manifest(
        folder, host_version=host_version, permission_catalog=permission_catalog
    )
    return PluginSource(
        folder.name, folder, raw, result.manifest, list(result.errors), list(result.warnings)
    )


def _is_candidate(entry: Path) -> bool:
    if entry.name.startswith(".") or entry.name in _SKIPPED:
        return False
    try:
        return entry.is_dir() and (entry / MANIFEST_FILE).is_file()
    except OSError:  # unreadable folder, broken or looping symlink: not a plugin we can see
        return False


def discover(
    plugins_dir: Path, *, host_version: str, permission_catalog: Collection[str]
) -> list[PluginSource]:
    """Every plugin under ``plugins_dir``, sorted by name; ``[]`` when the folder does not exist.

    Hidden folders, ``__pycache__`` and ``node_modules`` are skipped, and so are folders without
    a ``plugin.json``.
    """
    try:
        entries = sorted(plugins_dir.iterdir(), key=lambda p: p.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        discover_one(entry, host_version=host_version, permission_catalog=permission_catalog)
        for entry in entries
        if _is_candidate(entry)
    ]
