"""The connection registry: send to a client, to a user's clients, or to everyone allowed.

Each connection has an outgoing queue drained in order by its own writer task. Sending never
waits, and a burst of any size is simply queued and drained. A client is dropped (close 4008)
only when it is really slow: its writer has made no progress for ``slow_seconds`` while messages
wait, or its queue holds more than ``max_queue_bytes`` (the memory backstop). A queued message
with a coalescing key (``plugins:updated`` per plugin) is replaced by a newer one with the same
key, so a client that fell behind catches up on the latest state rather than every step.

``send``, ``send_to_user`` and ``broadcast`` may be called from any thread (sync plugin code runs
in worker threads): off the event loop the messages are handed to the loop, in call order.

Several instances: with ``fanout`` set (the cluster backplane's ``publish``), a ``send`` to a
client this instance does not hold, and every ``send_to_user``, ``broadcast`` and ``close_user``,
also go to the other instances, which deliver them to their own clients (:meth:`Hub.receive`).
Counts returned are this instance's clients; ``send`` to a client held elsewhere answers True
once the message is handed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocketDisconnect

from catalyst.auth.sessions import Principal
from catalyst.log import get_logger
from catalyst.metrics import record_ws_out

log = get_logger("ws.hub")
CLOSE_TOO_SLOW = 4008
DEFAULT_MAX_QUEUE_BYTES = 16 * 1024 * 1024
DEFAULT_SLOW_SECONDS = 10.0
#: How long closing a connection may wait for its peer (a stalled one never makes room).
CLOSE_WAIT_SECONDS = 2.0
_ids = itertools.count(1)
_SOCKET_ERRORS = (OSError, RuntimeError, WebSocketDisconnect)


@dataclass(eq=False, slots=True)
class _Item:
    """One queued message; ``text`` is None once a newer message with its ``key`` replaced it."""

    text: str | None
    size: int
    key: str | None


@dataclass(eq=False)
class Connection:
    """One connected WebSocket client and its outgoing queue."""

    principal: Principal
    send_text: Callable[[str], Awaitable[None]]
    close: Callable[[int, str], Awaitable[None]]
    id: str = field(default_factory=lambda: f"c{next(_ids)}-{secrets.token_hex(4)}")
    pending: deque[_Item] = field(default_factory=deque)
    pending_bytes: int = 0
    #: The queued, not yet sending, message of each coalescing key.
    latest: dict[str, _Item] = field(default_factory=dict)
    sending: _Item | None = None
    #: When the writer last finished a message (or the queue last went from empty to busy).
    progress_at: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False


class Hub:
    def __init__(
        self,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
    ) -> None:
        self.max_queue_bytes = max_queue_bytes
        self.slow_seconds = slow_seconds
        self._connections: dict[str, Connection] = {}
        self._by_user: dict[int, set[str]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        #: ``publish(kind, data)`` to the other instances of the cluster (None: one instance).
        self.fanout: Callable[[str, dict[str, Any]], None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._connections)

    def get(self, client_id: str) -> Connection | None:
        return self._connections.get(client_id)

    async def close_user(self, user_id: int, code: int, reason: str) -> int:
        """Close every connection of ``user_id`` (its account changed), on every instance;
        returns how many were closed here."""
        if self.fanout is not None:
            self.fanout("ws.close_user", {"user": user_id, "code": code, "reason": reason})
        return await self.close_user_here(user_id, code, reason)

    def held(self) -> dict[int, list[Principal]]:
        """The principals of the connections held here, by user (as each was when it connected)."""
        held: dict[int, list[Principal]] = {}
        for conn in list(self._connections.values()):
            held.setdefault(conn.principal.user_id, []).append(conn.principal)
        return held

    async def close_user_here(self, user_id: int, code: int, reason: str) -> int:
        """``close_user`` for the connections held by this instance only."""
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
        self._loop = asyncio.get_running_loop()
        conn = Connection(principal, send_text, close)
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
        conn.pending.clear()
        conn.latest.clear()
        conn.pending_bytes = 0

    # -- the writer --------------------------------------------------------------------------

    async def _write(self, conn: Connection) -> None:
        try:
            while True:
                if not conn.pending:
                    conn.wake.clear()
                    await conn.wake.wait()
                    continue
                item = conn.pending[0]
                if item.text is not None:
                    conn.sending = item
                    try:
                        async with asyncio.timeout(self.slow_seconds):
                            await conn.send_text(item.text)
                        record_ws_out()
                    except TimeoutError:
                        self._drop(conn, f"no progress for {self.slow_seconds:g} s")
                        return
                conn.sending = None
                conn.pending.popleft()
                self._forget(conn, item)
                conn.progress_at = time.monotonic()
        except asyncio.CancelledError:
            raise
        except _SOCKET_ERRORS:  # a broken socket: the reader side notices and removes it
            log.debug("ws_write_failed", client=conn.id)

    @staticmethod
    def _forget(conn: Connection, item: _Item) -> None:
        if item.text is not None:
            conn.pending_bytes -= item.size
        if item.key is not None and conn.latest.get(item.key) is item:
            del conn.latest[item.key]

    # -- queueing ----------------------------------------------------------------------------

    def _offer(self, conn: Connection, shared: _Item, now: float) -> bool:
        """Queue ``shared`` (or, when it has a coalescing key, this client's copy of it)."""
        if conn.dropped:
            return False
        if conn.pending:
            if now - conn.progress_at > self.slow_seconds:
                self._drop(conn, f"no progress for {self.slow_seconds:g} s")
                return False
        else:
            conn.progress_at = now  # the clock for "no progress" starts when work arrives
        key = shared.key
        if key is not None:
            old = conn.latest.pop(key, None)
            if old is not None and old is not conn.sending and old.text is not None:
                old.text = None  # superseded: the writer skips it
                conn.pending_bytes -= old.size
        if conn.pending_bytes + shared.size > self.max_queue_bytes:
            self._drop(conn, f"outgoing queue over {self.max_queue_bytes} bytes")
            return False
        item = shared if key is None else _Item(shared.text, shared.size, key)
        conn.pending.append(item)
        conn.pending_bytes += item.size
        if key is not None:
            conn.latest[key] = item
        conn.wake.set()
        return True

    def _drop(self, conn: Connection, why: str) -> None:
        conn.dropped = True
        log.warning("ws_client_too_slow", client=conn.id, user=conn.principal.username, why=why)
        task = asyncio.get_running_loop().create_task(self._close_slow(conn, why))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close_slow(self, conn: Connection, why: str) -> None:
        await self.remove(conn)
        try:
            # A stalled peer may never make room for the close frame: do not wait for ever.
            async with asyncio.timeout(CLOSE_WAIT_SECONDS):
                await conn.close(CLOSE_TOO_SLOW, f"Client too slow: {why}")
        except (TimeoutError, *_SOCKET_ERRORS):  # already gone, or not reading at all
            log.debug("ws_close_failed", client=conn.id)

    def _deliver(self, targets: list[Connection], text: str, key: str | None) -> int:
        """Queue ``text`` for ``targets``: directly on the loop, else handed to it in order."""
        loop = self._loop
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            return self._offer_all(targets, _Item(text, len(text), key))
        if loop is None or not targets:
            return 0
        try:
            loop.call_soon_threadsafe(self._offer_all, targets, _Item(text, len(text), key))
        except RuntimeError:  # the loop is closed: the host is shutting down
            return 0
        return sum(not conn.dropped for conn in targets)

    def _offer_all(self, targets: list[Connection], item: _Item) -> int:
        now = time.monotonic()
        live = self._connections
        return sum(self._offer(conn, item, now) for conn in targets if conn.id in live)

    # -- public API --------------------------------------------------------------------------

    @staticmethod
    def encode(message: Mapping[str, Any]) -> str:
        return json.dumps(message, separators=(",", ":"), default=str)

    def send(self, client_id: str, message: Mapping[str, Any]) -> bool:
        conn = self._connections.get(client_id)
        if conn is not None:
            return self._deliver([conn], self.encode(message), None) == 1
        if self.fanout is None or not isinstance(client_id, str):
            return False
        self.fanout("ws.send", {"client": client_id, "text": self.encode(message)})
        return True

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int:
        text = self.encode(message)
        if self.fanout is not None:
            self.fanout("ws.user", {"user": user_id, "text": text})
        return self._to_user(user_id, text)

    def _to_user(self, user_id: int, text: str) -> int:
        ids = list(self._by_user.get(user_id, ()))
        targets = [c for i in ids if (c := self._connections.get(i)) is not None]
        return self._deliver(targets, text, None)

    def broadcast(
        self,
        message: Mapping[str, Any],
        permission: str | None = None,
        *,
        unless: str | None = None,
        coalesce: str | None = None,
    ) -> int:
        """To every client whose user holds ``permission`` (all when None) but not ``unless``.

        ``coalesce``: a key; a message with the same key still waiting in a client's queue is
        replaced by this one (which takes its place at the end of the queue).
        """
        text = self.encode(message)
        if self.fanout is not None:
            audience = {"permission": permission, "unless": unless, "coalesce": coalesce}
            self.fanout("ws.broadcast", {"text": text, **audience})
        return self._broadcast(text, permission, unless, coalesce)

    def _broadcast(
        self, text: str, permission: str | None, unless: str | None, coalesce: str | None
    ) -> int:
        targets = [
            conn
            for conn in list(self._connections.values())
            if (permission is None or conn.principal.can(permission))
            and (unless is None or not conn.principal.can(unless))
        ]
        return self._deliver(targets, text, coalesce)

    def receive(self, kind: str, data: Mapping[str, Any]) -> None:
        """A ``fanout`` message from another instance: deliver it to the clients held here."""
        text = data.get("text")
        if not isinstance(text, str):
            return
        if kind == "ws.send":
            conn = self._connections.get(str(data.get("client")))
            if conn is not None:
                self._deliver([conn], text, None)
        elif kind == "ws.user" and isinstance(data.get("user"), int):
            self._to_user(data["user"], text)
        elif kind == "ws.broadcast":
            self._broadcast(text, data.get("permission"), data.get("unless"), data.get("coalesce"))

    async def receive_close_user(self, data: Mapping[str, Any]) -> None:
        """Another instance's ``close_user``: close that user's connections held here."""
        if isinstance(data.get("user"), int):
            code, reason = int(data.get("code") or 1000), str(data.get("reason") or "")
            await self.close_user_here(data["user"], code, reason)

    async def close_all(self) -> None:
        """Close every connection (1001), all at once, waiting at most ``CLOSE_WAIT_SECONDS``."""

        async def close(conn: Connection) -> None:
            await self.remove(conn)
            try:
                await conn.close(1001, "Server shutting down")
            except _SOCKET_ERRORS:  # already gone
                log.debug("ws_close_failed", client=conn.id)

        conns = list(self._connections.values())
        if conns:
            with contextlib.suppress(TimeoutError):  # stalled peers: the server drops them
                async with asyncio.timeout(CLOSE_WAIT_SECONDS):
                    await asyncio.gather(*(close(conn) for conn in conns))
