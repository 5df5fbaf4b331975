"""PluginManager: the public operations on plugins, each built from the registry's steps.

Start, stop, rescan, enable, disable, reload, permission and config changes. Each plugin's
operations are serialised by its own lock, and every operation that can change whether a
dependency is met ends with a dependency recheck. The steps themselves (load, enable, disable,
unload; prepare, swap, retire a generation) live in :mod:`catalyst.plugins.registry`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
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

    async def rescan(self) -> dict[str, list[str]]:
        """Pick up new plugin folders and forget removed ones; returns both lists.

        One rescan at a time (the watcher and the admin API may ask together)."""
        async with self._rescan_lock:
            return await scanning.rescan(self, self.recheck_dependencies)

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
        finally:
            await self.recheck_dependencies()

    async def disable(self, name: str) -> str | None:
        """Disable ``name``; returns the exit hook's failure (the plugin is disabled anyway)."""
        record = self.get(name)
        async with record.lock:
            if record.state is S.ERROR and record.dependency_problem is not None:
                # Stopped by a dependency already: only forget that it should come back enabled.
                await persistence.save_enabled(self.db, record, False)
                return None
            check_transition(name, record.state, S.DISABLED)
            dependency_recheck.require_unused(self, name)
            failure = await self.disable_enabled(record, persist=True)
        await self.recheck_dependencies()
        return failure.message if failure else None

    async def reload(self, name: str, actor: str = "system") -> float:
        """Reload from disk atomically (prepare the new generation, swap the published table,
        retire the old one); see :mod:`catalyst.plugins.reloading`. Returns milliseconds."""
        if self.get(name).state is S.RESTARTING:
            raise Conflict(
                f"Cannot reload plugin {name!r}: it is restarting, and its new process loads the "
                "files as they are now"
            )
        try:
            return await reloading.reload(self, name, actor)
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
        if outdated:  # a new child, sandboxed for the new grants (a reload keeps serving)
            await self.reload(name, actor)

    def child_exited(self, record: PluginRecord, gen: ProcessGeneration, info: ExitInfo) -> None:
        self.restarts.exited(record, gen, info)

    # -- config and events -------------------------------------------------------------------

    async def update_config(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.get(name)
        return await self.config.update(name, changes)

    async def _config_changed(self, name: str, changes: dict[str, Any]) -> None:
        await self.host.bus.emit(
            "plugin:configured", {"name": name, "keys": sorted(changes)}, source="core"
        )
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
            await self.host.bus.emit(f"plugin:{new.value}", data, source="core")
