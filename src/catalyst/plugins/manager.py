"""PluginManager: the public operations on plugins, each built from the registry's steps.

Start, stop, rescan, enable, disable, reload, permission and config changes. Each plugin's
operations are serialised by its own lock, and every operation that can change whether a
dependency is met ends with a dependency recheck. The steps themselves (load, enable, disable,
unload; prepare, swap, retire a generation) live in :mod:`catalyst.plugins.registry`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from catalyst.errors import BadRequest, Conflict
from catalyst.log import get_logger
from catalyst.plugins import (
    dependencies,
    dependency_recheck,
    grants,
    persistence,
    reloading,
    scanning,
)
from catalyst.plugins.lifecycle import HookFailed
from catalyst.plugins.logs import PluginLogger
from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.plugins.process.restarts import Restarter
from catalyst.plugins.process.status import ExitInfo
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.registry import PluginRegistry
from catalyst.plugins.state import PluginState, check_transition

log = get_logger("plugins.manager")
S = PluginState


class PluginManager(PluginRegistry):
    """The registry of plugins with its public, locked operations."""

    def _connect(self) -> None:
        self.config.on_change = self._config_changed
        self.state_listeners.append(self._announce)
        self._rescan_lock = asyncio.Lock()
        self._recheck_lock = asyncio.Lock()
        self.restarts = Restarter(self)
        self._background: set[asyncio.Task[float]] = set()
        #: ``notify(kind, data)``: tell the other instances of the cluster to look again (the
        #: backplane's ``publish``; a no-op for one instance). Kinds: ``plugin.changed``
        #: ``{"name"}`` (state, grants, config: re-read the row), ``plugin.reload`` ``{"name",
        #: "actor"}``, ``plugins.rescan`` ``{}``.
        self.notify: Callable[[str, dict[str, Any]], None] = lambda kind, data: None

    def unavailable(self, name: str) -> str | None:
        """Why a plugin without a published table does not serve (None: no such plugin)."""
        record = self.records.get(name)
        if record is None:
            return None
        if record.state is S.ERROR:
            return "Plugin is unavailable: it is in error"
        if record.state is S.RESTARTING:
            return "Plugin is restarting: its process ended and a new one is starting"
        return "Plugin is disabled"

    # -- start and stop ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.scheduler.start()
        await self.rescan()

    async def stop(self) -> None:
        await self.restarts.stop()
        order = dependencies.load_order(self.graph())
        for name in reversed(order):
            record = self.records.get(name)
            if record is not None:
                async with record.lock:
                    await self.unload(record, persist=False)
        await self.scheduler.stop()

    async def rescan(self, *, everywhere: bool = False) -> dict[str, list[str]]:
        """Pick up new plugin folders and forget removed ones; returns both lists.

        One rescan at a time (the watcher and the admin API may ask together). ``everywhere``:
        the other instances of the cluster rescan too (the admin's rescan)."""
        async with self._rescan_lock:
            found = await scanning.rescan(self, self.recheck_dependencies)
        if everywhere:
            self.notify("plugins.rescan", {})
        return found

    async def recheck_dependencies(self) -> None:
        """Stop plugins whose dependencies are no longer met; bring back those met again."""
        async with self._recheck_lock:
            await dependency_recheck.recheck(self)

    # -- the operations ----------------------------------------------------------------------

    async def enable(self, name: str, actor: str = "system") -> None:
        """The admin's enable: ``actor`` consents to every permission the plugin requests."""
        record = self.get(name)
        try:
            async with record.lock:
                if record.state is S.RESTARTING:
                    raise Conflict(
                        f"Cannot enable plugin {name!r}: it is restarting after its process "
                        "ended; it comes back in the state it had (disable it to stop that)"
                    )
                check_transition(name, record.state, S.ENABLED)
                dependency_recheck.require_met(self, record)
                await self.enable_loaded(record, consent_by=actor)
                if record.state is S.ERROR:
                    raise BadRequest(f"Plugin {name!r} failed to enable: {record.error}")
            self.notify("plugin.changed", {"name": name})
        finally:
            await self.recheck_dependencies()

    async def disable(self, name: str) -> str | None:
        """Disable ``name``; returns the exit hook's failure (the plugin is disabled anyway)."""
        record = self.get(name)
        async with record.lock:
            if record.state is S.ERROR and record.dependency_problem is not None:
                # Stopped by a dependency already: only forget that it should come back enabled.
                await persistence.save_enabled(self.db, record, False)
                self.notify("plugin.changed", {"name": name})
                return None
            check_transition(name, record.state, S.DISABLED)
            dependency_recheck.require_unused(self, name)
            failure = await self.disable_enabled(record, persist=True)
        self.notify("plugin.changed", {"name": name})
        await self.recheck_dependencies()
        return failure.message if failure else None

    async def reload(self, name: str, actor: str = "system", *, everywhere: bool = False) -> float:
        """Reload from disk atomically (prepare the new generation, swap the published table,
        retire the old one); see :mod:`catalyst.plugins.reloading`. Returns milliseconds.
        ``everywhere``: once it succeeded here, the other instances reload it too (the admin's
        reload; a file watcher's reload is each instance's own)."""
        if self.get(name).state is S.RESTARTING:
            raise Conflict(
                f"Cannot reload plugin {name!r}: it is restarting, and its new process loads the "
                "files as they are now"
            )
        try:
            took = await reloading.reload(self, name, actor)
            if everywhere:
                self.notify("plugin.reload", {"name": name, "actor": actor})
            return took
        finally:
            await self.recheck_dependencies()

    async def change_permissions(
        self, name: str, grant: Iterable[str], revoke: Iterable[str], actor: str
    ) -> None:
        """An admin grants (consents to) or revokes permissions the plugin requests."""
        record = self.get(name)
        async with record.lock:
            await grants.change(self.db, record, grant, revoke, actor)
            outdated = self.sandbox_outdated(record)
        self.notify("plugin.changed", {"name": name})
        if outdated:  # a new child, sandboxed for the new grants (a reload keeps serving)
            await self.reload(name, actor)

    def child_exited(self, record: PluginRecord, gen: ProcessGeneration, info: ExitInfo) -> None:
        self.restarts.exited(record, gen, info)

    # -- config and events -------------------------------------------------------------------

    async def update_config(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.get(name)
        return await self.config.update(name, changes)

    async def _config_changed(self, name: str, changes: dict[str, Any]) -> None:
        self.notify("plugin.changed", {"name": name})
        await self.announce("plugin:configured", {"name": name, "keys": sorted(changes)})
        await self.config_applied(name, changes)

    async def config_applied(self, name: str, changes: dict[str, Any]) -> None:
        """Config values changed (here or, read from the database, on another instance): the
        loaded generation gets ``on_config_change``, or a new child when its environment
        changed."""
        record = self.records.get(name)
        gen = record.instance if record else None
        if gen is None:
            return
        if record is not None and self.sandbox_outdated(record):
            # a value the child gets in its environment changed: a new child (reload) sees it
            task = asyncio.get_running_loop().create_task(self.reload(name, "system:config"))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        try:
            await self.hook(gen, "on_config_change", changes)
        except HookFailed as exc:
            if record is not None:
                PluginLogger(name, record.logs).error(exc.message)

    async def _announce(self, record: PluginRecord, old: PluginState, new: PluginState) -> None:
        log.info("plugin_state", plugin=record.name, old=old.value, new=new.value)
        if new in (S.LOADED, S.ENABLED, S.DISABLED, S.ERROR, S.UNLOADED, S.RESTARTING):
            data: dict[str, Any] = {"name": record.name, "from": old.value, "to": new.value}
            if new is S.ERROR:
                data["error"] = record.error
            await self.announce(f"plugin:{new.value}", data)
