"""``/api/users`` and ``/api/roles``: accounts and roles. ``user.read`` to look, ``user.write``
to change. Password hashes never leave the server; a generated password is answered once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from catalyst.api.responses import JSONResponse
from catalyst.api.schemas.base import Envelope
from catalyst.api.schemas.users import (
    Account,
    AccountList,
    AccountWithPassword,
    RoleInfo,
    RoleList,
)
from catalyst.auth.deps import get_services, require
from catalyst.auth.permissions import CATALOG
from catalyst.auth.sessions import Principal
from catalyst.db.models import User
from catalyst.domain.roles import ROLE_CATALOG, Actor
from catalyst.domain.users import UserService
from catalyst.errors import BadRequest

router = APIRouter(prefix="/api/users", tags=["users"], default_response_class=JSONResponse)
roles_router = APIRouter(prefix="/api/roles", tags=["users"], default_response_class=JSONResponse)

Name = Annotated[str, Field(min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=8, max_length=1024)]
Grant = Annotated[str, Field(min_length=1, max_length=64)]
Description = Annotated[str, Field(max_length=255, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Name
    role: Name
    #: Omit to have one generated and answered once.
    password: Password | None = None


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: Name


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Omit to have one generated and answered once.
    password: Password | None = None


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    description: Description = ""
    permissions: list[Grant] = Field(max_length=len(CATALOG) + 8)


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: Description | None = None
    permissions: list[Grant] | None = Field(default=None, max_length=len(CATALOG) + 8)


#: WebSocket close code of a session that must authenticate again (the UI re-checks /me).
CLOSE_REAUTHENTICATE = 4401


def service(request: Request) -> UserService:
    services = get_services(request)

    async def disconnect(user_id: int) -> None:
        await services.hub.close_user(user_id, CLOSE_REAUTHENTICATE, "Account changed")

    return UserService(
        services.db, services.sessions, disconnect=disconnect, passwords=services.passwords
    )


Service = Annotated[UserService, Depends(service)]
Reader = Annotated[Principal, Depends(require("user.read"))]
Writer = Annotated[Principal, Depends(require("user.write"))]


def actor(who: Principal) -> Actor:
    return Actor(who.username, who.permissions)


def _with_password(user: User, password: str | None) -> AccountWithPassword:
    return AccountWithPassword(user=Account.of(user), password=password)


@router.get("")
async def list_users(
    svc: Service,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Envelope[AccountList]:
    rows, total = await svc.list_users(limit=limit, offset=offset)
    return Envelope(data=AccountList(items=[Account.of(u) for u in rows], total=total))


@router.post("", status_code=201)
async def create_user(body: UserCreate, svc: Service, who: Writer) -> Envelope[AccountWithPassword]:
    created = await svc.create_user(actor(who), body.username, body.role, body.password)
    return Envelope(
        data=_with_password(created.user, created.password),
        message=f"User {body.username} created",
    )


@router.get("/{user_id}")
async def get_user(user_id: UserId, svc: Service, _: Reader) -> Envelope[Account]:
    return Envelope(data=Account.of(await svc.get_user(user_id)))


@router.put("/{user_id}/role")
async def set_role(
    user_id: UserId, body: RoleChange, svc: Service, who: Writer
) -> Envelope[Account]:
    user = await svc.set_role(actor(who), user_id, body.role)
    return Envelope(data=Account.of(user), message=f"{user.username} is now {body.role}")


@router.post("/{user_id}/disable")
async def disable_user(user_id: UserId, svc: Service, who: Writer) -> Envelope[Account]:
    user = await svc.set_enabled(actor(who), user_id, False)
    return Envelope(data=Account.of(user), message=f"{user.username} disabled")


@router.post("/{user_id}/enable")
async def enable_user(user_id: UserId, svc: Service, who: Writer) -> Envelope[Account]:
    user = await svc.set_enabled(actor(who), user_id, True)
    return Envelope(data=Account.of(user), message=f"{user.username} enabled")


@router.post("/{user_id}/password")
async def reset_password(
    user_id: UserId, svc: Service, who: Writer, body: PasswordReset | None = None
) -> Envelope[AccountWithPassword]:
    given = body.password if body is not None else None
    user, generated = await svc.reset_password(actor(who), user_id, given)
    message = f"Password of {user.username} reset"
    return Envelope(data=_with_password(user, generated), message=message)


@roles_router.get("")
async def list_roles(svc: Service, _: Reader) -> Envelope[RoleList]:
    roles = [RoleInfo.of(role, users) for role, users in await svc.list_roles()]
    return Envelope(data=RoleList(items=roles, catalog=ROLE_CATALOG))


@roles_router.post("", status_code=201)
async def create_role(body: RoleCreate, svc: Service, who: Writer) -> Envelope[RoleInfo]:
    role = await svc.create_role(actor(who), body.name, body.description, body.permissions)
    return Envelope(data=RoleInfo.of(role), message=f"Role {role.name} created")


@roles_router.patch("/{name}")
async def update_role(
    name: Annotated[str, Path(min_length=1, max_length=64)],
    body: RoleUpdate,
    svc: Service,
    who: Writer,
) -> Envelope[RoleInfo]:
    if body.description is None and body.permissions is None:
        raise BadRequest("Nothing to change: give description and/or permissions")
    role = await svc.update_role(
        actor(who), name, description=body.description, permissions=body.permissions
    )
    return Envelope(data=RoleInfo.of(role), message=f"Role {role.name} updated")
