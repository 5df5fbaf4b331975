"""The Redis backplane: one pub/sub channel that carries invalidations and fan-out between the
instances of a cluster. The database stays the source of truth; a message only says "look again"
(or carries a WebSocket message or an event for clients and listeners on other instances).

Messages
    ``publish(kind, data)`` never blocks and may be called from any thread: the message (JSON,
    ``{"o": origin instance, "k": kind, "d": data}``) is queued and a writer task sends queued
    messages in order, pipelined. Every other instance hands it to the handlers of ``kind``;
    the instance that published it does not get it back. A sync handler runs inline (it must be
    quick); an async one is queued on its kind's own worker, so messages of one kind are handled
    in publish order without holding up the other kinds. At most ``OUTBOX_MAX`` messages wait;
    past it the oldest of the ``BULK_KINDS`` (events, WebSocket messages) are dropped and logged,
    never the rare ones that repair state (plugin changes, forgotten sessions), sent first.

Redis trouble
    Without ``redis_url`` the backplane is ``disabled`` and publishing does nothing (one instance).
    When Redis goes away the instance keeps serving: the loss is logged once, messages published
    meanwhile are dropped (counted), and the subscriber reconnects with a jittered exponential
    back-off (tenacity). A publish that fails twice counts as the loss too: the subscription is
    made afresh, so the status (and publishing) only come back with a working Redis. Once it is
    back, every ``on_reconnect`` callback runs (the host reconciles its state with the database,
    repairing whatever a lost message missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from catalyst.log import get_logger

log = get_logger("cluster.backplane")

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]
Status = Literal["disabled", "connecting", "ok", "down"]
#: Messages waiting to be sent at most; past it the oldest are dropped (Redis is too slow).
OUTBOX_MAX = 10_000
#: Messages of one kind waiting for its async handlers at most (past it they are dropped).
BACKLOG_MAX = 10_000
#: The kinds a plugin or a client can publish at any rate. Only these are dropped when the
#: outbox is full; the others (plugin changes, forgotten sessions, closed users) are rare, repair
#: state, and are queued apart and sent first, so a burst cannot push them out.
BULK_KINDS = frozenset({"event", "ws.send", "ws.user", "ws.broadcast"})
_BATCH = 256
_CONNECTION_ERRORS = (RedisError, OSError)


class _Lost(Exception):
    """The subscription was up and broke: start the back-off afresh."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Backplane:
    """See the module docstring."""

    def __init__(self, url: str | None, cluster: str, instance_id: str) -> None:
        self.instance_id = instance_id
        self.enabled = bool(url)
        self.channel = f"{cluster}:bus"
        self.status: Status = "connecting" if self.enabled else "disabled"
        #: Awaited (each in its own task) after Redis came back.
        self.on_reconnect: list[Callable[[], Awaitable[None]]] = []
        self.redis: Redis | None = (
            Redis.from_url(
                url, socket_connect_timeout=2.0, socket_timeout=5.0, health_check_interval=10
            )
            if url
            else None
        )
        self._handlers: dict[str, list[Handler]] = {}
        self._queues: dict[str, asyncio.Queue[Awaitable[None]]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._outbox: deque[str] = deque()
        self._control: deque[str] = deque()  # the kinds not in BULK_KINDS, sent first
        self._outbox_full = False
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()  # set while nothing is queued or being sent
        self._drained.set()
        self._up = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._ever_connected = False
        self._stopping = False
        self._generation = 0  # the current subscriber's; a replaced one stops reading
        self._overflowing: set[str] = set()
        self.published = 0
        self.received = 0
        self.dropped = 0
        self.reconnects = 0

    # -- use ---------------------------------------------------------------------------------

    def on(self, kind: str, handler: Handler) -> None:
        """Hand every ``kind`` message from another instance to ``handler(data)``."""
        self._handlers.setdefault(kind, []).append(handler)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Queue a message for the other instances; never blocks, from any thread."""
        if not self.enabled or self._loop is None:
            return
        try:
            text = json.dumps(
                {"o": self.instance_id, "k": kind, "d": data},
                separators=(",", ":"),
                default=_jsonable,
            )
        except (TypeError, ValueError) as exc:
            self.dropped += 1
            log.warning("cluster_message_not_sent", kind=kind, error=str(exc))
            return
        bulk = kind in BULK_KINDS
        if threading.get_ident() == self._loop_thread:
            self._enqueue(text, bulk)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
                self._loop.call_soon_threadsafe(self._enqueue, text, bulk)

    # -- lifetime ----------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.enabled or self._tasks:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._subscribe(self._generation), name="cluster-subscriber"),
            asyncio.create_task(self._write(), name="cluster-publisher"),
        ]

    async def connected(self) -> None:
        """Wait until the subscription is up (bound it with ``asyncio.timeout``)."""
        await self._up.wait()

    async def stop(self) -> None:
        if not self._drained.is_set() and self.status == "ok":  # let what was published go out
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._drained.wait()
        self._stopping = True
        tasks = [*self._tasks, *self._workers, *self._background]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: a subscriber also sees _stopping within a second
            _, stuck = await asyncio.wait(tasks, timeout=3.0)
            for task in stuck:
                log.warning("cluster_task_did_not_stop", task=task.get_name())
        self._tasks.clear()
        for queue in self._queues.values():  # work never started: close it quietly
            while not queue.empty():
                pending = queue.get_nowait()
                if inspect.iscoroutine(pending):
                    pending.close()
        self._loop = None
        if self.redis is not None:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await self.redis.aclose()

    # -- publishing --------------------------------------------------------------------------

    _loop_thread: int = -1

    def _enqueue(self, text: str, bulk: bool = True) -> None:
        if self.status == "down":
            self.dropped += 1  # the reconcile after the reconnect repairs the state
            return
        queue = self._outbox if bulk else self._control
        if len(queue) >= OUTBOX_MAX:
            queue.popleft()
            self.dropped += 1
            if not self._outbox_full:  # once per burst, not once per message
                self._outbox_full = True
                log.warning("cluster_outbox_full", limit=OUTBOX_MAX, bulk=bulk)
        queue.append(text)
        self._drained.clear()
        self._wake.set()

    def _next_batch(self) -> list[str]:
        batch: list[str] = []
        for queue in (self._control, self._outbox):
            while queue and len(batch) < _BATCH:
                batch.append(queue.popleft())
        return batch

    async def _send(self, batch: list[str]) -> None:
        assert self.redis is not None
        async with self.redis.pipeline(transaction=False) as pipe:
            for text in batch:
                pipe.publish(self.channel, text)
            await pipe.execute()

    async def _write(self) -> None:
        assert self.redis is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._drained.clear()
            while batch := self._next_batch():
                try:
                    try:
                        await self._send(batch)
                    except _CONNECTION_ERRORS:
                        # The pool's connection may predate a Redis restart: once more, on a
                        # new one, before giving the batch up.
                        await self._send(batch)
                    self.published += len(batch)
                except _CONNECTION_ERRORS as exc:
                    self.dropped += len(batch) + len(self._outbox) + len(self._control)
                    self._outbox.clear()
                    self._control.clear()
                    self._lost(exc)
                    self._resubscribe()
            self._outbox_full = False
            self._drained.set()

    # -- subscribing -------------------------------------------------------------------------

    def _current(self, generation: int) -> bool:
        """Whether the subscriber of ``generation`` should go on: not stopping, not replaced.
        Checked between reads too: a cancellation lost inside the Redis client (it retries
        a read that timed out as the cancellation came) must not keep an old one alive."""
        return not self._stopping and generation == self._generation

    async def _subscribe(self, generation: int = 0) -> None:
        while self._current(generation):
            retrying = AsyncRetrying(
                wait=wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.2),
                retry=retry_if_exception_type(_CONNECTION_ERRORS),
                before_sleep=self._retrying,
            )
            try:
                async for attempt in retrying:
                    with attempt:
                        await self._listen(generation)
            except _Lost:
                continue  # it was up: start the back-off afresh
            except Exception as exc:  # a bug here must not end the subscription for good
                log.exception("cluster_subscriber_failed")
                self._lost(exc)
                await asyncio.sleep(1.0)

    def _resubscribe(self) -> None:
        """Publishing failed: the subscription may still look up, but the status must not come
        back (nor publishing resume) until a new one is made, which also runs the repair."""
        old = self._tasks[0] if self._tasks else None
        if old is None or old.done():
            return
        old.cancel()
        self._background.add(old)  # awaited by stop() should it still be finishing
        old.add_done_callback(self._background.discard)
        self._generation += 1
        self._tasks[0] = asyncio.create_task(
            self._subscribe(self._generation), name="cluster-subscriber"
        )

    def _retrying(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        self._lost(exc if isinstance(exc, BaseException) else None)

    async def _listen(self, generation: int) -> None:
        assert self.redis is not None
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            self._connected()
            try:
                while self._current(generation):
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and self._current(generation):
                        self._dispatch(message["data"])
            except _CONNECTION_ERRORS as exc:
                self._lost(exc)
                raise _Lost from exc
        finally:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _connected(self) -> None:
        again = self._ever_connected
        was = self.status
        self.status = "ok"
        self._up.set()
        self._ever_connected = True
        if was == "down":
            log.warning("redis_back", channel=self.channel)
        if again:
            self.reconnects += 1
            for callback in self.on_reconnect:
                task = asyncio.create_task(self._guarded(callback), name="cluster-reconnected")
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    def _lost(self, exc: BaseException | None) -> None:
        if self.status != "down":
            log.error("redis_lost", channel=self.channel, error=str(exc) if exc else None)
        self.status = "down"
        self._up.clear()

    @staticmethod
    async def _guarded(callback: Callable[[], Awaitable[None]]) -> None:
        try:
            await callback()
        except Exception:
            log.exception("cluster_reconnect_callback_failed")

    def _dispatch(self, raw: bytes | str) -> None:
        try:
            message = json.loads(raw)
            origin, kind, data = message["o"], message["k"], message["d"]
        except (ValueError, KeyError, TypeError):
            log.warning("cluster_message_malformed")
            return
        if origin == self.instance_id:
            return
        self.received += 1
        for handler in self._handlers.get(kind, ()):
            try:
                result = handler(data)
            except Exception:
                log.exception("cluster_handler_failed", kind=kind)
                continue
            if result is not None:
                self._hand_over(kind, result)

    def _hand_over(self, kind: str, pending: Awaitable[None]) -> None:
        """Queue an async handler's work on its kind's worker; past ``BACKLOG_MAX`` waiting (a
        flood of one kind while its handlers are slow) the message is dropped and counted."""
        try:
            self._queue(kind).put_nowait(pending)
        except asyncio.QueueFull:
            if inspect.iscoroutine(pending):
                pending.close()  # never awaited: no "never awaited" warning
            self.dropped += 1
            if kind not in self._overflowing:
                self._overflowing.add(kind)
                log.warning("cluster_backlog_full", kind=kind, waiting=BACKLOG_MAX)

    def _queue(self, kind: str) -> asyncio.Queue[Awaitable[None]]:
        queue = self._queues.get(kind)
        if queue is None:
            queue = self._queues[kind] = asyncio.Queue(BACKLOG_MAX)
            self._workers.append(asyncio.create_task(self._work(kind, queue), name=f"bp-{kind}"))
        return queue

    async def _work(self, kind: str, queue: asyncio.Queue[Awaitable[None]]) -> None:
        while True:
            if queue.empty():
                self._overflowing.discard(kind)
            pending = await queue.get()
            try:
                await pending
            except Exception:
                log.exception("cluster_handler_failed", kind=kind)
