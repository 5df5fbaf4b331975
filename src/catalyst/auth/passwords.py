"""Password hashing with argon2id, off the event loop.

One argon2 call costs a few hundred milliseconds of CPU on purpose. :class:`PasswordWorkers`
runs them in a few threads of their own (argon2 releases the GIL), so the event loop keeps
serving while logins hash. At most ``threads`` hashes run at once and at most ``max_waiting``
callers queue for a thread; any more, or one that waited ``max_wait`` seconds, is refused with
503 and ``Retry-After`` (:class:`PasswordsBusy`). The plain functions are for the CLI and startup.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from catalyst.errors import ServiceUnavailable

T = TypeVar("T")

_hasher = PasswordHasher()
#: A real hash (made by the hasher in use) to verify against when the user does not exist, so
#: that timing does not tell.
_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("catalyst-dummy-password"))
    return _dummy[1]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing user still costs one verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and (
            password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


class PasswordsBusy(ServiceUnavailable):
    """Too many logins are waiting for a hashing thread; try again in ``retry_after`` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many logins in progress; try again shortly")
        self.retry_after = retry_after


class PasswordWorkers:
    def __init__(self, threads: int = 1, max_waiting: int = 16, max_wait: float = 5.0) -> None:
        self.threads = threads
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        # Same priority as the event loop on purpose: a lowered thread holding the GIL between
        # argon2 calls would be starved under load and stall the loop (priority inversion).
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="catalyst-passwords")
        self._slots = asyncio.Semaphore(threads)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Callers queued for a hashing thread right now."""
        return self._waiting

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self.run(verify_password, password_hash, password)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in a hashing thread, once one is free (see the module doc)."""
        if self._slots.locked() and self._waiting >= self.max_waiting:
            raise PasswordsBusy(self.max_wait)
        self._waiting += 1
        try:
            async with asyncio.timeout(self.max_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise PasswordsBusy(self.max_wait) from None
        finally:
            self._waiting -= 1
        loop = asyncio.get_running_loop()
        try:
            future: Future[T] = self._pool.submit(fn, *args)
        except BaseException:
            self._slots.release()
            raise

        def release(_done: Future[T]) -> None:
            # The slot is free once the thread is: a caller that gave up does not free it early.
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._slots.release)

        future.add_done_callback(release)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
