"""Hot reload: watch ``PLUGINS_DIR`` and reload the plugin whose files changed.

A change to any file of a plugin, at any depth, reloads that plugin; a new folder with a
``plugin.json`` is discovered and listed; a deleted folder is unloaded and forgotten. Changes
are grouped: watchfiles yields once no further change came for ``step_ms``, so an editor saving
several files causes one reload. Changes arriving while a plugin reloads cause exactly one more
reload after it. Caches, bytecode and editor swap files are ignored.

Every reload the watcher starts is audited as ``plugin.reload`` by
:data:`catalyst.audit.WATCHER`, with ``ok`` and, when it failed, the ``error``; a folder added or
removed is audited as ``plugin.rescan`` with what was found and forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from watchfiles import Change, DefaultFilter, awatch

from catalyst import audit
from catalyst.errors import CatalystError
from catalyst.log import get_logger
from catalyst.plugins.manifest import MANIFEST_FILE

log = get_logger("plugins.watcher")


class _Filter(DefaultFilter):
    ignore_dirs = (*DefaultFilter.ignore_dirs, "node_modules", ".cache")
    ignore_entity_patterns = (
        *DefaultFilter.ignore_entity_patterns,
        r"^\.#",  # emacs lock files
        r"^4913$",  # vim's write test file
        r".*\.tmp$",
    )


class Plugins(Protocol):
    """What the watcher asks of the plugin manager: its public operations only."""

    @property
    def records(self) -> Mapping[str, object]: ...

    async def reload(self, name: str, actor: str = ...) -> float: ...

    async def rescan(self) -> dict[str, list[str]]: ...


class PluginWatcher:
    def __init__(
        self,
        manager: Plugins,
        db: async_sessionmaker[AsyncSession],
        root: Path,
        *,
        step_ms: int = 30,
    ) -> None:
        self.manager = manager
        self.db = db
        self.root = root.resolve()
        self.step_ms = step_ms
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._pending: set[str] = set()
        self._busy: set[str] = set()
        self._workers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready), name="plugin-watcher")
        await ready.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for worker in list(self._workers):
            worker.cancel()
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)

    async def _run(self, ready: asyncio.Event) -> None:
        watcher = awatch(
            self.root,
            watch_filter=_Filter(),
            step=self.step_ms,
            debounce=1000,
            stop_event=self._stop,
            recursive=True,
            yield_on_timeout=False,
        )
        ready.set()
        try:
            async for changes in watcher:
                self.handle(changes)
        except Exception:  # the watcher itself failed: hot reload stops, the host goes on
            log.exception("plugin_watcher_failed")

    def handle(self, changes: Iterable[tuple[Change, str]]) -> None:
        """Group a batch of changed paths by plugin folder and schedule one action each."""
        folders: set[str] = set()
        for _change, raw in changes:
            try:
                rel = Path(raw).resolve().relative_to(self.root)
            except ValueError:
                continue
            if rel.parts:
                folders.add(rel.parts[0])
        for name in sorted(folders):
            if name in self._busy:
                self._pending.add(name)
            else:
                self._spawn(name)

    def _spawn(self, name: str) -> None:
        self._busy.add(name)
        worker = asyncio.create_task(self._apply(name), name=f"hot-reload {name}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _apply(self, name: str) -> None:
        try:
            while True:
                self._pending.discard(name)
                await self._one(name)
                if name not in self._pending:
                    return
        finally:
            self._busy.discard(name)

    async def _one(self, name: str) -> None:
        folder = self.root / name
        known = name in self.manager.records
        exists = (folder / MANIFEST_FILE).is_file()
        reloading = known and exists
        started = time.perf_counter()
        error: str | None = None
        try:
            if reloading:
                await self.manager.reload(name)
            elif known or exists:
                changes = await self.manager.rescan()
                await self._record("plugin.rescan", name, **changes)
        except CatalystError as exc:  # a failed reload keeps the old version; it is visible
            error = exc.message
            log.warning("hot_reload_failed", plugin=name, error=exc.message)
        except Exception as exc:  # never let one plugin's trouble stop the watcher
            error = f"{type(exc).__name__}: {exc}"
            log.exception("hot_reload_crashed", plugin=name)
        if reloading:
            await self._audit(name, error, time.perf_counter() - started)

    async def _audit(self, name: str, error: str | None, seconds: float) -> None:
        details: dict[str, object] = {"ok": error is None, "durationMs": round(seconds * 1000, 2)}
        if error is not None:
            details["error"] = error[:1000]
        await self._record("plugin.reload", name, **details)

    async def _record(self, action: str, name: str, **details: object) -> None:
        try:
            await audit.record(self.db, audit.WATCHER, action, name, **details)
        except Exception:  # the database is down: the change happened all the same
            log.exception("hot_reload_audit_failed", plugin=name, action=action)
