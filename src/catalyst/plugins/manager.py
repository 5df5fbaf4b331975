"""PluginManager: the registry of plugins and every lifecycle operation on them.

Each plugin's operations are serialised by its own lock. State changes go through
``lifecycle.set_state`` only. A plugin's failure becomes its ``error`` state; nothing here lets a
plugin exception reach the caller except as a 4xx refusal for the admin API.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from catalyst.cancellation import host_cancelled
from catalyst.errors import BadRequest, NotFound, describe
from catalyst.log import get_logger
from catalyst.plugins import (
    dependencies,
    dependency_recheck,
    executor,
    grants,
    persistence,
    scanning,
)
from catalyst.plugins.config import ConfigStore, Schema
from catalyst.plugins.context import PluginContext, PluginHost
from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.dispatcher import Dispatcher
from catalyst.plugins.instance import PluginInstance, resolve_hooks
from catalyst.plugins.lifecycle import (
    HookFailed,
    StateListener,
    ThreadWatch,
    call_hook,
    set_state,
)
from catalyst.plugins.loader import import_plugin
from catalyst.plugins.logs import PluginLogger
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.routing import build_table
from catalyst.plugins.scheduler import Scheduler
from catalyst.plugins.state import PluginState, check_transition
from catalyst.services import Services

log = get_logger("plugins.manager")
S = PluginState


class PluginManager:
    def __init__(
        self,
        services: Services,
        dispatcher: Dispatcher,
        scheduler: Scheduler,
        host: PluginHost,
        *,
        hook_timeout: float = 10.0,
        auto_enable: Iterable[str] = (),
    ) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.scheduler = scheduler
        self.host = host
        self.hook_timeout = hook_timeout
        self.auto_enable = frozenset(auto_enable)
        self.records: dict[str, PluginRecord] = {}
        self.config: ConfigStore = host.config
        self.config.on_change = self._config_changed
        self.state_listeners: list[StateListener] = [self._announce]
        #: Called with (plugin, record) for every log record a plugin writes.
        self.log_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._generation = 0
        self._rescan_lock = asyncio.Lock()
        self._recheck_lock = asyncio.Lock()
        dispatcher.unavailable = self._unavailable

    # -- queries -----------------------------------------------------------------------------

    def get(self, name: str) -> PluginRecord:
        record = self.records.get(name)
        if record is None:
            raise NotFound("Plugin not found")
        return record

    def schema_of(self, name: str) -> Schema | None:
        record = self.records.get(name)
        if record is None:
            return None
        manifest = record.source.manifest
        return manifest.config if manifest else {}

    def graph(self) -> dict[str, dict[str, str]]:
        return {
            n: dict(r.source.manifest.dependencies) if r.source.manifest else {}
            for n, r in self.records.items()
        }

    def _unavailable(self, name: str) -> str | None:
        record = self.records.get(name)
        if record is None:
            return None
        if record.state is S.ERROR:
            return "Plugin is unavailable: it is in error"
        return "Plugin is disabled"

    # -- start and stop ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.scheduler.start()
        await self.rescan()

    async def stop(self) -> None:
        order = dependencies.load_order(self.graph())
        for name in reversed(order):
            record = self.records.get(name)
            if record is not None:
                async with record.lock:
                    await self._unload(record, persist=False)
        await self.scheduler.stop()

    async def rescan(self) -> dict[str, list[str]]:
        """Pick up new plugin folders and forget removed ones; returns both lists.

        One rescan at a time (the watcher and the admin API may ask together)."""
        async with self._rescan_lock:
            return await scanning.rescan(self)

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
                check_transition(name, record.state, S.ENABLED)
                dependency_recheck.require_met(self, record)
                await self._enable(record, consent_by=actor)
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
                await persistence.save_enabled(self.services.db, record, False)
                return None
            check_transition(name, record.state, S.DISABLED)
            dependency_recheck.require_unused(self, name)
            failure = await self._disable(record, persist=True)
        await self.recheck_dependencies()
        return failure.message if failure else None

    async def change_permissions(
        self, name: str, grant: Iterable[str], revoke: Iterable[str], actor: str
    ) -> None:
        """An admin grants (consents to) or revokes permissions the plugin requests."""
        record = self.get(name)
        async with record.lock:
            await grants.change(self, record, grant, revoke, actor)

    async def _try_enable(self, record: PluginRecord) -> None:
        """Enable at start or recovery, only when the dependencies are met and enabled."""
        if dependency_recheck.problem_of(self, record, enabled=True) is None:
            await self._enable(record)

    async def _load(self, record: PluginRecord) -> None:
        manifest = record.source.manifest
        if manifest is None:
            return
        if manifest.backend is None:
            record.loaded_at = datetime.now(UTC)
            await set_state(record, S.LOADED, self.state_listeners)
            return
        try:
            instance = await self._new_instance(record)
        except HookFailed as exc:
            await set_state(
                record, S.ERROR, self.state_listeners, error=exc.message, detail=exc.detail
            )
            return
        record.instance = instance
        record.loaded_at = datetime.now(UTC)
        await set_state(record, S.LOADED, self.state_listeners)

    async def _new_instance(
        self, record: PluginRecord, source: PluginSource | None = None
    ) -> PluginInstance:
        """Import a fresh generation and run its ``on_load``; raises HookFailed."""
        source = source or record.source
        manifest = source.manifest
        assert manifest is not None
        assert manifest.backend is not None
        entry = manifest.backend.entry
        if problem := self.config.problem(record.name):  # secrets no key opens
            raise HookFailed(record.name, "config", problem, "")
        watch = ThreadWatch(record.name, "import", import_plugin)
        try:
            async with asyncio.timeout(self.hook_timeout):
                code, module = await executor.run_import(watch, record.name, source.path, entry)
            try:
                hooks = resolve_hooks(module)  # may instantiate the plugin's class
            except BaseException:
                code.forget()
                raise
        except TimeoutError as exc:
            watch.timed_out(self._overruns(record.name), self.hook_timeout)
            raise HookFailed(record.name, "import", "timed out", "") from exc
        except BaseException as exc:  # anything the module raises, sys.exit included
            if host_cancelled(exc):
                raise
            raise HookFailed(record.name, "import", describe(exc), traceback.format_exc()) from exc
        self._generation += 1
        instance = PluginInstance(
            name=record.name,
            code=code,
            module=module,
            hooks=hooks,
            generation=self._generation,
            scheduler=self.scheduler,
        )
        instance.on_routes_changed = self._publish
        logger = PluginLogger(record.name, record.logs)
        logger.on_record.extend(self.log_listeners)
        instance.ctx = PluginContext(instance, manifest, self.host, logger)
        try:
            await self._hook(instance, "on_load")
        except HookFailed:
            await instance.release_all()
            raise
        return instance

    def _overruns(self, name: str) -> list[dict[str, Any]] | None:
        record = self.records.get(name)
        return record.overruns if record else None

    async def _hook(self, instance: PluginInstance, hook: str, *extra: Any) -> None:
        await call_hook(
            instance.name,
            instance.hooks,
            hook,
            instance.ctx,
            *extra,
            timeout_s=self.hook_timeout,
            overruns=self._overruns(instance.name),
        )

    def _publish(self, instance: PluginInstance) -> None:
        record = self.records.get(instance.name)
        if record is None or record.instance is not instance or not instance.active:
            return
        self.dispatcher.set(
            build_table(
                instance.name,
                instance.routes,
                instance.middleware,
                "http.public" in record.granted,
            )
        )

    async def _run_enable(self, instance: PluginInstance) -> None:
        """``on_enable`` of a not-yet-live instance; on failure its enable ledger is released."""
        instance.phase = "enable"
        try:
            await self._hook(instance, "on_enable")
        except HookFailed:
            await instance.release_enabled()
            raise

    async def _enable(self, record: PluginRecord, consent_by: str | None = None) -> None:
        """Enable; ``consent_by`` grants all requested permissions, else only those kept."""
        manifest = record.source.manifest
        assert manifest is not None
        if consent_by is not None:
            await grants.apply(self, record, grants.requested(record), consent_by)
        else:
            await grants.apply(self, record, grants.kept(record), grants.SYSTEM)
        instance = record.instance
        if instance is not None:
            try:
                await self._run_enable(instance)
            except HookFailed as exc:
                await set_state(
                    record, S.ERROR, self.state_listeners, error=exc.message, detail=exc.detail
                )
                return
            instance.activate()
            self._publish(instance)
        record.enabled_at = datetime.now(UTC)
        record.reload_error = None
        record.hook_error = None
        await set_state(record, S.ENABLED, self.state_listeners)
        await persistence.save_enabled(self.services.db, record, True)

    async def _disable(self, record: PluginRecord, *, persist: bool) -> HookFailed | None:
        """Stop serving and run ``on_disable``; a failing hook is kept in ``hook_error`` and
        returned, and the plugin is disabled all the same."""
        instance = record.instance
        self.dispatcher.remove(record.name)
        failure: HookFailed | None = None
        if instance is not None:
            instance.deactivate()
            try:
                await self._hook(instance, "on_disable")
            except HookFailed as exc:
                failure = exc
            await instance.release_enabled()
        if failure is not None:
            record.hook_error = {
                "hook": failure.hook,
                "message": failure.message,
                "traceback": failure.detail,
                "at": datetime.now(UTC).isoformat(),
            }
        await set_state(record, S.DISABLED, self.state_listeners)
        if persist:
            await persistence.save_enabled(self.services.db, record, False)
        return failure

    async def _unload(self, record: PluginRecord, *, persist: bool) -> None:
        if record.state is S.ENABLED:
            await self._disable(record, persist=persist)
        instance = record.instance
        if instance is not None:
            with contextlib.suppress(HookFailed):  # logged by call_hook; unloading goes on
                await self._hook(instance, "on_unload")
            await instance.release_all()
            record.instance = None
        if record.state in (S.LOADED, S.DISABLED, S.ERROR):
            await set_state(record, S.UNLOADED, self.state_listeners)

    # -- config and events -------------------------------------------------------------------

    async def update_config(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.get(name)
        return await self.config.update(name, changes)

    async def _config_changed(self, name: str, changes: dict[str, Any]) -> None:
        await self.host.bus.emit(
            "plugin:configured", {"name": name, "keys": sorted(changes)}, source="core"
        )
        record = self.records.get(name)
        instance = record.instance if record else None
        if instance is None:
            return
        try:
            await self._hook(instance, "on_config_change", changes)
        except HookFailed as exc:
            if record is not None:
                PluginLogger(name, record.logs).error(exc.message)

    async def _announce(self, record: PluginRecord, old: PluginState, new: PluginState) -> None:
        log.info("plugin_state", plugin=record.name, old=old.value, new=new.value)
        if new in (S.LOADED, S.ENABLED, S.DISABLED, S.ERROR, S.UNLOADED):
            data: dict[str, Any] = {"name": record.name, "from": old.value, "to": new.value}
            if new is S.ERROR:
                data["error"] = record.error
            await self.host.bus.emit(f"plugin:{new.value}", data, source="core")

    async def reload(self, name: str, actor: str = "system") -> float:
        """Reload from disk atomically; see :mod:`catalyst.plugins.reloading`."""
        from catalyst.plugins.reloading import reload_plugin

        try:
            return await reload_plugin(self, name, actor)
        finally:
            await self.recheck_dependencies()
