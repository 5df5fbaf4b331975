"""Rescan: pick up new plugin folders and forget removed ones, starting new plugins concurrently.

New plugins are loaded, then enabled, each plugin in its own task that first waits for the tasks
of its dependencies: independent plugins start side by side, so N plugins whose ``on_load`` hangs
cost one hook timeout, not N, while a dependency's hooks still finish before its dependents' start.
One plugin's failure (a hook, its database row) becomes that plugin's ``error``; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from catalyst import audit
from catalyst.auth.permissions import CATALOG
from catalyst.cancellation import host_cancelled
from catalyst.errors import describe
from catalyst.log import get_logger
from catalyst.plugins import dependencies, dependency_recheck, grants, persistence
from catalyst.plugins.discovery import discover
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.registry import PluginRegistry
from catalyst.plugins.state import PluginState, can_move

log = get_logger("plugins.scan")
S = PluginState
Step = Callable[[PluginRecord], Awaitable[None]]
Recheck = Callable[[], Awaitable[None]]


async def rescan(manager: PluginRegistry, recheck: Recheck) -> dict[str, list[str]]:
    """Rescan; ``recheck`` re-checks all dependencies (``PluginManager.recheck_dependencies``)."""
    found = {
        s.name: s
        for s in discover(
            manager.plugins_dir,
            host_version=manager.host_version,
            permission_catalog=CATALOG.keys(),
        )
    }
    order = dependencies.load_order(manager.graph())
    removed = sorted(set(manager.records) - set(found))
    gone = [manager.records.pop(name) for name in order if name in removed]
    if gone:
        await recheck()  # dependents stop before their dependency does
    for record in reversed(gone):
        async with record.lock:
            await manager.unload(record, persist=False)
        manager.dispatcher.withdraw(record.name)
        manager.config.forget(record.name)
        await manager.announce("plugin:removed", {"name": record.name})
    added = sorted(set(found) - set(manager.records))
    for name in added:
        manager.records[name] = PluginRecord(name=name, source=found[name])
    await restore_rows(manager, added)
    await _check_dependencies(manager)
    await start_concurrently(manager, added)
    await recheck()
    if added or removed:
        log.info("plugins_rescanned", added=added, removed=removed)
    return {"added": added, "removed": removed}


async def restore_rows(manager: PluginRegistry, added: list[str]) -> dict[str, str]:
    """Read (or create) the database rows of the plugins ``added``; those whose row failed are
    put in error, and returned with the message."""
    db = manager.db
    result = await persistence.restore(
        db, {n: manager.records[n] for n in added}, manager.config, manager.auto_enable
    )
    for name, message in result.failed.items():
        await manager.set_state(manager.records[name], S.ERROR, error=message)
    for name in result.auto_enabled:
        granted = sorted(manager.records[name].granted)
        log.info("plugin_auto_enabled", plugin=name, granted=granted)
        if granted:
            await audit.record(
                db, grants.AUTO_ENABLE, "plugin.permissions.grant", name, permissions=granted
            )
    return result.failed


async def _check_dependencies(manager: PluginRegistry) -> None:
    records = manager.records
    versions = {n: r.source.manifest.version for n, r in records.items() if r.source.manifest}
    broken = {n: r.error or "" for n, r in records.items() if not r.source.ok}
    for record in records.values():
        if not record.source.ok and record.state is S.DISCOVERED:
            await manager.set_state(record, S.ERROR, error=record.source.error_message)
    problems = dependencies.check(manager.graph(), versions, broken)
    for name, problem in problems.items():
        record = records[name]
        if record.state is S.DISCOVERED:
            await manager.set_state(record, S.ERROR, error=problem, dependency=True)


async def start_concurrently(manager: PluginRegistry, names: list[str]) -> None:
    """Load, then enable (those that want it), the plugins ``names``, in dependency order."""

    async def load(record: PluginRecord) -> None:
        if record.state is S.DISCOVERED:
            await manager.load(record)

    async def enable(record: PluginRecord) -> None:
        if record.wants_enabled and record.state is S.LOADED:
            await dependency_recheck.enable_if_met(manager, record)

    await _in_dependency_order(manager, names, load)
    await _in_dependency_order(manager, names, enable)


async def _in_dependency_order(manager: PluginRegistry, names: list[str], step: Step) -> None:
    graph = manager.graph()
    wanted = set(names)
    tasks: dict[str, asyncio.Task[None]] = {}
    for name in dependencies.load_order(graph):
        if name not in wanted:
            continue
        # Only tasks created earlier: a cycle can never make two tasks wait for each other.
        before = [tasks[d] for d in sorted(graph.get(name, {})) if d in tasks]
        tasks[name] = asyncio.create_task(
            _after(before, manager, name, step), name=f"plugin-start:{name}"
        )
    if tasks:
        await asyncio.gather(*tasks.values())


async def _after(
    before: list[asyncio.Task[None]], manager: PluginRegistry, name: str, step: Step
) -> None:
    if before:
        await asyncio.wait(before)
    record = manager.records.get(name)
    if record is None:
        return
    async with record.lock:
        try:
            await step(record)
        except BaseException as exc:  # contain one plugin's failure; the others go on
            if host_cancelled(exc) or not isinstance(exc, Exception | asyncio.CancelledError):
                raise
            log.exception("plugin_start_failed", plugin=name)
            manager.dispatcher.withdraw(name)
            if record.instance is not None:
                record.instance.deactivate()
            if can_move(record.state, S.ERROR):
                await manager.set_state(record, S.ERROR, error=f"Start failed: {describe(exc)}")
