"""What ``/api/servers`` answers."""

from __future__ import annotations

from catalyst.api.schemas.base import WireModel
from catalyst.db.models import Server as ServerRow


class Server(WireModel):
    """A game server; ``status`` is ``stopped``, ``starting``, ``running`` or ``stopping``."""

    id: int
    name: str
    game: str
    node: str
    status: str
    owner_id: int | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: ServerRow) -> Server:
        return cls(
            id=row.id,
            name=row.name,
            game=row.game,
            node=row.node,
            status=row.status,
            owner_id=row.owner_id,
            created_at=row.created_at.isoformat(),
            updated_at=row.updated_at.isoformat(),
        )


class ServerList(WireModel):
    items: list[Server]
    total: int
