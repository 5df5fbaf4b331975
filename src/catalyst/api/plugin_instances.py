"""Which instances of the cluster run a plugin, and which code version each loaded.

The plugin's detail answer lists the live instances (:meth:`InstanceRegistry.live`) that know
the plugin: this instance first, from its own record (always current), then the others as they
last reported. ``codeMismatch`` says that they loaded different code of the plugin (e.g. a
plugin folder updated on one machine only, or a reload that failed on one instance).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalyst.api.schemas.plugins import PluginInstance
from catalyst.cluster.instances import InstanceRegistry
from catalyst.db.models import utcnow
from catalyst.db.outage import is_database_outage
from catalyst.log import get_logger
from catalyst.plugins.record import PluginRecord

log = get_logger("api.plugins")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _other(row: dict[str, Any], entry: dict[str, Any]) -> PluginInstance:
    seen: datetime = row["seen_at"]
    return PluginInstance(
        id=row["id"],
        host=row["host"],
        pid=row["pid"],
        code_hash=_text(entry.get("hash")),
        state=_text(entry.get("state")) or "unknown",
        loaded_at=_text(entry.get("loadedAt")),
        seen_at=seen.isoformat(),
        is_self=False,
    )


async def instances_of(registry: InstanceRegistry, record: PluginRecord) -> list[PluginInstance]:
    """This instance, then the other live instances that know ``record``'s plugin, by id. When
    the database does not answer, only this instance (logged)."""
    mine = PluginInstance(
        id=registry.instance_id,
        host=registry.host,
        pid=registry.pid,
        code_hash=record.code_hash,
        state=record.state.value,
        loaded_at=record.loaded_at.isoformat() if record.loaded_at else None,
        seen_at=utcnow().isoformat(),
        is_self=True,
    )
    try:
        rows = await registry.live()
    except Exception as exc:
        if not is_database_outage(exc):
            raise
        log.warning("cluster_instances_unavailable", plugin=record.name, error=str(exc))
        return [mine]
    others = [
        _other(row, entry)
        for row in rows
        if row["id"] != registry.instance_id
        and isinstance(entry := row["plugins"].get(record.name), dict)
    ]
    return [mine, *others]


def code_mismatch(instances: list[PluginInstance]) -> bool:
    """Whether the instances that loaded the plugin loaded different code."""
    return len({i.code_hash for i in instances if i.code_hash is not None}) > 1
