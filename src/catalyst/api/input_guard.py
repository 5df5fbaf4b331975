"""Refuse NUL characters in any text a request carries: 400 JSON with a message.

PostgreSQL cannot store U+0000 in text, and no name, key or value of the host has a use for it,
so it is refused before any route runs, for every route (host API and plugin routes alike):

* in the path (``%00``): 404, since such a path names nothing;
* in query parameter names and values: 400;
* in a JSON body of a host API route: a ``\\u0000`` escape anywhere in it (a raw NUL byte is not
  JSON either): 400. A plugin route's body is the plugin's to read, under its own body limit
  (``max_body_bytes``); what it stores through ``ctx`` is checked there.
* in a host API route's JSON body, a lone surrogate escape (``\\ud800`` … ``\\udfff`` not part
  of a pair), which Python accepts but no UTF-8 answer can carry: stored, it broke every later
  answer showing it (400).

The JSON check reads the body before the route does; bodies over :data:`SCAN_LIMIT` are passed
on unchecked (the request body limit refuses them anyway).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalyst.api.responses import fail

#: The largest JSON body scanned for NUL escapes.
SCAN_LIMIT = 8 * 1024 * 1024

#: ``\u0000`` whose backslash is not itself escaped (an odd run of backslashes), or a raw NUL.
_NUL_IN_JSON = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")
#: A ``\uD800``–``\uDFFF`` escape: half of a pair, or a lone surrogate (told apart by parsing).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def target_problem(scope: Scope) -> tuple[str, int] | None:
    """Why the path or query of ``scope`` is refused, with the status, or None."""
    if "\x00" in scope.get("path", ""):
        return "Not found: the path contains a NUL character", 404
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query or "\x00" in query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return (
                    f"Invalid request: query parameter {name[:40]!r} contains a NUL character",
                    400,
                )
    return None


def has_lone_surrogate(body: bytes) -> bool:
    """Whether the JSON ``body`` holds a string (or key) with a lone surrogate. A body that is
    not JSON is not refused here: its route says what is wrong with it."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = target_problem(scope)
        if problem is not None:
            message, status = problem
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            else:
                await fail(message, status)(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] in _BODY_METHODS and _is_json(scope):
            checked = await self._checked_body(scope, receive, send)
            if checked is None:
                return
            receive = checked
        await self.app(scope, receive, send)

    async def _checked_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read the body (up to the scan limit); None when refused, else a replaying receive."""
        messages: list[Message] = []
        size = 0
        complete = False
        while size <= SCAN_LIMIT:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                break
        if complete:
            body = b"".join(m.get("body", b"") for m in messages)
            if _NUL_IN_JSON.search(body):
                refusal = "Invalid request: the JSON body contains a NUL character (\\u0000)"
                await fail(refusal, 400)(scope, receive, send)
                return None
            if has_lone_surrogate(body):
                refusal = (
                    "Invalid request: the JSON body contains a lone surrogate "
                    "(a \\ud800-\\udfff escape that is not half of a pair)"
                )
                await fail(refusal, 400)(scope, receive, send)
                return None

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        return replay
