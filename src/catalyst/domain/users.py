"""User accounts and custom roles: create, change role, disable/enable, reset password.

Every change runs in one transaction that first takes an exclusive lock (a PostgreSQL advisory
lock, SQLite's write lock), so two concurrent changes cannot both pass the guard rail: no change
may leave the host without an enabled admin (an enabled account holding ``*``). After the commit
the change is audited with its actor, and the session cache forgets the accounts it touched, so a
disabled account or a revoked password stops working at once.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst import audit
from catalyst.auth.bootstrap import ensure_roles
from catalyst.auth.passwords import PasswordWorkers, hash_password
from catalyst.auth.sessions import SessionStore
from catalyst.db.ids import max_id
from catalyst.db.models import AuthSession, Role, User, user_roles
from catalyst.domain.roles import (
    ROLE_NAME,
    USERNAME,
    Actor,
    check_permissions,
    check_role_name,
    check_username,
    is_admin,
    is_builtin,
)
from catalyst.errors import BadRequest, Conflict, NotFound

#: Key of the PostgreSQL advisory lock that serialises account changes (any constant will do).
_LOCK_KEY: Final = 0x0CA7A1157
#: A user is named by id (the API) or by username (the CLI).
UserRef = int | str


def generate_password() -> str:
    """A random password of 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Created:
    user: User
    #: The password when it was generated; shown once, never stored in clear.
    password: str | None


class UserService:
    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        sessions: SessionStore | None = None,
        *,
        disconnect: Callable[[int], Awaitable[None]] | None = None,
        passwords: PasswordWorkers | None = None,
    ) -> None:
        """``disconnect(user_id)`` ends the user's live connections (the host's WebSockets);
        ``passwords`` is the host's hashing pool (the CLI, without one, hashes in a thread)."""
        self._db = db
        self._sessions = sessions
        self._disconnect = disconnect
        self._passwords = passwords

    async def _hash(self, password: str) -> str:
        if self._passwords is not None:
            return await self._passwords.hash(password)
        return await asyncio.to_thread(hash_password, password)

    # --- reading ---------------------------------------------------------------------------

    async def list_users(self, *, limit: int = 100, offset: int = 0) -> tuple[list[User], int]:
        async with self._db() as db:
            total = await db.scalar(select(func.count()).select_from(User)) or 0
            rows = await db.scalars(select(User).order_by(User.id).limit(limit).offset(offset))
            return list(rows.all()), total

    async def get_user(self, ref: UserRef) -> User:
        async with self._db() as db:
            return await _find(db, ref)

    async def list_roles(self) -> list[tuple[Role, int]]:
        """Every role with the number of accounts holding it (built-in roles first)."""
        async with self._db() as db, db.begin():
            await ensure_roles(db)
            held = await db.execute(
                select(user_roles.c.role_id, func.count()).group_by(user_roles.c.role_id)
            )
            counts: dict[int, int] = {int(row[0]): int(row[1]) for row in held.all()}
            roles = (await db.scalars(select(Role).order_by(Role.name))).all()
        ordered = sorted(roles, key=lambda r: (not is_builtin(r.name), r.name))
        return [(r, counts.get(r.id, 0)) for r in ordered]

    # --- accounts --------------------------------------------------------------------------

    async def create_user(
        self, actor: Actor, username: str, role: str, password: str | None = None
    ) -> Created:
        check_username(username)
        chosen = password or generate_password()
        password_hash = await self._hash(chosen)
        async with self._db() as db, db.begin():
            await _exclusive(db)
            the_role = await _role(db, role)
            actor.check_grants(the_role.permissions, f"give the role {role!r}")
            if await db.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"User {username!r} already exists")
            user = User(username=username, password_hash=password_hash, roles=[the_role])
            db.add(user)
            await db.flush()
        await audit.record(self._db, actor.name, "user.create", username, role=role, id=user.id)
        return Created(user, None if password else chosen)

    async def set_role(self, actor: Actor, ref: UserRef, role: str) -> User:
        async with self._db() as db, db.begin():
            await _exclusive(db)
            user = await _find(db, ref)
            actor.check_grants(user.permissions, f"change the role of {user.username!r}")
            before = sorted(r.name for r in user.roles)
            new_role = await _role(db, role)
            actor.check_grants(new_role.permissions, f"give the role {role!r}")

            async def change() -> None:
                user.roles = [new_role]

            await _guarded(db, change, f"give {user.username!r} the role {role!r}")
        await self._changed(user.id)
        await audit.record(
            self._db, actor.name, "user.role", user.username, role=role, previous=before
        )
        return user

    async def set_enabled(self, actor: Actor, ref: UserRef, enabled: bool) -> User:
        async with self._db() as db, db.begin():
            await _exclusive(db)
            user = await _find(db, ref)
            verb = "enable" if enabled else "disable"
            actor.check_grants(user.permissions, f"{verb} {user.username!r}")
            changed = user.is_active != enabled

            async def change() -> None:
                user.is_active = enabled
                if not enabled:
                    await _revoke_sessions(db, user.id)

            await _guarded(db, change, f"{verb} {user.username!r}")
        await self._changed(user.id)
        if changed:
            action = "user.enable" if enabled else "user.disable"
            await audit.record(self._db, actor.name, action, user.username)
        return user

    async def reset_password(
        self, actor: Actor, ref: UserRef, password: str | None = None
    ) -> tuple[User, str | None]:
        """Set ``password`` (or a generated one, returned); every session of the user ends."""
        chosen = password or generate_password()
        password_hash = await self._hash(chosen)
        async with self._db() as db, db.begin():
            await _exclusive(db)
            user = await _find(db, ref)
            actor.check_grants(user.permissions, f"reset the password of {user.username!r}")
            user.password_hash = password_hash
            revoked = await _revoke_sessions(db, user.id)
        await self._changed(user.id)
        await audit.record(
            self._db,
            actor.name,
            "user.password_reset",
            user.username,
            generated=password is None,
            sessionsRevoked=revoked,
        )
        return user, None if password else chosen

    # --- roles -----------------------------------------------------------------------------

    async def create_role(
        self, actor: Actor, name: str, description: str, permissions: Sequence[str]
    ) -> Role:
        check_role_name(name)
        grants = check_permissions(permissions)
        actor.check_grants(grants, f"create the role {name!r}")
        async with self._db() as db, db.begin():
            await _exclusive(db)
            await ensure_roles(db)
            if await db.scalar(select(Role.id).where(Role.name == name)) is not None:
                raise Conflict(f"Role {name!r} already exists")
            role = Role(name=name, description=description, permissions=grants)
            db.add(role)
        await audit.record(self._db, actor.name, "role.create", name, permissions=grants)
        return role

    async def update_role(
        self,
        actor: Actor,
        name: str,
        *,
        description: str | None = None,
        permissions: Sequence[str] | None = None,
    ) -> Role:
        grants = check_permissions(permissions) if permissions is not None else None
        if grants is not None:
            actor.check_grants(grants, f"change the role {name!r}")
        if is_builtin(name):
            raise BadRequest(f"The built-in role {name!r} cannot be changed; create a custom role")
        async with self._db() as db, db.begin():
            await _exclusive(db)
            role = None
            if ROLE_NAME.match(name):
                role = await db.scalar(select(Role).where(Role.name == name))
            if role is None:
                raise NotFound(f"Role {name!r} not found")
            previous = list(role.permissions)
            actor.check_grants(previous, f"change the role {name!r}")

            async def change() -> None:
                if description is not None:
                    role.description = description
                if grants is not None:
                    role.permissions = grants

            await _guarded(db, change, f"change the permissions of {name!r}")
            holders = (
                await db.scalars(
                    select(user_roles.c.user_id).where(user_roles.c.role_id == role.id)
                )
            ).all()
        if self._sessions is not None:
            self._sessions.forget_all()
        await self._changed(*holders)
        details: dict[str, Any] = {}
        if grants is not None:
            details.update(permissions=grants, previous=previous)
        if description is not None:
            details["description"] = description
        await audit.record(self._db, actor.name, "role.update", name, **details)
        return role

    async def _changed(self, *user_ids: int) -> None:
        """After a commit: forget cached sessions and end live connections of ``user_ids``."""
        for user_id in user_ids:
            if self._sessions is not None:
                self._sessions.forget_user(user_id)
            if self._disconnect is not None:
                await self._disconnect(user_id)


