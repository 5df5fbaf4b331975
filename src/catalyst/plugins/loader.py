"""Import a plugin's code under a private package name, and forget it again on unload.

Each load gets a fresh package ``_catalyst_plugins.<name>_<n>``: two plugins that both ship a
``utils.py`` never collide, relative imports inside a plugin work, and a reload executes every
module of the plugin again (the old generation's modules are never reused). Sources are compiled
from disk on every import, so a file rewritten within the same second is never served from a
stale ``.pyc``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import itertools
import sys
import threading
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Final

ROOT: Final = "_catalyst_plugins"
_counter = itertools.count(1)
_lock = threading.Lock()


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles from source each time; never reads or writes bytecode caches."""

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        return compile(source, path, "exec", dont_inherit=True)


class _NamespaceLoader(importlib.abc.Loader):
    """A package with no ``__init__.py``: nothing to execute."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _PluginFinder(importlib.abc.MetaPathFinder):
    """Finds modules under ``_catalyst_plugins.<pkg>`` inside the folder registered for ``pkg``."""

    def __init__(self) -> None:
        self.roots: dict[str, Path] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        parts = fullname.split(".")
        if parts[0] != ROOT:
            return None
        if len(parts) == 1:
            return _package_spec(fullname, None)
        folder = self.roots.get(parts[1])
        if folder is None:
            return None
        here = folder.joinpath(*parts[2:])
        if len(parts) == 2 or (here.is_dir() and not (here / "__init__.py").is_file()):
            return _package_spec(fullname, here) if here.is_dir() else None
        init = here / "__init__.py"
        if init.is_file():
            return importlib.util.spec_from_file_location(
                fullname,
                init,
                loader=_SourceLoader(fullname, str(init)),
                submodule_search_locations=[str(here)],
            )
        module_file = here.with_suffix(".py")
        if module_file.is_file():
            return importlib.util.spec_from_file_location(
                fullname, module_file, loader=_SourceLoader(fullname, str(module_file))
            )
        return None


def _package_spec(fullname: str, folder: Path | None) -> importlib.machinery.ModuleSpec:
    spec = importlib.machinery.ModuleSpec(fullname, _NamespaceLoader(), is_package=True)
    spec.submodule_search_locations = [str(folder)] if folder else []
    return spec


_finder = _PluginFinder()
#: package key (``example_plugin_3``) → plugin name, for the generations currently imported.
_owners: dict[str, str] = {}


def plugin_of_module(module_name: str) -> str | None:
    """The plugin whose code ``module_name`` is (``_catalyst_plugins.<key>...``), if any."""
    parts = module_name.split(".", 2)
    if len(parts) < 2 or parts[0] != ROOT:
        return None
    return _owners.get(parts[1])


def _install_finder() -> None:
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


class LoadedCode:
    """One generation of a plugin's code, importable until :meth:`forget` is called."""

    def __init__(self, plugin_name: str, folder: Path, package: str) -> None:
        self.plugin_name = plugin_name
        self.folder = folder
        self.package = package  # e.g. _catalyst_plugins.example_plugin_3

    def module_names(self) -> list[str]:
        prefix = self.package + "."
        return [m for m in list(sys.modules) if m == self.package or m.startswith(prefix)]

    def forget(self) -> None:
        """Drop every module of this generation: from ``sys.modules``, from the finder, and from
        the root package, where importlib set it as an attribute (which would keep the whole
        generation alive)."""
        for name in self.module_names():
            sys.modules.pop(name, None)
        key = self.package.split(".", 1)[1]
        root = sys.modules.get(ROOT)
        if root is not None and key in vars(root):
            delattr(root, key)
        with _lock:
            _finder.roots.pop(key, None)
            _owners.pop(key, None)


def entry_module_name(entry: str) -> str:
    """``backend/plugin.py`` → ``backend.plugin``; ``backend/__init__.py`` → ``backend``."""
    parts = list(Path(entry).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_plugin(
    plugin_name: str, folder: Path, entry: str
) -> tuple[LoadedCode, types.ModuleType]:
    """Import ``entry`` (relative to ``folder``) as a fresh generation of ``plugin_name``.

    On failure nothing of the new generation stays in ``sys.modules``; the exception propagates.
    """
    _install_finder()
    key = f"{plugin_name.replace('-', '_')}_{next(_counter)}"
    package = f"{ROOT}.{key}"
    with _lock:
        _finder.roots[key] = folder.resolve()
        _owners[key] = plugin_name
    code = LoadedCode(plugin_name, folder, package)
    importlib.invalidate_caches()
    try:
        module_name = entry_module_name(entry)
        module = importlib.import_module(f"{package}.{module_name}" if module_name else package)
    except BaseException:
        code.forget()
        raise
    return code, module
