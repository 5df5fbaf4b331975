"""The connection registry: send to a client, to a user's clients, or to everyone allowed.

Each connection has a bounded outgoing queue drained by its own writer task. Sending never
waits: when a client's queue is full the client is too slow (or dead), so it is dropped and its
socket closed, and nobody else is held up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocketDisconnect

from catalyst.auth.sessions import Principal
from catalyst.log import get_logger

log = get_logger("ws.hub")
CLOSE_TOO_SLOW = 4008
_ids = itertools.count(1)
_SOCKET_ERRORS = (OSError, RuntimeError, WebSocketDisconnect)


@dataclass(eq=False)
class Connection:
    """One connected WebSocket client."""

    principal: Principal
    send_text: Callable[[str], Awaitable[None]]
    close: Callable[[int, str], Awaitable[None]]
    queue_size: int = 256
    id: str = field(default_factory=lambda: f"c{next(_ids)}-{secrets.token_hex(4)}")
    queue: asyncio.Queue[str | None] = field(init=False)
    dropped: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)


class Hub:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._connections: dict[str, Connection] = {}
        self._by_user: dict[int, set[str]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._connections)

    def get(self, client_id: str) -> Connection | None:
        return self._connections.get(client_id)

    async def close_user(self, user_id: int, code: int, reason: str) -> int:
        """Close every connection of ``user_id`` (its account changed); returns how many."""
        conns = [c for i in list(self._by_user.get(user_id, ())) if (c := self._connections.get(i))]
        for conn in conns:
            await self.remove(conn)
            try:
                async with asyncio.timeout(5):  # a stalled peer must not hold up the change
                    await conn.close(code, reason)
            except (TimeoutError, *_SOCKET_ERRORS):  # already gone, or not reading
                log.debug("ws_close_failed", client=conn.id)
        return len(conns)

    def add(
        self,
        principal: Principal,
        send_text: Callable[[str], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
    ) -> Connection:
        conn = Connection(principal, send_text, close, self.queue_size)
        self._connections[conn.id] = conn
        self._by_user.setdefault(principal.user_id, set()).add(conn.id)
        self._writers[conn.id] = asyncio.create_task(self._write(conn), name=f"ws-{conn.id}")
        return conn

    async def remove(self, conn: Connection) -> None:
        self._connections.pop(conn.id, None)
        ids = self._by_user.get(conn.principal.user_id)
        if ids is not None:
            ids.discard(conn.id)
            if not ids:
                del self._by_user[conn.principal.user_id]
        writer = self._writers.pop(conn.id, None)
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _write(self, conn: Connection) -> None:
        try:
            while True:
                text = await conn.queue.get()
                if text is None:
                    return
                await conn.send_text(text)
        except asyncio.CancelledError:
            raise
        except _SOCKET_ERRORS:  # a broken socket: the reader side notices and removes it
            log.debug("ws_write_failed", client=conn.id)

    def _offer(self, conn: Connection, text: str) -> bool:
        if conn.dropped:
            return False
        try:
            conn.queue.put_nowait(text)
        except asyncio.QueueFull:
            conn.dropped = True
            log.warning("ws_client_too_slow", client=conn.id, user=conn.principal.username)
            task = asyncio.get_running_loop().create_task(self._drop(conn))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return False
        return True

    async def _drop(self, conn: Connection) -> None:
        await self.remove(conn)
        try:
            await conn.close(CLOSE_TOO_SLOW, "Client too slow: outgoing queue full")
        except _SOCKET_ERRORS:  # already gone
            log.debug("ws_close_failed", client=conn.id)

    @staticmethod
    def encode(message: Mapping[str, Any]) -> str:
        return json.dumps(message, separators=(",", ":"), default=str)

    def send(self, client_id: str, message: Mapping[str, Any]) -> bool:
        conn = self._connections.get(client_id)
        return conn is not None and self._offer(conn, self.encode(message))

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int:
        text = self.encode(message)
        ids = list(self._by_user.get(user_id, ()))
        return sum(self._offer(self._connections[i], text) for i in ids if i in self._connections)

    def broadcast(
        self,
        message: Mapping[str, Any],
        permission: str | None = None,
        *,
        unless: str | None = None,
    ) -> int:
        """To every client whose user holds ``permission`` (all when None) but not ``unless``."""
        text = self.encode(message)
        sent = 0
        for conn in list(self._connections.values()):
            if permission is not None and not conn.principal.can(permission):
                continue
            if unless is not None and conn.principal.can(unless):
                continue
            sent += self._offer(conn, text)
        return sent

    async def close_all(self) -> None:
        for conn in list(self._connections.values()):
            await self.remove(conn)
            try:
                await conn.close(1001, "Server shutting down")
            except _SOCKET_ERRORS:  # already gone
                log.debug("ws_close_failed", client=conn.id)
