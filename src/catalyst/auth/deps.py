"""FastAPI dependencies: who is calling, and may they do this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import cookie_parser
from starlette.types import Scope

from catalyst.auth.sessions import Principal
from catalyst.errors import NotAuthenticated, PermissionDenied
from catalyst.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def token_in(scope: Scope, cookie_name: str) -> str | None:
    """The bearer token (the first ``Authorization`` header), else the session cookie (the last
    one), read from the request's raw headers in one pass."""
    auth: bytes | None = None
    cookies: list[bytes] | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if auth is None:
                auth = value
        elif name == b"cookie":
            cookies = [value] if cookies is None else [*cookies, value]
    if auth:
        scheme, _, rest = auth.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return rest.strip()
    token = None
    for header in cookies or ():
        token = cookie_parser(header.decode("latin-1")).get(cookie_name, token)
    return token


def token_from(request: Request) -> str | None:
    """The bearer token, else the session cookie."""
    return token_in(request.scope, get_services(request).settings.session_cookie_name)


async def principal_from(request: Request) -> Principal | None:
    """The logged-in principal of ``request``, or None. Cached on the request (its state)."""
    scope = request.scope
    state = scope.get("state")
    if state is not None and "principal" in state:
        cached: Principal | None = state["principal"]
        return cached
    services = get_services(request)
    token = token_in(scope, services.settings.session_cookie_name)
    principal = await services.sessions.verify(token) if token else None
    scope.setdefault("state", {})["principal"] = principal  # what request.state.principal sets
    return principal


async def current_principal(request: Request) -> Principal:
    principal = await principal_from(request)
    if principal is None:
        raise NotAuthenticated("Not authenticated: log in or send a bearer token")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that needs a logged-in principal holding ``permission``."""

    async def _check(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.can(permission):
            raise PermissionDenied(f"Missing permission: {permission}")
        return principal

    _check.__name__ = f"require_{permission.replace('.', '_').replace('*', 'any')}"
    return _check
