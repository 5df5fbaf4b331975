"""``ctx.db``: core data for plugins, each call gated by the plugin's granted permissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.auth.permissions import has_permission
from catalyst.db.models import Server, User
from catalyst.domain.servers import ServerService, ServerStatus, server_json
from catalyst.sdk.errors import PluginPermissionError


class _Gate:
    def __init__(self, plugin: str, granted: Callable[[], frozenset[str]]) -> None:
        self._plugin = plugin
        self._granted = granted

    def need(self, permission: str) -> None:
        granted = self._granted()
        if not has_permission(granted, permission):
            shown = ", ".join(sorted(granted)) or "none"
            raise PluginPermissionError(
                f"Plugin {self._plugin!r} needs permission {permission!r} for this call "
                f"(granted: {shown}); declare it in plugin.json and re-enable the plugin"
            )


class ServersAccess:
    """Game servers. Reading needs ``server.read``; starting and stopping need ``server.write``."""

    def __init__(
        self, gate: _Gate, sessions: async_sessionmaker[AsyncSession], service: ServerService
    ) -> None:
        self._gate = gate
        self._sessions = sessions
        self._service = service

    async def find_many(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        self._gate.need("server.read")
        query = select(Server).order_by(Server.id).limit(min(limit, 1000)).offset(offset)
        if status is not None:
            query = query.where(Server.status == ServerStatus(status).value)
        async with self._sessions() as db:
            return [server_json(s) for s in (await db.scalars(query)).all()]

    async def get(self, server_id: int) -> dict[str, Any] | None:
        self._gate.need("server.read")
        async with self._sessions() as db:
            server = await db.get(Server, server_id)
        return server_json(server) if server else None

    async def count(self, *, status: str | None = None) -> int:
        self._gate.need("server.read")
        query = select(func.count()).select_from(Server)
        if status is not None:
            query = query.where(Server.status == ServerStatus(status).value)
        async with self._sessions() as db:
            return int(await db.scalar(query) or 0)

    async def start(self, server_id: int) -> dict[str, Any]:
        self._gate.need("server.write")
        return server_json(await self._service.start(server_id))

    async def stop(self, server_id: int) -> dict[str, Any]:
        self._gate.need("server.write")
        return server_json(await self._service.stop(server_id))


def user_json(user: User) -> dict[str, Any]:
    """A user as plugins see it: never the password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "isActive": user.is_active,
        "roles": sorted(r.name for r in user.roles),
        "createdAt": user.created_at.isoformat(),
    }


class UsersAccess:
    """User accounts, read-only, without password hashes. Needs ``user.read``."""

    def __init__(self, gate: _Gate, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._gate = gate
        self._sessions = sessions

    async def find_many(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        self._gate.need("user.read")
        query = select(User).order_by(User.id).limit(min(limit, 1000)).offset(offset)
        async with self._sessions() as db:
            return [user_json(u) for u in (await db.scalars(query)).all()]

    async def get(self, user_id: int) -> dict[str, Any] | None:
        self._gate.need("user.read")
        async with self._sessions() as db:
            user = await db.get(User, user_id)
        return user_json(user) if user else None

    async def count(self) -> int:
        self._gate.need("user.read")
        async with self._sessions() as db:
            return int(await db.scalar(select(func.count()).select_from(User)) or 0)


class PluginDb:
    """``ctx.db.servers`` and ``ctx.db.users``."""

    def __init__(
        self,
        plugin: str,
        granted: Callable[[], frozenset[str]],
        sessions: async_sessionmaker[AsyncSession],
        servers: ServerService,
    ) -> None:
        gate = _Gate(plugin, granted)
        self.servers = ServersAccess(gate, sessions, servers)
        self.users = UsersAccess(gate, sessions)
