"""The client's address: the direct peer, or ``X-Forwarded-For`` from a trusted proxy only.

``CATALYST_FORWARDED_ALLOW_IPS`` (addresses or CIDRs, comma separated; default none) lists the
proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed. Uvicorn's own
middleware does the work (the rightmost address that is not a trusted proxy is the client);
``catalyst serve`` turns off uvicorn's built-in handling, which would trust ``127.0.0.1`` by
default, so this setting is the only one that counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


class ForwardedMiddleware:
    """Rewrites ``scope["client"]`` (and the scheme) for requests a trusted proxy passes on."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[str]) -> None:
        self.app = app
        self.proxied = (
            ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))  # type: ignore[arg-type]
            if trusted
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxied is None:
            await self.app(scope, receive, send)
        else:
            await self.proxied(scope, receive, send)  # type: ignore[arg-type]


def client_host(scope: Scope) -> str:
    """The client's address as the rate limits key it; an IPv6 client by its /64 network."""
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
