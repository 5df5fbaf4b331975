"""Failed-login limits per client address (any username) and per username (any address).

A moving window of ``window`` seconds from the ``limits`` library. A login is checked against
both limits before its password is hashed, and a failure counts against both; a success clears
the username's count.

Where the counts live: with ``CATALYST_REDIS_URL`` set, in Redis (keys under
``<cluster_name>:login:``), so every instance of a cluster counts the same failures. They are
also always counted in this process's memory, which is consulted too: a login never fails
because Redis is away, and a flood during an outage (or after Redis came back empty) is still
limited per instance. The
loss and the recovery are logged once each; while Redis is away it is tried again at most every
``retry_seconds`` (by one login, the others answered from memory meanwhile).

Memory stays bounded: an entry is only made by a failed login, which costs an argon2
verification in a bounded pool, so entries grow no faster than hashing runs, expire after the
window, and past ``max_keys`` live keys the store starts afresh.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from catalyst.errors import TooManyRequests
from catalyst.http.bounded import shorten
from catalyst.log import get_logger
from catalyst.settings import Settings

log = get_logger("auth.ratelimit")
T = TypeVar("T")
#: What a Redis that is down, unreachable or too slow raises through ``limits``.
_REDIS_ERRORS: Final = (RedisError, StorageError, OSError, TimeoutError)
#: Seconds a Redis command (or connecting) may take before the login is answered from memory.
REDIS_TIMEOUT: Final = 0.5


class _Shared(enum.Enum):
    UNAVAILABLE = "unavailable"


def limits_uri(redis_url: str) -> str:
    """``redis://…`` as the ``limits`` library spells its asyncio Redis storage."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


class LoginRateLimiter:
    def __init__(
        self,
        per_username: int,
        per_address: int,
        window: float,
        *,
        max_keys: int = 100_000,
        redis_url: str | None = None,
        key_prefix: str = "catalyst",
        retry_seconds: float = 5.0,
    ) -> None:
        seconds = max(1, math.ceil(window))
        self.per_username = RateLimitItemPerSecond(per_username, seconds)
        self.per_address = RateLimitItemPerSecond(per_address, seconds)
        self.max_keys = max_keys
        self.retry_seconds = retry_seconds
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._redis: RedisStorage | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url:
            options: dict[str, Any] = {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
                "retry": Retry(NoBackoff(), 0),  # no retries: memory answers at once instead
            }
            self._redis = RedisStorage(
                limits_uri(redis_url),
                implementation="redispy",
                key_prefix=f"{key_prefix}:login",
                **options,
            )
            self._shared = MovingWindowRateLimiter(self._redis)
        #: When Redis was found away (monotonic), None while it answers.
        self.down_since: float | None = None
        self._retry_at = 0.0

    @classmethod
    def from_settings(cls, s: Settings) -> LoginRateLimiter:
        return cls(
            s.login_max_attempts,
            s.login_max_attempts_per_address,
            s.login_window_seconds,
            redis_url=s.redis_url,
            key_prefix=s.cluster_name,
        )

    @property
    def shared(self) -> bool:
        """Whether counts go to Redis (configured, and not known to be away)."""
        return self._shared is not None and self.down_since is None

    @staticmethod
    def _user(username: str) -> tuple[str, str]:
        return ("login-user", username.lower())

    @staticmethod
    def _address(client: str) -> tuple[str, str]:
        return ("login-address", client)

    async def check(self, username: str, client: str) -> None:
        """Raise TooManyRequests when this address, or this username, failed too often: in the
        cluster (Redis), or as this instance alone counted (its memory, always consulted: it
        also covers an outage, and a Redis that came back empty)."""
        refusal = await self._refusal(self._limiter, username, client)
        if refusal is None:
            shared = await self._on_shared(lambda limiter: self._refusal(limiter, username, client))
            if isinstance(shared, TooManyRequests):
                refusal = shared
        if refusal is not None:
            raise refusal

    async def _refusal(
        self, limiter: MovingWindowRateLimiter, username: str, client: str
    ) -> TooManyRequests | None:
        if not await limiter.test(self.per_address, *self._address(client)):
            retry = await self._retry_after(limiter, self.per_address, self._address(client))
            return TooManyRequests(
                f"Too many failed logins from this address; try again in {int(retry) + 1} s",
                retry_after=retry,
            )
        if not await limiter.test(self.per_username, *self._user(username)):
            retry = await self._retry_after(limiter, self.per_username, self._user(username))
            return TooManyRequests(
                f"Too many failed logins for {shorten(username, 64)!r}; "
                f"try again in {int(retry) + 1} s",
                retry_after=retry,
            )
        return None

    @staticmethod
    async def _retry_after(
        limiter: MovingWindowRateLimiter, item: RateLimitItem, key: tuple[str, str]
    ) -> float:
        stats = await limiter.get_window_stats(item, *key)
        return max(0.0, stats.reset_time - time.time())

    async def failed(self, username: str, client: str) -> None:
        if self.key_count() >= self.max_keys:
            log.warning("login_limiter_reset", keys=self.key_count())
            await self._storage.reset()
        await self._hit(self._limiter, username, client)
        await self._on_shared(lambda limiter: self._hit(limiter, username, client))

    async def _hit(self, limiter: MovingWindowRateLimiter, username: str, client: str) -> None:
        await limiter.hit(self.per_address, *self._address(client))
        await limiter.hit(self.per_username, *self._user(username))

    async def succeeded(self, username: str, client: str) -> None:
        await self._limiter.clear(self.per_username, *self._user(username))
        await self._on_shared(
            lambda limiter: limiter.clear(self.per_username, *self._user(username))
        )

    def key_count(self) -> int:
        """Live keys in this process's store (failed logins within the window, by address and
        username)."""
        return len(self._storage.events)

    async def close(self) -> None:
        """Close the Redis connections (at app stop)."""
        if self._redis is not None:
            client = getattr(self._redis.bridge, "storage", None)  # the redis-py client
            if client is not None:
                await client.aclose()

    async def _on_shared(
        self, op: Callable[[MovingWindowRateLimiter], Awaitable[T]]
    ) -> T | _Shared:
        """``op`` on the Redis counts, or UNAVAILABLE (not configured, known to be away, or
        failing now: then it is noted, and logged if it just went away)."""
        shared = self._shared
        if shared is None:
            return _Shared.UNAVAILABLE
        if self.down_since is not None:
            now = time.monotonic()
            if now < self._retry_at:
                return _Shared.UNAVAILABLE
            self._retry_at = now + self.retry_seconds  # this call tries; the others wait
        try:
            result = await op(shared)
        except _REDIS_ERRORS as exc:
            self._lost(exc)
            return _Shared.UNAVAILABLE
        if self.down_since is not None:
            away = round(time.monotonic() - self.down_since, 1)
            self.down_since = None
            log.info("login_limiter_redis_back", seconds_away=away)
        return result

    def _lost(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + self.retry_seconds
        if self.down_since is None:
            self.down_since = now
            log.warning(
                "login_limiter_redis_lost",
                error=shorten(f"{type(exc).__name__}: {exc}", 300),
                fallback="per-instance memory",
            )
