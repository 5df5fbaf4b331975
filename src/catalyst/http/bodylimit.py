"""Request body limits, enforced while the body is read and before anything parses it.

:class:`BodyLimitMiddleware` wraps the ASGI ``receive`` of every host HTTP request in a
:class:`Guarded` that counts the bytes that arrive; a declared ``Content-Length`` over the limit
is refused before the first byte is read. Plugin routes get the same :class:`Guarded` from the
plugin gate (:mod:`catalyst.http.plugin_gate`), which reads the limit at read time from
``scope["catalyst.body_limit"]``: the plugin dispatcher sets it from the matched route's
``max_body_bytes``, so a plugin route's declared length is checked only when its body is read.
Either way the answer is ``413 {"success": false, ...}``, whatever the application did with the
error it got from ``receive``.
"""

from __future__ import annotations

from typing import Final

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalyst.api.responses import fail
from catalyst.sdk.errors import HTTPError

SCOPE_KEY: Final = "catalyst.body_limit"
AUTH_PREFIX: Final = "/api/auth/"


class BodyTooLarge(HTTPError):
    """Raised from ``receive`` once the body is over its limit (a plugin's 413 if it escapes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: the limit is {limit} bytes")
        self.limit = limit


def default_limit(path: str, auth_limit: int, api_limit: int) -> int:
    return auth_limit if path.startswith(AUTH_PREFIX) else api_limit


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, auth_limit: int, api_limit: int) -> None:
        self.app = app
        self.auth_limit = auth_limit
        self.api_limit = api_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        scope.setdefault(SCOPE_KEY, default_limit(path, self.auth_limit, self.api_limit))
        length = declared_length(scope)
        if length is not None and length > scope[SCOPE_KEY]:
            await too_large(scope[SCOPE_KEY])(scope, receive, send)
            return
        await Guarded(scope, receive, send).run(self.app)


def too_large(limit: int) -> Response:
    return fail(BodyTooLarge(limit).message, 413, {"Connection": "close"})


class Guarded:
    """One request: counts received bytes; once over the limit, answers 413 itself."""

    __slots__ = (
        "checked_length",
        "exceeded",
        "receive_raw",
        "received",
        "scope",
        "send_raw",
        "started",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive_raw = receive
        self.send_raw = send
        self.received = 0
        self.exceeded: int | None = None
        self.started = False
        self.checked_length = False

    async def receive(self) -> Message:
        limit: int = self.scope[SCOPE_KEY]
        if self.exceeded is not None:
            raise BodyTooLarge(self.exceeded)
        if not self.checked_length:
            self.checked_length = True
            length = declared_length(self.scope)
            if length is not None and length > limit:
                self.exceeded = limit
                raise BodyTooLarge(limit)
        message = await self.receive_raw()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > limit:
                self.exceeded = limit
                raise BodyTooLarge(limit)
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded is not None and not self.started:
            return  # whatever the app answers to the error, the client gets the 413 below
        if message["type"] == "http.response.start":
            self.started = True
        await self.send_raw(message)

    async def run(self, app: ASGIApp) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except Exception:
            if self.exceeded is None or self.started:
                raise
        if self.exceeded is not None and not self.started:
            self.started = True
            await too_large(self.exceeded)(self.scope, self.receive_raw, self.send_raw)
