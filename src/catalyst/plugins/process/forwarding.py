"""What crosses the host's edge to and from a process plugin's routes: the caller as the child
sees it, the answer headers a plugin may set on the host's origin, and its refusals."""

from __future__ import annotations

import functools
from typing import Any, Final

from starlette.types import Scope

from catalyst.auth.sessions import Principal
from catalyst.plugins.process.protocol import RemoteError
from catalyst.sdk.errors import HTTPError


def wire_principal(principal: Principal | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    return _wire(principal)


@functools.lru_cache(maxsize=1024)
def _wire(principal: Principal) -> dict[str, Any]:
    """The user map a request carries (the same principal comes back request after request;
    the map is only read, by the encoder)."""
    return {
        "id": principal.user_id,
        "username": principal.username,
        "roles": list(principal.roles),
        "permissions": sorted(principal.permissions),
    }


#: Added to every answer of a process plugin's route: a page it serves runs in an opaque origin
#: (no cookies, no same-origin calls to the admin API), whatever headers the plugin sets.
CONFINED: Final = (
    (b"content-security-policy", b"sandbox allow-scripts allow-forms allow-popups allow-downloads"),
    (b"x-content-type-options", b"nosniff"),
)
#: Headers a process plugin may not set on the host's origin.
_DROPPED: Final = frozenset({b"set-cookie", b"set-cookie2", b"clear-site-data"})


def confined(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A plugin route's answer headers, without cookies and with the sandbox policy: a plugin
    serving HTML cannot act with the admin's session (its own CSP can only add limits)."""
    kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED]
    return kept + list(CONFINED)


def has_body(scope: Scope) -> bool:
    """Whether the request says it carries a body (a GET rarely does: no read, no wait)."""
    return any(k in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])


def local(exc: RemoteError) -> BaseException:
    """An error the child reported for a request, as the host's dispatcher expects it: a
    refusal with its status, or the plugin's failure (with the child's traceback)."""
    if exc.status is not None and 400 <= exc.status <= 599:
        return HTTPError(exc.status, exc.message)
    return exc
