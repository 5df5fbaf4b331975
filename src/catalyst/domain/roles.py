"""Roles: what a role may grant, and how roles and accounts look in the API.

A role is a named list of permissions from the host catalog
(:data:`catalyst.auth.permissions.CATALOG`). A grant is a catalog name, ``*`` (everything) or a
prefix wildcard such as ``server.*`` that covers at least one catalog name. The built-in roles
(:data:`catalyst.auth.bootstrap.BUILTIN_ROLES`) are defined in code and cannot be changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from catalyst.auth.bootstrap import BUILTIN_ROLES
from catalyst.auth.permissions import CATALOG, has_permission
from catalyst.db.models import User
from catalyst.errors import BadRequest, PermissionDenied

#: Role names: lower-case letters, digits, ``.``, ``_`` and ``-``; 1 to 64 characters.
ROLE_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: Usernames: letters, digits, ``.``, ``_``, ``@`` and ``-``; 1 to 64 characters.
USERNAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: Permissions only a plugin can use: never part of a role.
PLUGIN_ONLY: Final = frozenset({"http.public", "net.outbound", "host.full"})
#: What a role may grant (``*`` and ``prefix.*`` wildcards aside), with what each allows.
ROLE_CATALOG: Final = {k: v for k, v in CATALOG.items() if k not in PLUGIN_ONLY}
#: What makes an account an admin for the "never leave no enabled admin" rule.
ADMIN_GRANT: Final = "*"


@dataclass(frozen=True)
class Actor:
    """Who makes an account change: the name audited, and what they hold (None: the shell).

    Nobody hands out more than they hold: an account with ``user.write`` but not ``*`` cannot
    create an admin, give a role it does not itself cover, or act on an account (disable it,
    reset its password, change its role) that holds more than it does.
    """

    name: str
    permissions: frozenset[str] | None = None

    def covers(self, grants: Iterable[str]) -> list[str]:
        """The grants this actor lacks (a wildcard is held only by an equal or a wider one)."""
        if self.permissions is None:
            return []
        return sorted(g for g in set(grants) if not has_permission(self.permissions, g))

    def check_grants(self, grants: Iterable[str], what: str) -> None:
        missing = self.covers(grants)
        if missing:
            raise PermissionDenied(f"Cannot {what}: you do not hold {', '.join(missing)}")


def is_builtin(name: str) -> bool:
    return name in BUILTIN_ROLES


def valid_grant(grant: str) -> bool:
    """True for ``*``, a role permission, or a ``prefix.*`` covering a role permission."""
    if grant == "*" or grant in ROLE_CATALOG:
        return True
    if grant.endswith(".*") and len(grant) > 2:
        prefix = grant[:-1]
        return any(name.startswith(prefix) for name in ROLE_CATALOG)
    return False


def check_permissions(permissions: Iterable[str]) -> list[str]:
    """The grants, de-duplicated and sorted; 400 naming every unknown one."""
    grants = sorted(set(permissions))
    unknown = [g for g in grants if not valid_grant(g)]
    if unknown:
        raise BadRequest(
            f"Unknown permission(s): {', '.join(unknown)}. "
            f"Known: *, {', '.join(sorted(ROLE_CATALOG))} (or a prefix such as server.*)"
        )
    return grants


def check_role_name(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise BadRequest(
            "Invalid role name: use 1 to 64 lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise BadRequest("Invalid username: use 1 to 64 letters, digits, '.', '_', '@' or '-'")
    return username


def is_admin(user: User) -> bool:
    return user.is_active and ADMIN_GRANT in user.permissions


def user_json(user: User) -> dict[str, Any]:
    """An account as the API shows it: never the password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "roles": sorted(r.name for r in user.roles),
        "permissions": user.permissions,
        "enabled": user.is_active,
        "admin": is_admin(user),
        "createdAt": user.created_at.isoformat(),
    }
