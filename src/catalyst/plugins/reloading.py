"""Atomic reload: the new generation loads (and enables) while the old one keeps serving.

Only when the new generation's hooks succeed are routes, middleware, WebSocket handlers, tasks
and listeners switched, in one step; then the old generation's ``on_disable``/``on_unload`` run
and everything it owned is released. When anything fails — invalid manifest, syntax or import
error, a hook that raises or times out — the old generation keeps serving untouched and the
failure is kept in ``record.reload_error`` until the next successful reload.
"""

from __future__ import annotations

import time
import traceback
from datetime import UTC, datetime
from typing import NoReturn

from catalyst.auth.permissions import CATALOG
from catalyst.errors import BadRequest, NotFound
from catalyst.log import get_logger
from catalyst.plugins import dependencies, grants, persistence
from catalyst.plugins.codehash import code_hash_async
from catalyst.plugins.discovery import PluginSource, discover_one
from catalyst.plugins.lifecycle import HookFailed
from catalyst.plugins.record import AnyGeneration, PluginRecord
from catalyst.plugins.registry import PluginRegistry
from catalyst.plugins.scanning import restore_rows
from catalyst.plugins.state import PluginState

log = get_logger("plugins.reload")
S = PluginState


class ReloadFailed(BadRequest):
    """The new version failed; the previous one (if any) keeps serving."""


async def reload(manager: PluginRegistry, name: str, actor: str = "system") -> float:
    """Reload ``name`` from disk; returns the duration in milliseconds. Raises ReloadFailed.

    The steps are those of enable and disable: prepare the new generation (and run its
    ``on_enable`` when the plugin serves), swap the published table in one step, retire the old
    generation. The grants stay as they were, minus permissions the new manifest no longer
    requests (revoked and audited with ``actor``); permissions it newly requests stay pending
    until an admin consents (:mod:`catalyst.plugins.grants`)."""
    record = manager.get(name)
    async with record.lock:
        if manager.records.get(name) is not record:  # removed while we waited for the lock
            raise NotFound("Plugin not found")
        started = time.perf_counter()
        source = discover_one(
            record.source.path,
            host_version=manager.host_version,
            permission_catalog=CATALOG.keys(),
        )
        if not source.ok:
            detail = "\n".join(str(e) for e in source.errors)
            if record.instance is None:  # nothing serves: show the problems of the files now
                record.source = source
            await _failed(manager, record, f"Invalid plugin.json: {source.error_message}", detail)
        problem = _dependency_problem(manager, record, source)
        if problem:
            await _failed(manager, record, problem, "")
        if record.source.manifest is None:
            await _first_valid_manifest(manager, record, source)
        old = record.instance
        was_enabled = record.state is S.ENABLED
        should_enable = was_enabled or (
            record.state is S.ERROR and record.wants_enabled and _deps_enabled(manager, source)
        )
        digest = await code_hash_async(source.path)
        new = await _prepare(manager, record, source, should_enable)
        manager.swap(record, source, new, should_enable)
        record.code_hash = digest
        await grants.apply(manager.db, record, grants.kept(record), actor)
        if old is not None:
            await manager.retire(old, was_enabled)
        await _settle_state(manager, record, was_enabled, should_enable)
        record.reload_error = None
        elapsed = (time.perf_counter() - started) * 1000
    log.info("plugin_reloaded", plugin=name, duration_ms=round(elapsed, 2))
    for listener in manager.reload_listeners:
        listener(name)
    await manager.announce("plugin:reloaded", {"name": name, "durationMs": round(elapsed, 2)})
    return elapsed


async def _first_valid_manifest(
    manager: PluginRegistry, record: PluginRecord, source: PluginSource
) -> None:
    """A plugin found with an invalid manifest had no database row (see
    :mod:`catalyst.plugins.persistence`): now that its manifest is valid it gets one, so that
    enabling, grants and config are remembered, as for a plugin found valid."""
    record.source = source  # no generation serves: nothing to keep of the invalid source
    failed = await restore_rows(manager, [record.name])
    if record.name in failed:
        await _failed(manager, record, failed[record.name], "")


def _dependency_problem(
    manager: PluginRegistry, record: PluginRecord, source: PluginSource
) -> str | None:
    if source.manifest is None:
        return None
    graph = manager.graph()
    graph[record.name] = dict(source.manifest.dependencies)
    versions = {
        n: r.source.manifest.version for n, r in manager.records.items() if r.source.manifest
    }
    versions[record.name] = source.manifest.version
    return dependencies.check(graph, versions, {}).get(record.name)


def _deps_enabled(manager: PluginRegistry, source: PluginSource) -> bool:
    deps = source.manifest.dependencies if source.manifest else {}
    return all(
        (other := manager.records.get(d)) is not None and other.state is S.ENABLED for d in deps
    )


async def _prepare(
    manager: PluginRegistry, record: PluginRecord, source: PluginSource, enable: bool
) -> AnyGeneration | None:
    """Build, load and (if wanted) enable the new generation without making it live."""
    assert source.manifest is not None
    if source.manifest.backend is None:
        return None
    try:
        new = await manager.prepare(record, source)
    except HookFailed as exc:
        await _failed(manager, record, exc.message, exc.detail)
    if enable:
        try:
            await manager.run_enable(new)
        except HookFailed as exc:
            await new.retire()
            await _failed(manager, record, exc.message, exc.detail)
    return new


async def _settle_state(
    manager: PluginRegistry, record: PluginRecord, was_enabled: bool, enabled_now: bool
) -> None:
    if record.state is S.ERROR:
        await manager.set_state(record, S.LOADED)
    if enabled_now and not was_enabled:
        record.enabled_at = datetime.now(UTC)
        await manager.set_state(record, S.ENABLED)
        await persistence.save_enabled(manager.db, record, True)


async def _failed(
    manager: PluginRegistry, record: PluginRecord, message: str, detail: str
) -> NoReturn:
    """Keep the old generation, remember why, and refuse the reload (400)."""
    record.reload_error = {
        "message": message,
        "traceback": detail or "".join(traceback.format_stack(limit=1)),
        "at": datetime.now(UTC).isoformat(),
    }
    serving = record.instance is not None and record.state is not S.ERROR
    if not serving and record.state is not S.DISCOVERED:
        await manager.set_state(record, S.ERROR, error=message, detail=detail)
    log.warning("plugin_reload_failed", plugin=record.name, error=message)
    await manager.announce("plugin:error", {"name": record.name, "error": message, "reload": True})
    suffix = "; the previous version keeps serving" if serving else ""
    raise ReloadFailed(f"Reload of plugin {record.name!r} failed: {message}{suffix}")
