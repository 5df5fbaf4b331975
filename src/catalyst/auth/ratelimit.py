"""Failed-login limits per client address (any username) and per username (any address).

A moving window of ``window`` seconds from the ``limits`` library, in memory. A login is checked
against both limits before its password is hashed, and a failure counts against both; a success
clears the username's count. Memory stays bounded: an entry is only made by a failed login,
which costs an argon2 verification in a bounded pool, so entries grow no faster than hashing
runs, expire after the window, and past ``max_keys`` live keys the store starts afresh.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from catalyst.errors import TooManyRequests
from catalyst.http.bounded import shorten
from catalyst.log import get_logger

log = get_logger("auth.ratelimit")


class LoginRateLimiter:
    def __init__(
        self, per_username: int, per_address: int, window: float, *, max_keys: int = 100_000
    ) -> None:
        seconds = max(1, math.ceil(window))
        self.per_username = RateLimitItemPerSecond(per_username, seconds)
        self.per_address = RateLimitItemPerSecond(per_address, seconds)
        self.max_keys = max_keys
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    @staticmethod
    def _user(username: str) -> tuple[str, str]:
        return ("login-user", username.lower())

    @staticmethod
    def _address(client: str) -> tuple[str, str]:
        return ("login-address", client)

    async def check(self, username: str, client: str) -> None:
        """Raise TooManyRequests when this address, or this username, failed too often."""
        if not await self._limiter.test(self.per_address, *self._address(client)):
            retry = await self._retry_after(self.per_address, self._address(client))
            raise TooManyRequests(
                f"Too many failed logins from this address; try again in {int(retry) + 1} s",
                retry_after=retry,
            )
        if not await self._limiter.test(self.per_username, *self._user(username)):
            retry = await self._retry_after(self.per_username, self._user(username))
            raise TooManyRequests(
                f"Too many failed logins for {shorten(username, 64)!r}; "
                f"try again in {int(retry) + 1} s",
                retry_after=retry,
            )

    async def _retry_after(self, item: RateLimitItem, key: tuple[str, str]) -> float:
        stats = await self._limiter.get_window_stats(item, *key)
        return max(0.0, stats.reset_time - time.time())

    async def failed(self, username: str, client: str) -> None:
        if self.key_count() >= self.max_keys:
            log.warning("login_limiter_reset", keys=self.key_count())
            await self._storage.reset()
        await self._limiter.hit(self.per_address, *self._address(client))
        await self._limiter.hit(self.per_username, *self._user(username))

    async def succeeded(self, username: str, client: str) -> None:
        await self._limiter.clear(self.per_username, *self._user(username))

    def key_count(self) -> int:
        """Live keys in the store (failed logins within the window, by address and username)."""
        return len(self._storage.events)
