"""Bring this instance's plugins in line with the database after another instance changed them.

The database is the source of truth for what an admin decided about a plugin: enabled or not,
its grants, its config. An instance that changes one tells the others (``plugin.changed``); each
then re-reads the plugin's row and applies the difference here (:func:`apply_row`), and
:func:`reconcile` does the same for every plugin now and then and after Redis came back, so a
lost message is repaired. Reloads (``plugin.reload``) and rescans (``plugins.rescan``) are
repeated here as they were made there.

What is applied here announces no core event (see :mod:`.cluster_sync_state`), runs no audit
(the instance that made the change audited it) and writes nothing back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from catalyst.db.models import Plugin
from catalyst.log import get_logger
from catalyst.plugins import dependency_recheck
from catalyst.plugins.cluster_sync_state import APPLYING
from catalyst.plugins.codehash import code_hash_async
from catalyst.plugins.manager import PluginManager
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.reloading import ReloadFailed
from catalyst.plugins.state import PluginState

log = get_logger("plugins.cluster")
S = PluginState


@contextlib.contextmanager
def applying() -> Iterator[None]:
    """Changes made inside are another instance's, applied here (quietly)."""
    token = APPLYING.set(True)
    try:
        yield
    finally:
        APPLYING.reset(token)


async def _rows(manager: PluginManager, name: str | None = None) -> dict[str, dict[str, Any]]:
    query = select(Plugin.name, Plugin.enabled, Plugin.granted_permissions, Plugin.config)
    if name is not None:
        query = query.where(Plugin.name == name)
    async with manager.db() as db:
        result = await db.execute(query)
    return {
        row.name: {
            "enabled": bool(row.enabled),
            "granted": frozenset(row.granted_permissions or []),
            "config": row.config or {},
        }
        for row in result
    }


async def apply_changed(manager: PluginManager, name: str) -> None:
    """``plugin.changed``: re-read ``name``'s row and apply it here."""
    if name not in manager.records:
        await apply_rescan(manager)  # a plugin folder this instance has not seen yet
    rows = await _rows(manager, name)
    record = manager.records.get(name)
    if record is not None and name in rows:
        with applying():
            if await apply_row(manager, record, rows[name]):
                await manager.recheck_dependencies()


async def apply_row(manager: PluginManager, record: PluginRecord, row: dict[str, Any]) -> bool:
    """Apply the row's grants, config and enabled flag to ``record``; True when any differed."""
    reload = False
    async with record.lock:
        if manager.records.get(record.name) is not record:
            return False
        changed = _grants(record, row["granted"])
        config = _config(manager, record.name, row["config"])
        changed |= bool(config)
        if row["enabled"] and record.state in (S.LOADED, S.DISABLED):
            record.wants_enabled = True
            if dependency_recheck.problem_of(manager, record, enabled=True) is None:
                await manager.enable_loaded(record, persist=False)
            changed = True
        elif not row["enabled"] and (record.state is S.ENABLED or record.wants_enabled):
            record.wants_enabled = False
            if record.state is S.ENABLED:
                await manager.disable_enabled(record, persist=False)
            changed = True
        elif record.state is S.ENABLED and manager.sandbox_outdated(record):
            reload = True  # new grants or environment: a new child (a reload keeps serving)
        elif config and record.state is S.ENABLED:
            await manager.config_applied(record.name, config)
    if reload:
        await _reload(manager, record.name, "system:cluster")
    return changed


def _grants(record: PluginRecord, granted: frozenset[str]) -> bool:
    if granted == record.granted:
        return False
    record.granted = granted
    if record.instance is not None:  # its table carries the http.public grant
        record.instance.set_public("http.public" in granted)
    return True


def _config(manager: PluginManager, name: str, stored: dict[str, Any]) -> dict[str, Any]:
    """Take the stored config; returns the effective values that changed."""
    before = manager.config.effective(name)
    manager.config.remember(name, stored)
    after = manager.config.effective(name)
    return {
        k: after.get(k) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)
    }


async def apply_reload(manager: PluginManager, name: str, actor: str) -> None:
    """``plugin.reload``: the admin reloaded ``name`` on another instance; reload it here."""
    if name not in manager.records:
        await apply_rescan(manager)
        return
    with applying():
        await _reload(manager, name, actor)


async def _reload(manager: PluginManager, name: str, actor: str) -> None:
    record = manager.records.get(name)
    if record is None or record.state in (S.DISCOVERED, S.RESTARTING):
        return
    try:
        await manager.reload(name, actor)
    except ReloadFailed as exc:
        log.warning("cluster_reload_failed", plugin=name, error=str(exc))


async def apply_rescan(manager: PluginManager) -> None:
    """``plugins.rescan``: pick up the plugin folders another instance found."""
    with applying():
        await manager.rescan()


async def reconcile(manager: PluginManager) -> None:
    """Re-read every plugin's row and apply what differs (after Redis came back, and every
    ``cluster_reconcile_seconds``): whatever a lost message missed is repaired here."""
    with applying():
        await manager.rescan()
        rows = await _rows(manager)
        changed = False
        for name, row in rows.items():
            record = manager.records.get(name)
            if record is not None:
                changed |= await apply_row(manager, record, row)
        if changed:
            await manager.recheck_dependencies()


async def catch_up(manager: PluginManager, others: list[dict[str, Any]]) -> list[str]:
    """Reload the plugins whose files here are the code another live instance runs while this
    instance still runs older code (it missed a reload); returns their names. A folder that
    merely changed on disk is left to the file watcher (or the admin's reload): no instance
    runs that code yet."""
    caught = []
    for name, record in list(manager.records.items()):
        if record.code_hash is None or record.state not in (S.ENABLED, S.LOADED, S.DISABLED):
            continue
        plugins = (row.get("plugins") or {} for row in others)
        theirs = {p.get(name, {}).get("hash") for p in plugins} - {None, record.code_hash}
        if not theirs:
            continue
        on_disk = await code_hash_async(record.source.path)
        if on_disk != record.code_hash and on_disk in theirs:
            log.info("cluster_code_caught_up", plugin=name, code=on_disk)
            with applying():
                await _reload(manager, name, "system:cluster")
            caught.append(name)
    return caught
