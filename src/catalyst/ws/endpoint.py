"""``/ws``: the one WebSocket endpoint.

Authentication: the session cookie, ``?token=``, or a first message ``{"type": "auth", "token"}``
within a few seconds; otherwise the socket is closed with code 4401. Each connection gets a
client id in ``{"type": "welcome", "data": {"clientId": ...}}``. Messages are
``{"type": str, "data": any}``; ``plugin:<name>:<type>`` reaches that plugin's handler as
``handler(data, client_id)`` or ``handler(data, client_id, client)`` (see
:mod:`catalyst.plugins.ws_handlers`), found in the plugin's published table (the one the HTTP
dispatcher serves from, :meth:`catalyst.plugins.dispatcher.Dispatcher.table`); sync handlers run
in the plugin's thread pool. Anything wrong with one
message — bad or too deeply nested JSON, too big, unknown type, a missing permission, a failing
handler — gets ``{"type": "error", "data": {"message": ...}}`` to that client only and the
connection stays up; a handler's failure also goes to the plugin's own log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from catalyst import jsondepth, metrics
from catalyst.auth.sessions import Principal
from catalyst.cancellation import host_cancelled
from catalyst.errors import describe, type_name
from catalyst.log import get_logger
from catalyst.plugins import executor, watchdog
from catalyst.plugins.dispatcher import Dispatcher
from catalyst.plugins.logs import plugin_error
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.ws_handlers import WsHandlerSpec, client_of
from catalyst.sdk.context import WebSocketClient
from catalyst.services import Services
from catalyst.ws.hub import Connection

router = APIRouter()
log = get_logger("ws")
CLOSE_UNAUTHENTICATED = 4401
AUTH_WAIT_SECONDS = 5.0


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "data": {"message": message}}


async def _authenticate(ws: WebSocket, services: Services) -> Principal | None:
    principals = services.principals
    token = principals.token_of(ws)
    if token:
        return await principals.verify(token)
    try:
        async with asyncio.timeout(AUTH_WAIT_SECONDS):
            first = await ws.receive_text()
        message = jsondepth.loads(first)
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    if isinstance(message, dict) and message.get("type") == "auth":
        token = message.get("token") or (message.get("data") or {}).get("token")
        if isinstance(token, str) and token:
            return await principals.verify(token)
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
    metrics.ws_connected()
    services.hub.send(
        conn.id, {"type": "welcome", "data": {"clientId": conn.id, "user": principal.public()}}
    )
    try:
        while not conn.dropped:  # a client dropped as too slow is served no more
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            metrics.record_ws_in()
            await _handle(services, conn, raw)
    except WebSocketDisconnect:
        pass
    finally:
        metrics.ws_disconnected()
        await services.hub.remove(conn)
        if ws.application_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # already closing
                await ws.close()


async def _handle(services: Services, conn: Connection, raw: str) -> None:
    """Answer one message. Nothing a client sends or a handler does closes the connection."""
    try:
        await _dispatch(services, conn, raw)
    except Exception:  # a host bug: log it, tell this client, keep the connection
        log.exception("ws_message_failed", client=conn.id)
        services.hub.send(conn.id, error("The message could not be handled (server error)"))


async def _dispatch(services: Services, conn: Connection, raw: str) -> None:
    hub = services.hub
    limit = services.settings.ws_max_message_bytes
    if len(raw) > limit or len(raw.encode()) > limit:
        hub.send(conn.id, error(f"Message too large: the limit is {limit} bytes"))
        return
    try:
        message = jsondepth.loads(raw)
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
    found = find_handler(services.dispatcher, services.plugins.records, kind)
    if isinstance(found, str):
        hub.send(conn.id, error(found))
        return
    plugin, spec = found
    if spec.permission is not None and not conn.principal.can(spec.permission):
        hub.send(conn.id, error(f"Permission {spec.permission!r} is required for {kind}"))
        return
    client = client_of(conn.id, conn.principal)
    limit_seconds = services.settings.event_handler_timeout
    scope = asyncio.timeout(limit_seconds)
    try:
        async with scope:
            await _call_handler(plugin, kind, spec, data, client)
    except (Exception, SystemExit, KeyboardInterrupt, asyncio.CancelledError) as exc:
        if host_cancelled(exc):
            raise  # the host's own cancellation (shutdown, disconnect)
        # Plugin code: contained, logged (host and plugin log), answered to this client only.
        log.error("ws_handler_failed", plugin=plugin, type=kind, client=conn.id, exc_info=exc)
        timeout = limit_seconds if scope.expired() else None
        reason = "timed out" if timeout else type_name(exc)
        hub.send(conn.id, error(f"Handler for {kind} failed ({reason})"))
        _log_to_plugin(plugin, kind, conn.id, exc, timeout)


async def _call_handler(
    plugin: str, kind: str, spec: WsHandlerSpec, data: Any, client: WebSocketClient
) -> None:
    """Call ``plugin``'s handler: async ones on the loop, sync ones in the plugin's own thread pool
    (:mod:`catalyst.plugins.executor`)."""
    args, kwargs = spec.arguments(data, client)
    call = functools.partial(spec.handler, *args, **kwargs)
    if not spec.is_async:
        result = await executor.run_sync(plugin, call)
        if inspect.isawaitable(result):
            await result
        return
    with watchdog.doing(plugin, "ws", kind):  # names it in a loop stall
        result = call()
        if inspect.isawaitable(result):
            await result


def _log_to_plugin(
    plugin: str,
    kind: str,
    client_id: str,
    exc: BaseException,
    timeout: float | None,
) -> None:
    """Put a handler's failure (``timeout``: it ran out of time) in the plugin's own log stream
    (``GET /api/plugins/<name>/logs``, the live push, the UI)."""
    if timeout is not None:
        message = f"WebSocket handler for {kind} timed out after {timeout:g} s"
        plugin_error(plugin, message, host=False, type=kind, client=client_id)
    else:
        message = f"WebSocket handler for {kind} failed: {describe(exc)}"
        plugin_error(plugin, message, exc, host=False, type=kind, client=client_id)


def find_handler(
    dispatcher: Dispatcher, records: Mapping[str, PluginRecord], message_type: str
) -> tuple[str, WsHandlerSpec] | str:
    """The live handler of ``plugin:<name>:<type>`` and its plugin, or why there is none.

    Live means in the plugin's published table; ``records`` only words the refusal."""
    prefix, _, rest = message_type.partition(":")
    name, _, kind = rest.partition(":")
    if prefix != "plugin" or not name or not kind:
        return f"Unknown message type {message_type!r}"
    table = dispatcher.table(name)
    if table is None:
        record = records.get(name)
        if record is None:
            return f"Unknown message type {message_type!r}: no plugin {name!r}"
        state = record.state.value
        return f"Plugin {name!r} is not enabled (state: {state}): {message_type!r} is not handled"
    spec = table.ws.get(kind)
    if spec is None:
        return f"Unknown message type {message_type!r}: plugin {name!r} has no such handler"
    return name, spec
