"""``/api/auth``: log in, log out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from catalyst.api.responses import JSONResponse
from catalyst.api.schemas.base import Envelope
from catalyst.api.schemas.users import LoginResult, User
from catalyst.auth.deps import CurrentPrincipal, get_services, token_from
from catalyst.auth.sessions import principal_of
from catalyst.errors import NotAuthenticated
from catalyst.http.forwarded import client_host

router = APIRouter(prefix="/api/auth", tags=["auth"], default_response_class=JSONResponse)


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def client_address(request: Request) -> str:
    """The client as the login limits key it (a trusted proxy's X-Forwarded-For applied)."""
    return client_host(request.scope)


@router.post("/login")
async def login(body: LoginBody, request: Request, response: Response) -> Envelope[LoginResult]:
    """Limited per client address and per username; the password is checked off the loop."""
    services = get_services(request)
    client = client_address(request)
    await services.login_limiter.check(body.username, client)
    user = await services.sessions.authenticate(body.username, body.password)
    if user is None:
        await services.login_limiter.failed(body.username, client)
        raise NotAuthenticated("Invalid username or password")
    await services.login_limiter.succeeded(body.username, client)
    token = await services.sessions.issue(user)
    principal = principal_of(user)
    await services.emit("user:login", {"user": {"id": user.id, "username": user.username}})
    settings = services.settings
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        path="/",
    )
    return Envelope(data=LoginResult(token=token, user=User.of(principal)))


@router.post("/logout")
async def logout(request: Request, response: Response) -> Envelope[None]:
    services = get_services(request)
    token = token_from(request)
    if token:
        await services.sessions.revoke(token)
    response.delete_cookie(services.settings.session_cookie_name, path="/")
    return Envelope(message="Logged out")


@router.get("/me")
async def me(principal: CurrentPrincipal) -> Envelope[User]:
    return Envelope(data=User.of(principal))
