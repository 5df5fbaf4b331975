"""First-start set-up: the built-in roles and the admin account.

The built-in roles are defined here, in code: ``admin`` (everything), ``operator`` (runs game
servers, sees the plugin admin) and ``viewer`` (read-only). :func:`ensure_roles` creates them
and puts back their permissions if the database disagrees; the API refuses to change them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst import audit
from catalyst.auth.passwords import hash_password
from catalyst.db.models import Role, User

BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "admin": ("Everything", ["*"]),
    "operator": ("Runs game servers; sees plugins and the audit log", ["admin.read", "server.*"]),
    "viewer": (
        "Sees game servers, plugins and the audit log (read-only)",
        ["admin.read", "server.read"],
    ),
}


#: The audit actor of the first admin's creation (``catalyst serve``, ``user create-admin``).
SETUP_ACTOR = "system:setup"


@dataclass(frozen=True)
class AdminLogin:
    username: str
    password: str | None  # only when it was generated or set just now
    created: bool


async def ensure_roles(db: AsyncSession) -> dict[str, Role]:
    existing = {r.name: r for r in (await db.scalars(select(Role))).all()}
    for name, (description, permissions) in BUILTIN_ROLES.items():
        role = existing.get(name)
        if role is None:
            role = Role(name=name, description=description, permissions=list(permissions))
            db.add(role)
            existing[name] = role
        elif role.permissions != permissions or role.description != description:
            role.permissions = list(permissions)
            role.description = description
    await db.flush()
    return existing


async def create_user(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str, roles: list[str]
) -> User:
    async with sessions() as db, db.begin():
        all_roles = await ensure_roles(db)
        unknown = [r for r in roles if r not in all_roles]
        if unknown:
            raise ValueError(f"Unknown roles: {', '.join(unknown)}")
        user = User(
            username=username,
            password_hash=hash_password(password),
            roles=[all_roles[r] for r in roles],
        )
        db.add(user)
    return user


async def ensure_admin(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str | None
) -> AdminLogin:
    """Create the admin account when missing; the password is generated when not given.

    The creation is audited as ``user.create`` by ``system:setup``."""
    async with sessions() as db, db.begin():
        roles = await ensure_roles(db)
        if await db.scalar(select(User).where(User.username == username)) is not None:
            return AdminLogin(username=username, password=None, created=False)
        chosen = password or secrets.token_urlsafe(12)
        db.add(User(username=username, password_hash=hash_password(chosen), roles=[roles["admin"]]))
    await audit.record(sessions, SETUP_ACTOR, "user.create", username, role="admin")
    return AdminLogin(username=username, password=chosen, created=True)
