"""Who is calling: the token a request or WebSocket carries, and the principal it stands for.

The one place tokens are read and resolved, used by HTTP dependencies (:mod:`catalyst.auth.deps`),
the plugin dispatcher and ``/ws``. An HTTP request carries ``Authorization: Bearer <token>``,
else the session cookie; a WebSocket carries ``?token=``, else the session cookie (or sends an
``auth`` message first, which ``/ws`` reads and hands to :meth:`Principals.verify`).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import Scope

from catalyst.auth.sessions import Principal, SessionStore


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def token_in(scope: Scope, cookie_name: str) -> str | None:
    """The bearer token (the first ``Authorization`` header), else the session cookie (the last
    one), read from an HTTP request's raw headers in one pass (no Headers or cookie objects)."""
    auth: bytes | None = None
    cookies: list[bytes] | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if auth is None:
                auth = value
        elif name == b"cookie":
            cookies = [value] if cookies is None else [*cookies, value]
    if auth:
        token = bearer(auth.decode("latin-1"))
        if token:
            return token
    token = None
    for header in cookies or ():
        token = cookie_parser(header.decode("latin-1")).get(cookie_name, token)
    return token


class Principals:
    """Resolves tokens to principals through the session store."""

    def __init__(self, sessions: SessionStore, cookie_name: str) -> None:
        self.sessions = sessions
        self.cookie_name = cookie_name

    def token_of(self, conn: HTTPConnection) -> str | None:
        """The token ``conn`` carries (see the module docstring), or None."""
        if conn.scope["type"] != "websocket":
            return token_in(conn.scope, self.cookie_name)
        return conn.query_params.get("token") or conn.cookies.get(self.cookie_name)

    async def verify(self, token: str | None) -> Principal | None:
        return await self.sessions.verify(token) if token else None

    async def of(self, conn: HTTPConnection) -> Principal | None:
        """The principal of ``conn``, or None. Cached on the connection's state."""
        scope = conn.scope
        state = scope.get("state")
        if state is not None and "principal" in state:
            cached: Principal | None = state["principal"]
            return cached
        token = self.token_of(conn)
        principal = None
        if token:
            principal = self.sessions.cached(token) or await self.sessions.verify(token)
        scope.setdefault("state", {})["principal"] = principal  # what conn.state.principal sets
        return principal
