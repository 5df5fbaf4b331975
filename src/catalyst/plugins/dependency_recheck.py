"""Dependencies re-checked after every change: rescan, reload, enable, disable, removal.

A plugin whose dependency is no longer met — removed, in error, not enabled, or now at a version
outside the range it needs — stops serving and goes to ``error`` with the reason ("needs base
^1.0.0, found 2.0.0"). Its wish to be enabled is kept: once the dependency is met again it comes
back, and is enabled again if it was. Plugins are visited in dependency order, so one pass carries
a change down a whole chain.
"""

from __future__ import annotations

from catalyst.errors import Conflict
from catalyst.log import get_logger
from catalyst.plugins import dependencies
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.registry import PluginRegistry
from catalyst.plugins.state import PluginState

log = get_logger("plugins.dependencies")
S = PluginState


def problem_of(manager: PluginRegistry, record: PluginRecord, *, enabled: bool) -> str | None:
    """Why ``record``'s dependencies are not met now; with ``enabled``, they must be enabled."""
    manifest = record.source.manifest
    if manifest is None or not manifest.dependencies:
        return None
    graph = manager.graph()
    cycle = dependencies.find_cycles(graph).get(record.name)
    if cycle:
        return cycle
    records = manager.records
    versions = {n: r.source.manifest.version for n, r in records.items() if r.source.manifest}
    states = {n: r.state.value for n, r in records.items()} if enabled else None
    return dependencies.unmet(manifest.dependencies, versions, states, present=records.keys())


def require_met(manager: PluginRegistry, record: PluginRecord) -> None:
    """Refuse (409) to enable ``record`` unless its dependencies are met and enabled."""
    problem = problem_of(manager, record, enabled=False)
    if problem:
        raise Conflict(f"Cannot enable plugin {record.name!r}: it {problem}")
    manifest = record.source.manifest
    for dep in sorted(manifest.dependencies if manifest else {}):
        state = manager.records[dep].state
        if state is not S.ENABLED:
            raise Conflict(
                f"Cannot enable plugin {record.name!r}: its dependency {dep!r} is "
                f"{state.value}, but needs to be enabled"
            )


def require_unused(manager: PluginRegistry, name: str) -> None:
    """Refuse (409) to disable ``name`` while enabled plugins depend on it."""
    graph = manager.graph()
    users = [d for d in dependencies.dependents(graph, name) if manager.records[d].enabled]
    if users:
        raise Conflict(
            f"Cannot disable plugin {name!r}: enabled plugins depend on it: " + ", ".join(users)
        )


async def enable_if_met(manager: PluginRegistry, record: PluginRecord) -> None:
    """Enable at start or recovery, only when the dependencies are met and enabled."""
    if problem_of(manager, record, enabled=True) is None:
        await manager.enable_loaded(record)


async def recheck(manager: PluginRegistry) -> None:
    """One pass over every plugin, dependencies first."""
    for name in dependencies.load_order(manager.graph()):
        record = manager.records.get(name)
        if record is None or record.source.manifest is None:
            continue
        if not record.source.manifest.dependencies and record.dependency_problem is None:
            continue
        async with record.lock:
            if manager.records.get(name) is record:
                await _recheck_one(manager, record)


async def _recheck_one(manager: PluginRegistry, record: PluginRecord) -> None:
    wants = record.wants_enabled or record.state is S.ENABLED
    problem = problem_of(manager, record, enabled=wants)
    if problem:
        if record.state is S.ENABLED:
            log.warning("plugin_dependency_unmet", plugin=record.name, problem=problem)
            await manager.disable_enabled(record, persist=False)  # keeps the wish to be enabled
            await manager.set_state(record, S.ERROR, error=problem, dependency=True)
        elif record.state in (S.LOADED, S.DISABLED):
            # Missing, in error or a wrong version; or, for one that should be enabled (held back
            # at start), a dependency that is not enabled.
            hard = problem_of(manager, record, enabled=False)
            reason = hard or (problem if record.wants_enabled else None)
            if reason:
                await manager.set_state(record, S.ERROR, error=reason, dependency=True)
        elif record.dependency_problem is not None and problem != record.error:
            await manager.set_state(record, S.ERROR, error=problem, dependency=True)
        return
    if record.dependency_problem is not None and record.state is S.ERROR:
        log.info("plugin_dependency_met", plugin=record.name)
        if record.instance is None:
            await manager.load(record)
        else:
            await manager.set_state(record, S.LOADED)
    if record.wants_enabled and record.state in (S.LOADED, S.DISABLED):
        await manager.enable_loaded(record)
