"""The plugins the host knows, and the steps that move one plugin: load, enable, disable, unload,
and a reload's prepare, swap and retire.

Each step works on one :class:`PluginRecord` whose lock the caller holds;
:class:`catalyst.plugins.manager.PluginManager` adds the locking, the admin's refusals and the
dependency rechecks. State changes go through ``lifecycle.set_state`` only. A plugin's failure
becomes its ``error`` state; nothing here lets a plugin exception reach the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.cancellation import host_cancelled
from catalyst.errors import NotFound, describe
from catalyst.log import get_logger
from catalyst.plugins import cluster_sync_state, executor, grants, persistence
from catalyst.plugins.codehash import code_hash_async
from catalyst.plugins.config import ConfigStore, Schema
from catalyst.plugins.config_schema import environment
from catalyst.plugins.context import PluginContext, PluginHost
from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.dispatcher import Dispatcher
from catalyst.plugins.generation import Generation, resolve_hooks
from catalyst.plugins.lifecycle import HookFailed, StateListener, ThreadWatch, call_hook, set_state
from catalyst.plugins.loader import import_plugin
from catalyst.plugins.logs import PluginLogger
from catalyst.plugins.process import runtime as process_runtime
from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.plugins.process.runtime import RuntimeOptions, StartFailed, runtime_of
from catalyst.plugins.process.status import ExitInfo
from catalyst.plugins.record import AnyGeneration, PluginRecord
from catalyst.plugins.scheduler import Scheduler
from catalyst.plugins.state import PluginState

log = get_logger("plugins.manager")
S = PluginState


class PluginRegistry:
    """The known plugins and the steps on one of them (see the module docstring)."""

    def __init__(
        self,
        *,
        db: async_sessionmaker[AsyncSession],
        plugins_dir: Path,
        host_version: str,
        dispatcher: Dispatcher,
        scheduler: Scheduler,
        host: PluginHost,
        hook_timeout: float = 10.0,
        task_grace: float = 5.0,
        auto_enable: Iterable[str] = (),
        runtime: RuntimeOptions | None = None,
    ) -> None:
        self.db = db
        self.plugins_dir = plugins_dir
        self.host_version = host_version
        self.dispatcher = dispatcher
        self.scheduler = scheduler
        self.host = host
        self.hook_timeout = hook_timeout
        #: Seconds a running task gets to finish when its plugin is disabled.
        self.task_grace = task_grace
        self.auto_enable = frozenset(auto_enable)
        self.runtime = runtime or RuntimeOptions()
        self.records: dict[str, PluginRecord] = {}
        self.config: ConfigStore = host.config
        self.state_listeners: list[StateListener] = []
        #: Called with the plugin's name after each successful reload (events may be quiet).
        self.reload_listeners: list[Callable[[str], None]] = []
        #: Called with (plugin, record) for every log record a plugin writes.
        self.log_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._connect()

    def _connect(self) -> None:
        """What a subclass wires up once the registry is built (the manager's hooks, locks)."""

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

    def overruns(self, name: str) -> list[dict[str, Any]] | None:
        record = self.records.get(name)
        return record.overruns if record else None

    # -- generations -------------------------------------------------------------------------

    async def prepare(
        self, record: PluginRecord, source: PluginSource | None = None
    ) -> AnyGeneration:
        """Import a new generation and run its ``on_load``; raises HookFailed. Not live."""
        source = source or record.source
        manifest = source.manifest
        assert manifest is not None
        assert manifest.backend is not None
        entry = manifest.backend.entry
        if problem := self.config.problem(record.name):  # secrets no key opens
            raise HookFailed(record.name, "config", problem, "")
        if runtime_of(manifest, self.runtime, record.granted) == "process":
            return await self._prepare_process(record, source)
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
            watch.timed_out(self.overruns(record.name), self.hook_timeout)
            raise HookFailed(record.name, "import", "timed out", "") from exc
        except BaseException as exc:  # anything the module raises, sys.exit included
            if host_cancelled(exc):
                raise
            raise HookFailed(record.name, "import", describe(exc), traceback.format_exc()) from exc
        gen = Generation(
            record.name,
            code,
            module,
            hooks,
            scheduler=self.scheduler,
            publisher=self.dispatcher,
        )
        gen.ctx = PluginContext(gen, manifest, self.host, self._logger(record))
        return await self._loaded(record, gen)

    async def _prepare_process(self, record: PluginRecord, source: PluginSource) -> AnyGeneration:
        """Start a child for a new generation and run its ``on_load``; raises HookFailed."""
        manifest = source.manifest
        assert manifest is not None
        try:
            gen = await process_runtime.start(
                record.name,
                source.path,
                manifest,
                options=self.runtime,
                granted=record.granted,
                config=self.config.effective(record.name),
                host=self.host,
                logger=self._logger(record),
                scheduler=self.scheduler,
                publisher=self.dispatcher,
                timeout=self.hook_timeout,
            )
        except StartFailed as exc:
            raise HookFailed(record.name, exc.phase, exc.message, exc.detail) from exc
        gen.link.on_exit.append(lambda info: self.child_exited(record, gen, info))
        return await self._loaded(record, gen)

    def _logger(self, record: PluginRecord) -> PluginLogger:
        logger = PluginLogger(record.name, record.logs)
        logger.on_record.extend(self.log_listeners)
        return logger

    async def _loaded(self, record: PluginRecord, gen: AnyGeneration) -> AnyGeneration:
        """A new generation's ``on_load``; on failure it is retired and HookFailed raised."""
        gen.public = "http.public" in record.granted
        try:
            await self.hook(gen, "on_load")
        except HookFailed:
            await gen.retire()
            raise
        return gen

    def sandbox_outdated(self, record: PluginRecord) -> bool:
        """Whether the loaded generation was started for other grants than the plugin has now:
        the other runtime (``host.full`` granted or revoked for an in-process plugin), another
        sandbox (``net.outbound``), or another environment (config fields with ``env``)."""
        gen = record.instance
        manifest = record.source.manifest
        if gen is None or manifest is None:
            return False
        wanted = runtime_of(manifest, self.runtime, record.granted)
        if (wanted == "process") != isinstance(gen, ProcessGeneration):
            return True
        if not isinstance(gen, ProcessGeneration):
            return False
        env = environment(gen.manifest.config, self.config.effective(record.name))
        return gen.net_outbound != ("net.outbound" in record.granted) or gen.environment != env

    async def respawn(self, record: PluginRecord) -> None:
        """Replace a loaded (not serving) generation with a new one, in the runtime and sandbox
        its grants decide now; raises HookFailed when the new one fails to load (the plugin then
        has none)."""
        old = record.instance
        if old is not None:
            with contextlib.suppress(HookFailed):
                await self.hook(old, "on_unload")
            await old.retire()
        record.instance = None
        digest = await code_hash_async(record.source.path)
        record.instance = await self.prepare(record)
        record.code_hash = digest

    def child_exited(self, record: PluginRecord, gen: ProcessGeneration, info: ExitInfo) -> None:
        """A plugin's child ended; the manager restarts it when it was not asked to stop."""

    async def hook(self, gen: AnyGeneration, hook: str, *extra: Any) -> None:
        await call_hook(
            gen.name,
            gen.hooks,
            hook,
            gen.ctx,
            *extra,
            timeout_s=self.hook_timeout,
            overruns=self.overruns(gen.name),
        )

    async def run_enable(self, gen: AnyGeneration) -> None:
        """``on_enable`` of a generation not yet live; on failure its enable scope is closed."""
        gen.begin_enable()
        try:
            await self.hook(gen, "on_enable")
        except HookFailed:
            await gen.close_enable_scope()
            raise

    async def go_live(self, record: PluginRecord, gen: AnyGeneration) -> bool:
        """``on_enable`` of a loaded generation, then publish its table; on failure the plugin
        is put in ``error`` and False returned."""
        try:
            await self.run_enable(gen)
        except HookFailed as exc:
            await self.set_state(record, S.ERROR, error=exc.message, detail=exc.detail)
            return False
        self.dispatcher.publish(gen.activate())
        return True

    async def stop_serving(self, gen: AnyGeneration) -> HookFailed | None:
        """Take a live generation down to loaded: no table, tasks drained (``task_grace``),
        ``on_disable``, its enable scope closed. Returns the hook's failure."""
        self.dispatcher.withdraw(gen.name)
        gen.deactivate()
        await gen.drain_tasks(self.task_grace)
        failure: HookFailed | None = None
        try:
            await self.hook(gen, "on_disable")
        except HookFailed as exc:
            failure = exc
        await gen.close_enable_scope()
        return failure

    async def retire(self, old: AnyGeneration, was_enabled: bool) -> None:
        """A reload replaced ``old``: run its exit hooks and undo all it registered. Failures
        are only logged (the new generation already serves)."""
        await old.drain_tasks(self.task_grace)
        for hook in ("on_disable", "on_unload") if was_enabled else ("on_unload",):
            try:
                await self.hook(old, hook)
            except HookFailed as exc:
                log.warning(
                    "old_generation_hook_failed", plugin=old.name, hook=hook, error=exc.message
                )
        failed = await old.retire()
        if failed:
            log.warning("old_generation_release_failed", plugin=old.name, disposers=failed)

    def swap(
        self, record: PluginRecord, source: PluginSource, new: AnyGeneration | None, live: bool
    ) -> None:
        """The switch to ``new``: one step, no awaits, so no request or message sees a mix of
        generations. The old generation stops serving (its tasks still to be drained)."""
        old = record.instance
        record.source = source
        self.config.schema_changed(record.name)
        record.instance = new
        if old is not None:
            old.deactivate()
        if new is not None and live:
            self.dispatcher.publish(new.activate())
        else:
            self.dispatcher.withdraw(record.name)
        record.loaded_at = datetime.now(UTC)

    # -- the steps on one plugin -------------------------------------------------------------

    async def load(self, record: PluginRecord) -> None:
        manifest = record.source.manifest
        if manifest is None:
            return
        digest = await code_hash_async(record.source.path)
        if manifest.backend is not None:
            try:
                record.instance = await self.prepare(record)
            except HookFailed as exc:
                await self.set_state(record, S.ERROR, error=exc.message, detail=exc.detail)
                return
        record.loaded_at = datetime.now(UTC)
        record.code_hash = digest
        await self.set_state(record, S.LOADED)

    async def enable_loaded(
        self, record: PluginRecord, consent_by: str | None = None, *, persist: bool = True
    ) -> None:
        """Enable; ``consent_by`` grants all requested permissions, else only those kept.
        ``persist`` False: the database says so already (another instance enabled it)."""
        if consent_by is not None:
            await grants.apply(self.db, record, grants.requested(record), consent_by)
        else:
            await grants.apply(self.db, record, grants.kept(record), grants.SYSTEM)
        if self.sandbox_outdated(record):
            try:  # started for other grants: the runtime, sandbox or environment they decide
                await self.respawn(record)
            except HookFailed as exc:
                await self.set_state(record, S.ERROR, error=exc.message, detail=exc.detail)
                return
        gen = record.instance
        if gen is not None and not await self.go_live(record, gen):
            return
        record.enabled_at = datetime.now(UTC)
        record.reload_error = None
        record.hook_error = None
        await self.set_state(record, S.ENABLED)
        if persist:
            await persistence.save_enabled(self.db, record, True)
        else:
            record.wants_enabled = True

    async def disable_enabled(self, record: PluginRecord, *, persist: bool) -> HookFailed | None:
        """Stop serving and run ``on_disable``; a failing hook is kept in ``hook_error`` and
        returned, and the plugin is disabled all the same."""
        gen = record.instance
        failure = await self.stop_serving(gen) if gen is not None else None
        if failure is not None:
            record.hook_error = {
                "hook": failure.hook,
                "message": failure.message,
                "traceback": failure.detail,
                "at": datetime.now(UTC).isoformat(),
            }
        await self.set_state(record, S.DISABLED)
        if persist:
            await persistence.save_enabled(self.db, record, False)
        return failure

    async def unload(self, record: PluginRecord, *, persist: bool) -> None:
        if record.state is S.ENABLED:
            await self.disable_enabled(record, persist=persist)
        gen = record.instance
        if gen is not None:
            with contextlib.suppress(HookFailed):  # logged by call_hook; unloading goes on
                await self.hook(gen, "on_unload")
            await gen.retire()
            record.instance = None
        record.code_hash = None
        if record.state in (S.LOADED, S.DISABLED, S.ERROR, S.RESTARTING):
            await self.set_state(record, S.UNLOADED)

    async def announce(self, event: str, data: dict[str, Any]) -> None:
        """Emit a core ``plugin:*`` event, unless applying another instance's change."""
        if not cluster_sync_state.APPLYING.get():
            await self.host.bus.emit(event, data, source="core")

    async def set_state(
        self,
        record: PluginRecord,
        new: PluginState,
        *,
        error: str | None = None,
        detail: str | None = None,
        dependency: bool = False,
    ) -> None:
        await set_state(
            record, new, self.state_listeners, error=error, detail=detail, dependency=dependency
        )
