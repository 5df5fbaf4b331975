"""A request counter: counted in memory, flushed to storage as deltas.

Kept apart from ``plugin.py`` to show that a plugin's own modules import relatively, and that
two plugins with the same module names never collide.
"""

from __future__ import annotations

import time

STORAGE_KEY = "request_count"


class RequestCounter:
    def __init__(self, base: int) -> None:
        self.base = base  # what storage held when this generation loaded
        self.pending = 0  # counted since the last flush
        self.started = time.monotonic()

    def hit(self) -> None:
        self.pending += 1

    @property
    def total(self) -> int:
        return self.base + self.pending

    def take(self) -> int:
        """The unflushed count, reset to zero (the caller adds it to storage)."""
        delta, self.pending = self.pending, 0
        return delta

    def synced(self, stored: int) -> None:
        """Storage now holds ``stored`` (which includes every flushed delta)."""
        self.base = stored
