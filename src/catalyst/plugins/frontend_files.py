"""Which files of a plugin the browser may load: only its dedicated frontend folder.

The folder of ``frontend.entry`` is served as it is, so it must not be the plugin root (which holds
``plugin.json`` with its defaults, the backend code and perhaps a ``.env``) and must not hold the
backend entry. Inside that folder, hidden files (any path segment starting with ``.``), Python
sources and ``plugin.json`` are never served either.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Final

#: File names and suffixes never served, even inside the frontend folder.
NEVER_SERVED_NAMES: Final = frozenset({"plugin.json"})
NEVER_SERVED_SUFFIXES: Final = frozenset({".py", ".pyc", ".pyo"})


def frontend_folder(plugin_dir: Path, entry: str) -> Path:
    """The folder served for ``entry``: the folder the manifest names, resolved."""
    return (plugin_dir / PurePosixPath(entry).parent).resolve()


def folder_problem(plugin_dir: Path, entry: str, backend: object) -> str | None:
    """Why the folder of a (well-formed, existing) frontend ``entry`` cannot be served, or None.

    ``backend`` is the manifest's raw ``backend`` value."""
    served = frontend_folder(plugin_dir, entry)
    if served == plugin_dir.resolve():
        name = PurePosixPath(entry).name
        return (
            f"'{entry}' is at the plugin root; the browser module must live in a folder of its own"
            f" (for example 'frontend/{name}'), because every file of that folder is served to"
            " the browser and the root holds plugin.json and the backend code"
        )
    try:
        inside = (plugin_dir / entry).resolve().is_relative_to(served)
    except (OSError, RuntimeError):  # reported by the entry's own checks
        inside = True
    if not inside:
        return f"'{entry}' leads out of its own folder (through a symlink), so it cannot be served"
    backend_entry = backend.get("entry") if isinstance(backend, dict) else None
    if not isinstance(backend_entry, str) or not backend_entry or "\0" in backend_entry:
        return None
    try:
        shared = (plugin_dir / backend_entry).resolve().is_relative_to(served)
    except (OSError, RuntimeError):  # reported at backend.entry
        return None
    if shared:
        return (
            f"the folder of '{entry}' also holds the backend entry '{backend_entry}'; every file"
            " of that folder is served to the browser, so give the browser module its own folder"
            " (for example 'frontend/')"
        )
    return None


def _hidden_or_private(parts: tuple[str, ...]) -> bool:
    if not parts:
        return True
    if any(part.startswith(".") for part in parts):
        return True  # .env, .git/…, and "..": never served, never followed
    name = parts[-1]
    return name in NEVER_SERVED_NAMES or PurePosixPath(name).suffix in NEVER_SERVED_SUFFIXES


def served_file(plugin_dir: Path, entry: str, path: str) -> Path | None:
    """The file the browser asked for as ``path`` in the frontend folder, or None (a 404)."""
    if "\0" in path or "\\" in path:
        return None
    wanted = PurePosixPath(path)
    if wanted.is_absolute() or _hidden_or_private(wanted.parts):
        return None
    try:
        base = frontend_folder(plugin_dir, entry)
        if base == plugin_dir.resolve():
            return None  # a manifest error as well; never serve the plugin root
        target = (base / wanted).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return None
    except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop (Python 3.11)
        return None
    if _hidden_or_private(target.relative_to(base).parts):
        return None  # a symlink named like a module that points at a hidden or private file
    return target
