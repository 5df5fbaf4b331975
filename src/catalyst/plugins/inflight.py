"""The plugin requests being served, each under a deadline that a disconnect or shutdown ends early.

Every plugin route call runs inside ``asyncio.timeout(route timeout)``. The same deadline is
moved to *now* when the client goes away (its ``http.disconnect`` arrives) or the host shuts
down, so one mechanism ends the handler in all three cases and ``reason`` says which.

Watching for the disconnect must not steal the request body from the handler: the request's
``receive`` is wrapped. For the first :data:`WATCH_AFTER` seconds the handler reads the real
``receive`` itself (most requests are over by then, at no cost). After that, one pump task becomes
the only reader of the real ``receive``: body messages are queued for the handler in order, and a
disconnect ends the call.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final, Literal

from starlette.types import Message, Receive

Reason = Literal["timeout", "disconnect", "shutdown"]
WATCH_AFTER: Final = 0.2  # seconds before a call starts watching for the client going away


class Call:
    """One plugin request in flight."""

    __slots__ = (
        "_deadline",
        "_failure",
        "_handle",
        "_pending",
        "_pump",
        "_reading",
        "_real",
        "_wake",
        "reason",
    )

    def __init__(self, receive: Receive) -> None:
        self.reason: Reason | None = None
        self._real = receive
        self._deadline: asyncio.Timeout | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._pump: asyncio.Task[None] | None = None
        self._reading = False
        self._pending: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._failure: Exception | None = None

    # -- the handler's receive ---------------------------------------------------------------

    async def receive(self) -> Message:
        if self._pump is None:
            self._reading = True
            try:
                return await self._real()
            finally:
                self._reading = False
        while not self._pending and self._failure is None:
            self._wake.clear()
            await self._wake.wait()
        if not self._pending and self._failure is not None:
            raise self._failure
        if self._pending[0]["type"] == "http.disconnect":
            return self._pending[0]  # stays: every later receive says the same
        return self._pending.popleft()

    # -- watching ----------------------------------------------------------------------------

    def start(self, deadline: asyncio.Timeout) -> None:
        self._deadline = deadline
        self._handle = asyncio.get_running_loop().call_later(WATCH_AFTER, self._watch)

    def _watch(self) -> None:
        self._handle = None
        if self._reading:  # the handler is reading the body itself: look again shortly
            self._handle = asyncio.get_running_loop().call_later(WATCH_AFTER, self._watch)
            return
        self._pump = asyncio.create_task(self._run_pump(), name="plugin request disconnect watch")

    async def _run_pump(self) -> None:
        while True:
            try:
                message = await self._real()
            except Exception as exc:  # noqa: BLE001 - e.g. a body over the limit: the handler's
                self._failure = exc
                self._wake.set()
                return
            self._pending.append(message)
            self._wake.set()
            if message["type"] == "http.disconnect":
                self.end("disconnect")
                return

    def end(self, reason: Reason) -> None:
        """End the call now (its handler is cancelled at its next await)."""
        deadline = self._deadline
        if self.reason is None and deadline is not None and not deadline.expired():
            self.reason = reason
            deadline.reschedule(asyncio.get_running_loop().time())

    def finish(self) -> None:
        """The handler is done: stop watching (idempotent)."""
        self._deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()


class InFlight:
    """The calls being served, so shutdown can end them."""

    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call: Call) -> None:
        self._calls.add(call)
        self._idle.clear()

    def discard(self, call: Call) -> None:
        self._calls.discard(call)
        call.finish()
        if not self._calls:
            self._idle.set()

    async def end_all(self, wait: float) -> int:
        """End every call in flight (503 to its client); wait up to ``wait`` s for them to go."""
        calls = list(self._calls)
        for call in calls:
            call.end("shutdown")
        if calls:
            try:
                async with asyncio.timeout(wait):
                    await self._idle.wait()
            except TimeoutError:
                pass
        return len(calls)
