"""What a plugin is granted, and the only ways that changes.

A plugin gets what its manifest requests only by an admin's consent: enabling it through the
admin API (the UI's consent dialog) grants everything it requests;
``POST /api/plugins/<name>/permissions`` grants (or revokes) named permissions later. Everything
else (a restart, a hot reload, an automatic re-enable) keeps the grants already given, so a
permission added to ``plugin.json`` stays *pending* until an admin consents. A permission removed
from the manifest is revoked at once. Every grant and revoke is persisted and audited with its
actor.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst import audit
from catalyst.errors import BadRequest
from catalyst.plugins import persistence
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.state import PluginState

#: The actor of grant changes the host makes by itself (revoking what the manifest dropped).
SYSTEM = "system:manifest"
#: The actor of grants given by the ``plugin_auto_enable`` setting.
AUTO_ENABLE = "system:auto-enable"


def requested(record: PluginRecord) -> frozenset[str]:
    manifest = record.source.manifest
    return frozenset(manifest.requested_permissions) if manifest else frozenset()


def pending(record: PluginRecord) -> list[str]:
    """Requested but not granted, for a plugin an admin already consented to (enabled, or to be
    re-enabled); for any other plugin enabling it is the consent, and nothing is pending."""
    if not (record.state is PluginState.ENABLED or record.wants_enabled):
        return []
    return sorted(requested(record) - record.granted)


def kept(record: PluginRecord) -> frozenset[str]:
    """The grants that stay without a new consent: the old ones the manifest still requests."""
    return record.granted & requested(record)


async def apply(
    db: async_sessionmaker[AsyncSession], record: PluginRecord, new: frozenset[str], actor: str
) -> None:
    """Make ``new`` the grants of ``record``: persist, audit each change, re-publish routes."""
    added = sorted(new - record.granted)
    removed = sorted(record.granted - new)
    if not added and not removed:
        return
    record.granted = new
    if record.instance is not None:  # its table carries the http.public grant
        record.instance.set_public("http.public" in new)
    await persistence.save_grants(db, record)
    if added:
        await audit.record(db, actor, "plugin.permissions.grant", record.name, permissions=added)
    if removed:
        await audit.record(db, actor, "plugin.permissions.revoke", record.name, permissions=removed)


async def change(
    db: async_sessionmaker[AsyncSession],
    record: PluginRecord,
    grant: Iterable[str],
    revoke: Iterable[str],
    actor: str,
) -> None:
    """An admin's explicit change; only permissions the manifest requests can be granted."""
    grant, revoke = frozenset(grant), frozenset(revoke)
    unknown = sorted(grant - requested(record))
    if unknown:
        raise BadRequest(
            f"Plugin {record.name!r} does not request {', '.join(unknown)}; "
            "only requested permissions can be granted"
        )
    both = sorted(grant & revoke)
    if both:
        raise BadRequest(f"Cannot both grant and revoke {', '.join(both)}")
    await apply(db, record, (record.granted | grant) - revoke, actor)
