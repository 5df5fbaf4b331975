"""Cross-origin checks for requests a browser sends with the session cookie on its own.

A browser attaches the session cookie to requests any page sends, so a foreign page could make a
logged-in admin's browser change state. :class:`OriginMiddleware` refuses, with ``403`` JSON:

- an unsafe request (POST, PUT, PATCH, DELETE) that carries the session cookie and no bearer
  token, and every unsafe ``/api/auth/*`` request (a foreign page must not log the browser in),
- the ``/ws`` handshake (closed with 4403 before it is accepted: browsers send cookies there too),

when its ``Origin`` is neither the panel's own (the ``Host`` it was sent to) nor in
``CATALYST_ALLOWED_ORIGINS``. Without ``Origin``, ``Sec-Fetch-Site`` decides (``same-origin`` and
``none`` pass). A request with neither header is not from a browser page (curl, scripts) and
passes; so does every request authenticated with a bearer token, which a page cannot forge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from catalyst.api.responses import fail

UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WS_CLOSE_FORBIDDEN: Final = 4403
WS_REASON: Final = "Cross-origin WebSocket refused"
_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}


def _normalise(origin: str) -> tuple[str, str] | None:
    """``("https", "panel.example.com")`` with a default port dropped; None if not an origin."""
    scheme, sep, netloc = origin.strip().lower().partition("://")
    if not sep or scheme not in _DEFAULT_PORTS or not netloc or "/" in netloc:
        return None
    return scheme, _strip_port(netloc, _DEFAULT_PORTS[scheme])


def _strip_port(netloc: str, default_port: str) -> str:
    host, sep, port = netloc.rpartition(":")
    if sep and port == default_port and not host.endswith(":"):
        return host
    return netloc


def origin_allowed(headers: Headers, allowed: Iterable[str]) -> str | None:
    """None when the request may pass, else why not."""
    origin = headers.get("origin")
    if origin is None:
        site = headers.get("sec-fetch-site")
        if site is None or site in ("same-origin", "none"):
            return None
        return f"Cross-site request refused (Sec-Fetch-Site: {site[:40]})"
    parsed = _normalise(origin)
    if parsed is not None:
        scheme, netloc = parsed
        host = headers.get("host", "").strip().lower()
        if host and netloc == _strip_port(host, _DEFAULT_PORTS[scheme]):
            return None
        if any(_normalise(a) == parsed for a in allowed):
            return None
    return (
        f"Cross-origin request refused: origin {origin[:100]!r} is not this panel's and not in "
        "CATALYST_ALLOWED_ORIGINS"
    )


def has_bearer(headers: Headers) -> bool:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(value.strip())


def has_cookie(headers: Headers, name: str) -> bool:
    raw = headers.get("cookie")
    return raw is not None and bool(cookie_parser(raw).get(name))


def http_refusal(
    scope: Scope, headers: Headers, allowed: Iterable[str], cookie_name: str
) -> str | None:
    """Why the HTTP request of ``scope`` is refused as cross-origin, or None."""
    if scope["method"] not in UNSAFE or has_bearer(headers):
        return None
    if not (scope["path"].startswith("/api/auth/") or has_cookie(headers, cookie_name)):
        return None
    return origin_allowed(headers, allowed)


class OriginMiddleware:
    def __init__(self, app: ASGIApp, *, allowed: Iterable[str], cookie_name: str) -> None:
        self.app = app
        self.allowed = tuple(allowed)
        self.cookie_name = cookie_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["type"] == "websocket":
            refused = origin_allowed(headers, self.allowed)
        else:
            refused = http_refusal(scope, headers, self.allowed, self.cookie_name)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            # Before the accept: the server refuses the handshake (HTTP 403).
            await send({"type": "websocket.close", "code": WS_CLOSE_FORBIDDEN, "reason": WS_REASON})
        else:
            await fail(refused, 403)(scope, receive, send)
