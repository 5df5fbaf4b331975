"""What ``/api/audit`` answers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from catalyst.api.schemas.base import WireModel
from catalyst.db.models import AuditLog


class AuditEntry(WireModel):
    id: int
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    created_at: str

    @classmethod
    def of(cls, row: AuditLog) -> AuditEntry:
        return cls(
            id=row.id,
            actor=row.actor,
            action=row.action,
            target=row.target,
            details=row.details,
            created_at=row.created_at.isoformat(),
        )


class AuditPage(WireModel):
    """Newest first; pass ``nextCursor`` as ``cursor`` for the next older page."""

    items: list[AuditEntry]
    total: int
    next_cursor: int | None = Field(description="null on the last page")
