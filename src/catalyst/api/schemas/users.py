"""What ``/api/auth``, ``/api/users`` and ``/api/roles`` answer."""

from __future__ import annotations

from pydantic import Field

from catalyst.api.schemas.base import SparseModel, WireModel
from catalyst.auth.sessions import Principal
from catalyst.db.models import Role
from catalyst.db.models import User as UserRow
from catalyst.domain.roles import is_admin, is_builtin


class User(WireModel):
    """The signed-in user (``/api/auth/me``)."""

    id: int
    username: str
    roles: list[str]
    permissions: list[str]

    @classmethod
    def of(cls, who: Principal) -> User:
        return cls(
            id=who.user_id,
            username=who.username,
            roles=list(who.roles),
            permissions=sorted(who.permissions),
        )


class LoginResult(WireModel):
    """A session token (also set as the session cookie) and who it belongs to."""

    token: str
    user: User


class Account(WireModel):
    """An account as ``/api/users`` shows it: never the password hash."""

    id: int
    username: str
    roles: list[str]
    permissions: list[str]
    enabled: bool
    #: Enabled and holding ``*``: the host never lets the last of these go.
    admin: bool
    created_at: str

    @classmethod
    def of(cls, user: UserRow) -> Account:
        return cls(
            id=user.id,
            username=user.username,
            roles=sorted(r.name for r in user.roles),
            permissions=user.permissions,
            enabled=user.is_active,
            admin=is_admin(user),
            created_at=user.created_at.isoformat(),
        )


class AccountList(WireModel):
    items: list[Account]
    total: int


class AccountWithPassword(WireModel):
    """A created account or a reset password; ``password`` only when the server generated it."""

    user: Account
    password: str | None


class RoleInfo(SparseModel):
    """A role; ``users`` (how many accounts hold it) only in the list."""

    name: str
    description: str
    permissions: list[str]
    builtin: bool
    users: int | None = None

    @classmethod
    def of(cls, role: Role, users: int | None = None) -> RoleInfo:
        info = cls(
            name=role.name,
            description=role.description,
            permissions=list(role.permissions),
            builtin=is_builtin(role.name),
        )
        if users is not None:
            info.users = users
        return info


class RoleList(WireModel):
    items: list[RoleInfo]
    #: Every permission a role may grant, with what it allows.
    catalog: dict[str, str] = Field(description="Every permission a role may grant")