async def _exclusive(db: AsyncSession) -> None:
    """Serialise account changes, across processes too (the CLI next to a running host)."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:  # SQLite: a write as the first statement takes the database's write lock now
        await db.execute(text("UPDATE roles SET name = name WHERE 1 = 0"))


async def _find(db: AsyncSession, ref: UserRef) -> User:
    if isinstance(ref, int):
        user = await db.get(User, ref) if 1 <= ref <= max_id(User) else None
    elif USERNAME.match(ref):
        user = await db.scalar(select(User).where(User.username == ref))
    else:  # not a name we could have stored (and nothing to send the database, NUL included)
        user = None
    if user is None:
        raise NotFound(f"User {ref!r} not found" if isinstance(ref, str) else "User not found")
    return user


async def _role(db: AsyncSession, name: str) -> Role:
    if is_builtin(name):
        return (await ensure_roles(db))[name]
    role = None
    if ROLE_NAME.match(name):
        role = await db.scalar(select(Role).where(Role.name == name))
    if role is None:
        raise BadRequest(f"Unknown role {name!r}")
    return role


async def _enabled_admins(db: AsyncSession) -> set[int]:
    users = (await db.scalars(select(User).where(User.is_active.is_(True)))).all()
    return {u.id for u in users if is_admin(u)}


async def _guarded(db: AsyncSession, change: Callable[[], Awaitable[None]], what: str) -> None:
    """Apply ``change``; refuse (409, rolled back) when it removes the last enabled admin."""
    before = await _enabled_admins(db)
    await change()
    await db.flush()
    if before and not await _enabled_admins(db):
        raise Conflict(f"Cannot {what}: no enabled admin would be left")


async def _revoke_sessions(db: AsyncSession, user_id: int) -> int:
    result = await db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
