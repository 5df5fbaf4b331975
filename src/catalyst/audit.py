"""The audit log writer: every state change is recorded with its actor.

``actor`` is a username for a person, or ``system:<what>`` for the host itself (for example
``system:watcher`` for a hot reload started by a file change).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import AuditLog

#: The actor recorded for reloads started by the file watcher.
WATCHER = "system:watcher"


async def record(
    db: async_sessionmaker[AsyncSession], actor: str, action: str, target: str, **details: Any
) -> None:
    """Append one audit entry in its own transaction."""
    async with db() as session, session.begin():
        session.add(AuditLog(actor=actor, action=action, target=target, details=details))
