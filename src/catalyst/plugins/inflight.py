"""The plugin requests being served, each under a deadline that a disconnect or shutdown ends early.

Every plugin route call runs inside an ``asyncio.timeout`` that ends at the route's deadline.
The same deadline is moved to *now* when the client goes away (its ``http.disconnect`` arrives)
or the host shuts down, so one mechanism ends the handler in all three cases and ``reason`` says
which.

Watching for the disconnect must not steal the request body from the handler: the request's
``receive`` is wrapped. For the first :data:`WATCH_AFTER` seconds the handler reads the real
``receive`` itself (most requests are over by then, at no cost). After that, one pump task becomes
the only reader of the real ``receive``: body messages are queued for the handler in order, and a
disconnect ends the call.

Most calls are over long before :data:`WATCH_AFTER`, so a call costs no timer of its own:
:class:`InFlight` keeps one timer for all of them, due when the oldest call turns
:data:`WATCH_AFTER` seconds old. Then the call starts watching, and a deadline further away
than that is armed (at its exact time); a shorter one is armed when the call starts.
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
        "_due",
        "_failure",
        "_handle",
        "_pending",
        "_pump",
        "_reading",
        "_real",
        "_wake",
        "reason",
        "started",
    )

    def __init__(self, receive: Receive) -> None:
        self.reason: Reason | None = None
        self._real = receive
        self._deadline: asyncio.Timeout | None = None
        #: Loop time the deadline is due at, while it is not armed yet.
        self._due: float | None = None
        #: Loop time the call started at.
        self.started = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._pump: asyncio.Task[None] | None = None
        self._reading = False
        self._pending: deque[Message] | None = None  # made with the pump, like _wake
        self._wake: asyncio.Event | None = None
        self._failure: Exception | None = None

    # -- the handler's receive ---------------------------------------------------------------

    async def receive(self) -> Message:
        if self._pump is None:
            self._reading = True
            try:
                return await self._real()
            finally:
                self._reading = False
        wake, pending = self._wake, self._pending
        assert wake is not None
        assert pending is not None
        while not pending and self._failure is None:
            wake.clear()
            await wake.wait()
        if not pending and self._failure is not None:
            raise self._failure
        if pending[0]["type"] == "http.disconnect":
            return pending[0]  # stays: every later receive says the same
        return pending.popleft()

    # -- watching ----------------------------------------------------------------------------

    def start(self, deadline: asyncio.Timeout, at: float, due: float | None) -> None:
        """The call runs under ``deadline`` (entered) since loop time ``at``; ``due``: when the
        deadline is to be armed at :data:`WATCH_AFTER` (None: it is armed already)."""
        self._deadline = deadline
        self.started = at
        self._due = due

    def mature(self) -> None:
        """The call is :data:`WATCH_AFTER` seconds old: arm its deadline, watch its client."""
        deadline = self._deadline
        if deadline is None:  # over already
            return
        if self._due is not None and self.reason is None and not deadline.expired():
            deadline.reschedule(self._due)
        self._due = None
        self._watch()

    def _watch(self) -> None:
        self._handle = None
        if self._reading:  # the handler is reading the body itself: look again shortly
            self._handle = asyncio.get_running_loop().call_later(WATCH_AFTER, self._watch)
            return
        self._wake = asyncio.Event()
        self._pending = deque()
        self._pump = asyncio.create_task(self._run_pump(), name="plugin request disconnect watch")

    async def _run_pump(self) -> None:
        wake, pending = self._wake, self._pending
        assert wake is not None
        assert pending is not None
        while True:
            try:
                message = await self._real()
            except Exception as exc:  # noqa: BLE001 - e.g. a body over the limit: the handler's
                self._failure = exc
                wake.set()
                return
            pending.append(message)
            wake.set()
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
    """The calls being served, so shutdown can end them; one timer matures them in turn."""

    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        #: Calls not :data:`WATCH_AFTER` seconds old yet, oldest first.
        self._young: deque[Call] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call: Call) -> None:
        """Track ``call`` (started just now: :meth:`Call.start` was called)."""
        self._calls.add(call)
        self._idle.clear()
        self._young.append(call)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_at(
                call.started + WATCH_AFTER, self._mature
            )

    def discard(self, call: Call) -> None:
        self._calls.discard(call)
        call.finish()
        young = self._young
        while young and young[0]._deadline is None:  # over: let it go now (most go in order)
            young.popleft()
        if not self._calls:
            self._idle.set()

    def _mature(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        young = self._young
        while young and (young[0]._deadline is None or young[0].started + WATCH_AFTER <= now):
            young.popleft().mature()
        self._timer = None
        if young:
            self._timer = loop.call_at(young[0].started + WATCH_AFTER, self._mature)

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
