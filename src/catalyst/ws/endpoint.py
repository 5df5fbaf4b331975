"""``/ws``: the one WebSocket endpoint.

Authentication: the session cookie, ``?token=``, or a first message ``{"type": "auth", "token"}``
within a few seconds; otherwise the socket is closed with code 4401. Each connection gets a
client id in ``{"type": "welcome", "data": {"clientId": ...}}``. Messages are
``{"type": str, "data": any}``; ``plugin:<name>:<type>`` reaches that plugin's handler as
``handler(data, client_id)``. Anything wrong with one message — bad JSON, too big, unknown type,
a failing handler — gets ``{"type": "error", "data": {"message": ...}}`` to that client only and
the connection stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from catalyst.auth.sessions import Principal
from catalyst.log import get_logger
from catalyst.plugins.manager import PluginManager
from catalyst.services import Services
from catalyst.ws.hub import Connection

router = APIRouter()
log = get_logger("ws")
CLOSE_UNAUTHENTICATED = 4401
AUTH_WAIT_SECONDS = 5.0


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "data": {"message": message}}


async def _authenticate(ws: WebSocket, services: Services) -> Principal | None:
    token = ws.query_params.get("token") or ws.cookies.get(services.settings.session_cookie_name)
    if token:
        return await services.sessions.verify(token)
    try:
        async with asyncio.timeout(AUTH_WAIT_SECONDS):
            first = await ws.receive_text()
        message = json.loads(first)
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    if isinstance(message, dict) and message.get("type") == "auth":
        token = message.get("token") or (message.get("data") or {}).get("token")
        if isinstance(token, str) and token:
            return await services.sessions.verify(token)
    return None


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    await ws.accept()
    principal = await _authenticate(ws, services)
    if principal is None:
        await ws.close(CLOSE_UNAUTHENTICATED, "Authentication required: log in first")
        return
    conn = services.hub.add(principal, ws.send_text, ws.close)
    services.hub.send(
        conn.id, {"type": "welcome", "data": {"clientId": conn.id, "user": principal.public()}}
    )
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            await _handle(services, conn, raw)
    except WebSocketDisconnect:
        pass
    finally:
        await services.hub.remove(conn)
        if ws.application_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # already closing
                await ws.close()


async def _handle(services: Services, conn: Connection, raw: str) -> None:
    hub = services.hub
    limit = services.settings.ws_max_message_bytes
    if len(raw) > limit or len(raw.encode()) > limit:
        hub.send(conn.id, error(f"Message too large: the limit is {limit} bytes"))
        return
    try:
        message = json.loads(raw)
    except ValueError as exc:
        hub.send(conn.id, error(f"Invalid JSON: {exc}"))
        return
    kind = message.get("type") if isinstance(message, dict) else None
    if not isinstance(kind, str) or not kind:
        hub.send(conn.id, error('A message is an object {"type": "...", "data": ...}'))
        return
    data = message.get("data")
    if kind == "ping":
        hub.send(conn.id, {"type": "pong", "data": data})
        return
    if kind == "auth":
        hub.send(conn.id, error("Already authenticated"))
        return
    found = find_handler(services.plugins, kind)
    if isinstance(found, str):
        hub.send(conn.id, error(found))
        return
    plugin, handler = found
    try:
        async with asyncio.timeout(services.settings.event_handler_timeout):
            result = handler(data, conn.id)
            if inspect.isawaitable(result):
                await result
    except Exception as exc:  # plugin code: contained, logged, answered to this client only
        log.exception("ws_handler_failed", plugin=plugin, type=kind, client=conn.id)
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        hub.send(conn.id, error(f"Handler for {kind} failed ({reason})"))


def find_handler(plugins: PluginManager, message_type: str) -> tuple[str, Callable[..., Any]] | str:
    """The live handler of ``plugin:<name>:<type>``, or why there is none."""
    prefix, _, rest = message_type.partition(":")
    name, _, kind = rest.partition(":")
    if prefix != "plugin" or not name or not kind:
        return f"Unknown message type {message_type!r}"
    record = plugins.records.get(name)
    if record is None:
        return f"Unknown message type {message_type!r}: no plugin {name!r}"
    instance = record.instance
    if instance is None or not instance.active:
        state = record.state.value
        return f"Plugin {name!r} is not enabled (state: {state}): {message_type!r} is not handled"
    handler = instance.ws_handlers.get(kind)
    if handler is None:
        return f"Unknown message type {message_type!r}: plugin {name!r} has no such handler"
    return name, handler
