"""What the database remembers of each plugin: enabled or not, grants, timestamps, config."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import Plugin
from catalyst.plugins.auto_enable import grant_on_first_sight
from catalyst.plugins.config import ConfigStore
from catalyst.plugins.record import PluginRecord


async def restore(
    sessions: async_sessionmaker[AsyncSession],
    records: Mapping[str, PluginRecord],
    config: ConfigStore,
    auto_enable: Collection[str],
) -> None:
    """Fill newly found ``records`` from their rows; create rows for plugins never seen.

    A plugin seen for the first time starts disabled, unless it is in ``auto_enable``: then it
    is granted what it requests (see :mod:`catalyst.plugins.auto_enable`).
    """
    if not records:
        return
    async with sessions() as db, db.begin():
        query = select(Plugin).where(Plugin.name.in_(list(records)))
        rows = {r.name: r for r in (await db.scalars(query)).all()}
        for name, record in records.items():
            manifest = record.source.manifest
            version = manifest.version if manifest else "0.0.0"
            row = rows.get(name)
            if row is None:
                auto = name in auto_enable
                row = Plugin(
                    name=name,
                    version=version,
                    enabled=auto,
                    config={},
                    granted_permissions=grant_on_first_sight(db, record) if auto else [],
                )
                db.add(row)
                await db.flush()
            elif manifest is not None and row.version != version:
                row.version = version
            record.wants_enabled = row.enabled
            record.granted = frozenset(row.granted_permissions or [])
            record.installed_at = row.installed_at
            record.enabled_at = row.enabled_at
            config.remember(name, row.config or {})


async def save_enabled(
    sessions: async_sessionmaker[AsyncSession], record: PluginRecord, enabled: bool
) -> None:
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
