"""A sliding-window limiter for failed logins, keyed by username and client address."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from catalyst.errors import TooManyRequests


class LoginRateLimiter:
    """Allows ``max_attempts`` failures per key within ``window`` seconds."""

    def __init__(
        self, max_attempts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self._clock()
        hits = self._failures.get(key)
        if hits is None:
            return deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if not hits:
            del self._failures[key]
        return hits

    def check(self, username: str, client: str) -> None:
        """Raise TooManyRequests when this username from this client failed too often."""
        key = (username.lower(), client)
        hits = self._recent(key)
        if len(hits) >= self.max_attempts:
            retry = max(0.0, self.window - (self._clock() - hits[0]))
            raise TooManyRequests(
                f"Too many failed logins for {username!r}; try again in {int(retry) + 1} s",
                retry_after=retry,
            )

    def failed(self, username: str, client: str) -> None:
        key = (username.lower(), client)
        self._failures.setdefault(key, deque()).append(self._clock())

    def succeeded(self, username: str, client: str) -> None:
        self._failures.pop((username.lower(), client), None)
