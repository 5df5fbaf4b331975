"""Plugins enabled by configuration the first time they are found (``CATALYST_PLUGIN_AUTO_ENABLE``,
which ``make run`` sets to the example plugin).

Naming a plugin there is the operator's consent: it is enabled with every permission its manifest
requests, and that grant is logged and audited with the actor ``system:auto-enable``.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from catalyst.db.models import AuditLog
from catalyst.log import get_logger
from catalyst.plugins.record import PluginRecord

log = get_logger("plugins.auto_enable")

#: The audit actor of grants made because of ``CATALYST_PLUGIN_AUTO_ENABLE``.
ACTOR: Final = "system:auto-enable"


def grant_on_first_sight(session: AsyncSession, record: PluginRecord) -> list[str]:
    """The permissions granted to ``record`` now; the grant is audited in ``session``'s
    transaction (the one creating the plugin's row) and logged."""
    manifest = record.source.manifest
    granted = sorted(manifest.permissions) if manifest else []
    details = {"granted": granted, "reason": "CATALYST_PLUGIN_AUTO_ENABLE"}
    session.add(AuditLog(actor=ACTOR, action="plugin.enable", target=record.name, details=details))
    log.info("plugin_auto_enabled", plugin=record.name, granted=granted)
    return granted
