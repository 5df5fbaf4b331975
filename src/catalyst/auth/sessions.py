"""Login sessions: issue a random token, keep only its hash, verify and revoke it."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.auth.passwords import PasswordWorkers
from catalyst.auth.permissions import has_permission
from catalyst.db.models import AuthSession, User

_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user a request acts for."""

    user_id: int
    username: str
    roles: tuple[str, ...]
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return has_permission(self.permissions, permission)

    def public(self) -> dict[str, object]:
        return {
            "id": self.user_id,
            "username": self.username,
            "roles": list(self.roles),
            "permissions": sorted(self.permissions),
        }


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=tuple(sorted(r.name for r in user.roles)),
        permissions=frozenset(user.permissions),
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Issues and checks session tokens. Verified tokens are cached for a few seconds.

    Account changes (disable, role, password) call :meth:`forget_user` or :meth:`forget_all`
    after they commit: the cached principals go at once, and a verification that read the
    database before the change does not put its stale answer into the cache (the epoch moved).
    ``on_forget`` (the cluster backplane) is told each of them, and of each revoked token, so the
    other instances drop theirs too (:meth:`forgotten` applies what another instance forgot).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl_seconds: int,
        passwords: PasswordWorkers,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._passwords = passwords
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._epoch = 0
        self._flights: dict[tuple[str, int], asyncio.Future[Principal | None]] = {}
        #: Told ``{"user": id}``, ``{"all": True}`` or ``{"token": hash}`` after each forget.
        self.on_forget: Callable[[dict[str, Any]], None] | None = None

    async def authenticate(self, username: str, password: str) -> User | None:
        async with self._sessions() as db:
            user = await db.scalar(select(User).where(User.username == username))
        ok = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok or not user.is_active:
            return None
        return user

    async def issue(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self._sessions() as db, db.begin():
            db.add(
                AuthSession(
                    token_hash=_hash(token),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self._ttl),
                )
            )
        return token

    def cached(self, token: str) -> Principal | None:
        """The principal a recent :meth:`verify` of ``token`` found, while it is cached; else
        None (ask :meth:`verify`). Answers without a task switch."""
        cached = self._cache.get(_hash(token))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        return None

    async def verify(self, token: str) -> Principal | None:
        key = _hash(token)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        # One database read per token at a time: requests that miss the cache together (it
        # expires under load) share it. Not across an account change (the epoch is in the key).
        flight_key = (key, self._epoch)
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = asyncio.ensure_future(self._read(key))
            self._flights[flight_key] = flight
            flight.add_done_callback(functools.partial(self._landed, flight_key))
        return await asyncio.shield(flight)  # a caller that goes away leaves it to the others

    def _landed(
        self, flight_key: tuple[str, int], flight: asyncio.Future[Principal | None]
    ) -> None:
        if self._flights.get(flight_key) is flight:
            del self._flights[flight_key]
        if not flight.cancelled():
            flight.exception()  # retrieved: every caller may have gone away

    async def _read(self, key: str) -> Principal | None:
        epoch = self._epoch
        async with self._sessions() as db:
            row = await db.get(AuthSession, key)
            if row is None:
                return None
            if row.expires_at <= datetime.now(UTC):
                return None
            user = await db.get(User, row.user_id)
            if user is None or not user.is_active:
                return None
            principal = principal_of(user)
        if epoch != self._epoch:  # an account changed while we read: do not cache the old view
            return principal
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + _CACHE_SECONDS, principal)
        return principal

    async def accounts(self, user_ids: Collection[int]) -> dict[int, Principal]:
        """The principals these users stand for now, read afresh in one query (a user gone or
        disabled is missing from the answer)."""
        async with self._sessions() as db:
            users = await db.scalars(
                select(User).where(User.id.in_(list(user_ids)), User.is_active.is_(True))
            )
            return {user.id: principal_of(user) for user in users}

    def forget_user(self, user_id: int) -> None:
        """Drop every cached session of ``user_id`` (its account just changed)."""
        self._forget_user(user_id)
        self._tell({"user": user_id})

    def forget_all(self) -> None:
        """Drop the whole cache (a role's permissions changed)."""
        self._forget_all()
        self._tell({"all": True})

    async def revoke(self, token: str) -> None:
        key = _hash(token)
        self._cache.pop(key, None)
        async with self._sessions() as db, db.begin():
            await db.execute(delete(AuthSession).where(AuthSession.token_hash == key))
        self._epoch += 1  # a read of the row before the delete must not be cached
        self._cache.pop(key, None)
        self._tell({"token": key})

    def forgotten(self, what: dict[str, Any]) -> None:
        """Another instance forgot ``what`` (see ``on_forget``): forget it here too."""
        if what.get("all") is True:
            self._forget_all()
        elif isinstance(what.get("user"), int):
            self._forget_user(what["user"])
        elif isinstance(what.get("token"), str):
            self._epoch += 1
            self._cache.pop(what["token"], None)

    def _forget_user(self, user_id: int) -> None:
        self._epoch += 1
        for key in [k for k, (_, p) in self._cache.items() if p.user_id == user_id]:
            self._cache.pop(key, None)

    def _forget_all(self) -> None:
        self._epoch += 1
        self._cache.clear()

    def _tell(self, what: dict[str, Any]) -> None:
        if self.on_forget is not None:
            self.on_forget(what)
