"""An injectable wall clock, so that time-driven code (the scheduler) can be tested without waiting.

``Clock`` is the protocol; ``SystemClock`` reads the real time; ``FakeClock`` is moved by tests with
``await clock.advance(seconds)``, which wakes every sleeper whose time has come, in time order, and
lets the woken tasks run before it returns. All datetimes are timezone-aware and in UTC.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, final

# SystemClock sleeps in slices of at most this many seconds and re-reads the wall clock after each
# one, so that a wall-clock jump (NTP, suspend) shifts a wake-up by at most this much.
_MAX_SLICE: Final = 60.0


class Clock(Protocol):
    """Where time-driven code gets the time and waits for it."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when`` (at once if it already is)."""
        ...


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {when.isoformat()}")
    return when.astimezone(UTC)


@final
class SystemClock:
    """The real wall clock. Never wakes early; a clock jump delays a wake-up by at most a minute."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        when = _as_utc(when)
        # Polling is the point: the wall clock is re-read after each slice (see _MAX_SLICE).
        while (delay := (when - self.now()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(delay, _MAX_SLICE))


@final
class FakeClock:
    """A clock that only moves when told to; for tests.

    ``sleep_until`` parks the caller until ``advance``/``advance_to`` reaches its time. Advancing
    steps through the due wake-ups in time order: ``now()`` equals each sleeper's time when it
    wakes, and the loop is given ``settle_rounds`` turns after each step so the woken tasks (and
    tasks they start) progress, e.g. to their next ``sleep_until``.
    """

    def __init__(self, start: datetime | None = None, *, settle_rounds: int = 20) -> None:
        self._now = _as_utc(start) if start is not None else datetime(2024, 1, 1, tzinfo=UTC)
        self._settle_rounds = settle_rounds
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Set the time (either direction) without waking anyone; the next advance wakes them."""
        self._now = _as_utc(when)

    @property
    def sleepers(self) -> int:
        """How many callers are parked in ``sleep_until``."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    def next_wakeup(self) -> datetime | None:
        """The earliest time a parked caller waits for, if any."""
        live = [when for when, _, fut in self._sleepers if not fut.done()]
        return min(live, default=None)

    async def sleep_until(self, when: datetime) -> None:
        when = _as_utc(when)
        if when <= self._now:
            await asyncio.sleep(0)  # still a suspension point, like a real zero-length sleep
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), fut))
        await fut  # a cancelled caller cancels fut; the heap drops it when it comes up

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking and running every sleeper due on the way."""
        if seconds < 0:
            raise ValueError(f"cannot advance a FakeClock by a negative amount ({seconds}s)")
        await self.advance_to(self._now + timedelta(seconds=seconds))

    async def advance_to(self, when: datetime) -> None:
        """Move time forward to ``when``, waking sleepers due on the way, in time order."""
        target = _as_utc(when)
        if target < self._now:
            raise ValueError(
                f"cannot move a FakeClock back from {self._now.isoformat()} to {target.isoformat()}"
            )
        await self.settle()  # let freshly started tasks reach their first sleep
        while self._sleepers and self._sleepers[0][0] <= target:
            due = self._sleepers[0][0]
            self._now = max(self._now, due)
            while self._sleepers and self._sleepers[0][0] <= due:
                _, _, fut = heapq.heappop(self._sleepers)
                if not fut.done():
                    fut.set_result(None)
            await self.settle()
        self._now = target
        await self.settle()

    async def settle(self) -> None:
        """Give the event loop a few turns so ready tasks run."""
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)
