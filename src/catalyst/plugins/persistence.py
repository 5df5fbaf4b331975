"""What the database remembers of each plugin: enabled or not, grants, timestamps, config.

Each plugin's row is read and written on its own, so one plugin's database failure (it is logged
and returned) never keeps the other plugins, or the host, from starting. Only plugins with a valid
manifest get a row: an invalid one may carry a name or version the columns cannot hold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import Plugin
from catalyst.log import get_logger
from catalyst.plugins.config import ConfigStore
from catalyst.plugins.record import PluginRecord

log = get_logger("plugins.persistence")
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Restored:
    #: Plugins seen for the first time and enabled by ``auto_enable`` (granted what they request).
    auto_enabled: list[str] = field(default_factory=list)
    #: Plugins whose row could not be read or written → the error.
    failed: dict[str, str] = field(default_factory=dict)


async def restore(
    sessions: Sessions,
    records: Mapping[str, PluginRecord],
    config: ConfigStore,
    auto_enable: Collection[str],
) -> Restored:
    """Fill newly found ``records`` from their rows; create rows for valid plugins never seen.

    A plugin seen for the first time starts disabled, unless it is in ``auto_enable`` (the
    operator's setting), which also grants what its manifest requests.
    """
    result = Restored()
    for name, record in records.items():
        try:
            if await _restore_one(sessions, record, config, name in auto_enable):
                result.auto_enabled.append(name)
        except Exception as exc:  # one plugin's row must not stop the others
            log.exception("plugin_row_failed", plugin=name)
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            result.failed[name] = f"Could not save the plugin in the database: {first}"
    return result


async def _restore_one(
    sessions: Sessions, record: PluginRecord, config: ConfigStore, auto_enable: bool
) -> bool:
    """Restore one record; True when ``auto_enable`` consented to its permissions now."""
    try:
        return await _restore_row(sessions, record, config, auto_enable)
    except IntegrityError:
        # Another instance (a worker started at the same moment, or one watching the same
        # shared folder) created the row between our read and our insert: read its row.
        return await _restore_row(sessions, record, config, auto_enable)


async def _restore_row(
    sessions: Sessions, record: PluginRecord, config: ConfigStore, auto_enable: bool
) -> bool:
    manifest = record.source.manifest
    created = False
    async with sessions() as db, db.begin():
        row = await db.get(Plugin, record.name)
        if manifest is None:
            pass  # never write a row for an invalid plugin; an existing one is still read
        elif row is None:
            created = True
            row = Plugin(
                name=record.name,
                version=manifest.version,
                enabled=auto_enable,
                config={},
                granted_permissions=sorted(manifest.permissions) if auto_enable else [],
            )
            db.add(row)
            await db.flush()
        else:
            if row.version != manifest.version:
                row.version = manifest.version
            if (
                auto_enable
                and row.enabled
                and row.enabled_at is None
                and not row.granted_permissions
            ):
                # Prepared to be enabled but never enabled yet (e.g. by PluginHarness with a
                # config): the operator's setting consents, as for a plugin seen the first time.
                row.granted_permissions = sorted(manifest.permissions)
                created = True
        if row is None:
            return False
        record.wants_enabled = row.enabled
        record.granted = frozenset(row.granted_permissions or [])
        record.installed_at = row.installed_at
        record.enabled_at = row.enabled_at
        config.remember(record.name, row.config or {})
    return created and auto_enable


async def save_enabled(sessions: Sessions, record: PluginRecord, enabled: bool) -> None:
    """Remember whether ``record`` is enabled (and, when it is, what it was granted)."""
    record.wants_enabled = enabled
    async with sessions() as db, db.begin():
        row = await db.get(Plugin, record.name)
        if row is None:
            return
        row.enabled = enabled
        if enabled:
            row.enabled_at = record.enabled_at
            row.granted_permissions = sorted(record.granted)
        if record.source.manifest:
            row.version = record.source.manifest.version


async def save_grants(sessions: Sessions, record: PluginRecord) -> None:
    """Remember what ``record`` is granted now."""
    async with sessions() as db, db.begin():
        row = await db.get(Plugin, record.name)
        if row is not None:
            row.granted_permissions = sorted(record.granted)
