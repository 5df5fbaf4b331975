"""Who is calling: the token a request or WebSocket carries, and the principal it stands for.

The one place tokens are read and resolved, used by HTTP dependencies (:mod:`catalyst.auth.deps`),
the plugin dispatcher and ``/ws``. An HTTP request carries ``Authorization: Bearer <token>``,
else the session cookie; a WebSocket carries ``?token=``, else the session cookie (or sends an
``auth`` message first, which ``/ws`` reads and hands to :meth:`Principals.verify`).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from catalyst.auth.sessions import Principal, SessionStore


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


class Principals:
    """Resolves tokens to principals through the session store."""

    def __init__(self, sessions: SessionStore, cookie_name: str) -> None:
        self.sessions = sessions
        self.cookie_name = cookie_name

    def token_of(self, conn: HTTPConnection) -> str | None:
        """The token ``conn`` carries (see the module docstring), or None."""
        if conn.scope["type"] == "websocket":
            token = conn.query_params.get("token")
        else:
            token = bearer(conn.headers.get("authorization"))
        return token or conn.cookies.get(self.cookie_name)

    async def verify(self, token: str | None) -> Principal | None:
        return await self.sessions.verify(token) if token else None

    async def of(self, conn: HTTPConnection) -> Principal | None:
        """The principal of ``conn``, or None. Cached on the connection's state."""
        if "principal" in conn.scope.get("state", {}):
            cached: Principal | None = conn.state.principal
            return cached
        principal = await self.verify(self.token_of(conn))
        conn.state.principal = principal
        return principal
