"""FastAPI dependencies: who is calling, and may they do this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from catalyst.auth.sessions import Principal
from catalyst.errors import NotAuthenticated, PermissionDenied
from catalyst.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def token_from(request: Request) -> str | None:
    """The bearer token, else the session cookie."""
    return get_services(request).principals.token_of(request)


async def principal_from(request: Request) -> Principal | None:
    """The logged-in principal of ``request``, or None. Cached on the request."""
    return await get_services(request).principals.of(request)


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
