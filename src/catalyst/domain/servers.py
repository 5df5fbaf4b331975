"""Game servers: their status machine and the operations on them.

Status moves ``stopped → starting → running → stopping → stopped``. The panel has no real game
process to wait for, so start and stop pass through their transient state at once. Each completed
operation emits a core event (``server:created``, ``server:started``, ``server:stopped``,
``server:deleted``) through the host's event seam.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import Server, fits_int64
from catalyst.errors import InvalidTransition, NotFound
from catalyst.types import Emit


class ServerStatus(enum.StrEnum):
    STOPPED = "stopped"
    """Not running; can be started or deleted."""
    STARTING = "starting"
    """Start requested; becomes running."""
    RUNNING = "running"
    """Serving players; can be stopped."""
    STOPPING = "stopping"
    """Stop requested; becomes stopped."""


TRANSITIONS: Final[Mapping[ServerStatus, frozenset[ServerStatus]]] = {
    ServerStatus.STOPPED: frozenset({ServerStatus.STARTING}),
    ServerStatus.STARTING: frozenset({ServerStatus.RUNNING, ServerStatus.STOPPED}),
    ServerStatus.RUNNING: frozenset({ServerStatus.STOPPING}),
    ServerStatus.STOPPING: frozenset({ServerStatus.STOPPED}),
}


def server_json(server: Server) -> dict[str, Any]:
    return {
        "id": server.id,
        "name": server.name,
        "game": server.game,
        "node": server.node,
        "status": server.status,
        "ownerId": server.owner_id,
        "createdAt": server.created_at.isoformat(),
        "updatedAt": server.updated_at.isoformat(),
    }


def _move(server: Server, action: str, target: ServerStatus) -> None:
    """The single writer of ``Server.status``; refuses what the table does not allow."""
    current = ServerStatus(server.status)
    if target not in TRANSITIONS[current]:
        allowed_from = [s.value for s, targets in TRANSITIONS.items() if target in targets]
        raise InvalidTransition(f"server {server.id}", action, current.value, allowed_from)
    server.status = target.value


def _check_id(server_id: int) -> None:
    """An id no 64-bit column can hold names no server (rather than overflowing the driver)."""
    if not fits_int64(server_id):
        raise NotFound("Server not found")


class ServerService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], emit: Emit) -> None:
        self._sessions = sessions
        self._emit = emit

    async def list(self, *, limit: int = 100, offset: int = 0) -> tuple[list[Server], int]:
        async with self._sessions() as db:
            total = await db.scalar(select(func.count()).select_from(Server)) or 0
            rows = await db.scalars(select(Server).order_by(Server.id).limit(limit).offset(offset))
            return list(rows.all()), total

    async def get(self, server_id: int) -> Server:
        _check_id(server_id)
        async with self._sessions() as db:
            server = await db.get(Server, server_id)
        if server is None:
            raise NotFound("Server not found")
        return server

    async def create(self, *, name: str, game: str, node: str, owner_id: int | None) -> Server:
        async with self._sessions() as db, db.begin():
            server = Server(
                name=name, game=game, node=node, owner_id=owner_id, status=ServerStatus.STOPPED
            )
            db.add(server)
        await self._emit("server:created", {"server": server_json(server)})
        return server

    async def _change(self, server_id: int, action: str, *steps: ServerStatus) -> Server:
        _check_id(server_id)
        async with self._sessions() as db, db.begin():
            server = await db.get(Server, server_id, with_for_update=True)
            if server is None:
                raise NotFound("Server not found")
            for step in steps:
                _move(server, action, step)
        return server

    async def start(self, server_id: int) -> Server:
        server = await self._change(server_id, "start", ServerStatus.STARTING, ServerStatus.RUNNING)
        await self._emit("server:started", {"server": server_json(server)})
        return server

    async def stop(self, server_id: int) -> Server:
        server = await self._change(server_id, "stop", ServerStatus.STOPPING, ServerStatus.STOPPED)
        await self._emit("server:stopped", {"server": server_json(server)})
        return server

    async def delete(self, server_id: int) -> None:
        _check_id(server_id)
        async with self._sessions() as db, db.begin():
            server = await db.get(Server, server_id, with_for_update=True)
            if server is None:
                raise NotFound("Server not found")
            if server.status != ServerStatus.STOPPED:
                raise InvalidTransition(
                    f"server {server.id}", "delete", server.status, [ServerStatus.STOPPED.value]
                )
            data = server_json(server)
            await db.delete(server)
        await self._emit("server:deleted", {"server": data})
