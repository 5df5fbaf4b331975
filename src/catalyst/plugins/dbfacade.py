"""``ctx.db``: core data for plugins, each call gated by the plugin's granted permissions.

The session factory and the server service sit in hidden slots (:mod:`catalyst.plugins.sealing`):
``ctx.db`` hands out these methods, never the database itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.auth.permissions import has_permission
from catalyst.db.models import Server, User
from catalyst.domain.servers import ServerService, ServerStatus, server_json
from catalyst.plugins.sealing import HiddenSlot
from catalyst.sdk.errors import PluginPermissionError


class _Gate:
    __slots__ = ("_granted", "_plugin")

    def __init__(self, plugin: str, granted: Callable[[], frozenset[str]]) -> None:
        self._plugin = plugin
        self._granted = granted

    def need(self, permission: str) -> None:
        granted = self._granted()
        if not has_permission(granted, permission):
            shown = ", ".join(sorted(granted)) or "none"
            raise PluginPermissionError(
                f"Plugin {self._plugin!r} needs permission {permission!r} for this call "
                f"(granted: {shown}); declare it in plugin.json, then an admin grants it (on "
                "enabling the plugin, or by consenting to it on the plugin's page)"
            )


class ServersAccess:
    """Game servers. Reading needs ``server.read``; starting and stopping need ``server.write``."""

    __slots__ = ("_gate", "_service", "_sessions")

    def __init__(
        self, gate: _Gate, sessions: async_sessionmaker[AsyncSession], service: ServerService
    ) -> None:
        _GATE.set(self, gate)
        _SESSIONS.set(self, sessions)
        _SERVICE.set(self, service)

    async def find_many(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        _GATE.get(self).need("server.read")
        query = select(Server).order_by(Server.id).limit(min(limit, 1000)).offset(offset)
        if status is not None:
            query = query.where(Server.status == ServerStatus(status).value)
        async with _SESSIONS.get(self)() as db:
            return [server_json(s) for s in (await db.scalars(query)).all()]

    async def get(self, server_id: int) -> dict[str, Any] | None:
        _GATE.get(self).need("server.read")
        async with _SESSIONS.get(self)() as db:
            server = await db.get(Server, server_id)
        return server_json(server) if server else None

    async def count(self, *, status: str | None = None) -> int:
        _GATE.get(self).need("server.read")
        query = select(func.count()).select_from(Server)
        if status is not None:
            query = query.where(Server.status == ServerStatus(status).value)
        async with _SESSIONS.get(self)() as db:
            return int(await db.scalar(query) or 0)

    async def start(self, server_id: int) -> dict[str, Any]:
        _GATE.get(self).need("server.write")
        return server_json(await _SERVICE.get(self).start(server_id))

    async def stop(self, server_id: int) -> dict[str, Any]:
        _GATE.get(self).need("server.write")
        return server_json(await _SERVICE.get(self).stop(server_id))


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

    __slots__ = ("_gate", "_sessions")

    def __init__(self, gate: _Gate, sessions: async_sessionmaker[AsyncSession]) -> None:
        _GATE_U.set(self, gate)
        _SESSIONS_U.set(self, sessions)

    async def find_many(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        _GATE_U.get(self).need("user.read")
        query = select(User).order_by(User.id).limit(min(limit, 1000)).offset(offset)
        async with _SESSIONS_U.get(self)() as db:
            return [user_json(u) for u in (await db.scalars(query)).all()]

    async def get(self, user_id: int) -> dict[str, Any] | None:
        _GATE_U.get(self).need("user.read")
        async with _SESSIONS_U.get(self)() as db:
            user = await db.get(User, user_id)
        return user_json(user) if user else None

    async def count(self) -> int:
        _GATE_U.get(self).need("user.read")
        async with _SESSIONS_U.get(self)() as db:
            return int(await db.scalar(select(func.count()).select_from(User)) or 0)


class PluginDb:
    """``ctx.db.servers`` and ``ctx.db.users``."""

    __slots__ = ("servers", "users")

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


_GATE: HiddenSlot[_Gate] = HiddenSlot(ServersAccess, "_gate")
_SESSIONS: HiddenSlot[async_sessionmaker[AsyncSession]] = HiddenSlot(ServersAccess, "_sessions")
_SERVICE: HiddenSlot[ServerService] = HiddenSlot(ServersAccess, "_service")
_GATE_U: HiddenSlot[_Gate] = HiddenSlot(UsersAccess, "_gate")
_SESSIONS_U: HiddenSlot[async_sessionmaker[AsyncSession]] = HiddenSlot(UsersAccess, "_sessions")
