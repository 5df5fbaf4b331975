"""Login floods: limits per address and per username, hashing off the event loop, a bounded queue.

Issue 9, item 1. The speed figures are in ``bench/login_flood.py``; these tests pin the mechanisms.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from catalyst.auth import passwords
from catalyst.auth.ratelimit import LoginRateLimiter
from tests.conftest import harness_of
from tests.plugin_helpers import AppFactory


def client(app: FastAPI, peer: str = "10.0.0.1") -> httpx.AsyncClient:
    return harness_of(app).new_client(peer=(peer, 40000))


async def bogus_login(c: httpx.AsyncClient, **headers: str) -> httpx.Response:
    body = {"username": f"u-{uuid.uuid4().hex[:10]}", "password": secrets.token_hex(6)}
    return await c.post("/api/auth/login", json=body, headers=headers)


async def test_random_usernames_from_one_address_get_429_after_the_address_budget(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(login_max_attempts_per_address=4)
    async with client(app, "10.0.0.1") as flooder, client(app, "10.0.0.2") as other:
        for _ in range(4):
            assert (await bogus_login(flooder)).status_code == 401
        blocked = await bogus_login(flooder)
        assert blocked.status_code == 429
        assert blocked.json()["success"] is False
        assert "from this address" in blocked.json()["error"]
        assert int(blocked.headers["Retry-After"]) >= 1
        # Another address is not blocked.
        assert (await bogus_login(other)).status_code == 401


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(app_factory: AppFactory) -> None:
    app = await app_factory(login_max_attempts_per_address=3)
    async with client(app, "10.0.0.1") as c:
        for i in range(3):
            r = await bogus_login(c, **{"X-Forwarded-For": f"203.0.113.{i}"})
            assert r.status_code == 401
        # A fresh X-Forwarded-For does not make a fresh client.
        r = await bogus_login(c, **{"X-Forwarded-For": "203.0.113.99"})
        assert r.status_code == 429


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(app_factory: AppFactory) -> None:
    app = await app_factory(login_max_attempts_per_address=3, forwarded_allow_ips=["10.0.0.0/8"])
    async with client(app, "10.0.0.1") as proxy:
        for _ in range(3):
            r = await bogus_login(proxy, **{"X-Forwarded-For": "203.0.113.5, 10.0.0.7"})
            assert r.status_code == 401
        blocked = await bogus_login(proxy, **{"X-Forwarded-For": "203.0.113.5"})
        assert blocked.status_code == 429
        # Another client behind the same proxy is its own address.
        r = await bogus_login(proxy, **{"X-Forwarded-For": "203.0.113.6"})
        assert r.status_code == 401


def test_forwarded_allow_ips_is_a_comma_list_of_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from catalyst.settings import Settings

    monkeypatch.setenv("CATALYST_FORWARDED_ALLOW_IPS", "10.0.0.1, 192.168.0.0/16")
    monkeypatch.setenv("CATALYST_ALLOWED_ORIGINS", "https://panel.example.com")
    s = Settings(_env_file=None)
    assert s.forwarded_allow_ips == ["10.0.0.1", "192.168.0.0/16"]
    assert s.allowed_origins == ["https://panel.example.com"]
    monkeypatch.setenv("CATALYST_FORWARDED_ALLOW_IPS", "not-an-ip")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


class BlockingHasher(PasswordHasher):
    """Real argon2, but ``verify`` waits for ``release`` (to catch it in progress)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.threads: list[int] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.threads.append(threading.get_ident())
        self.entered.set()
        self.release.wait(timeout=5)  # without the fix this blocks the loop, then lets go
        try:
            return super().verify(hash, password)
        finally:
            self.finished.set()


@pytest.fixture
def blocking_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockingHasher]:
    hasher = BlockingHasher()
    monkeypatch.setattr(passwords, "_hasher", hasher)
    yield hasher
    hasher.release.set()


@pytest.fixture
async def running(app: FastAPI) -> AsyncIterator[Callable[..., asyncio.Task[Any]]]:
    tasks: list[asyncio.Task[Any]] = []

    def start(coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        tasks.append(task)
        return task

    yield start
    for task in tasks:
        if not task.done():
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_health_answers_while_a_password_is_being_verified(
    app: FastAPI, blocking_hasher: BlockingHasher, running: Callable[..., asyncio.Task[Any]]
) -> None:
    async with client(app) as c:
        login = running(bogus_login(c))
        assert await asyncio.to_thread(blocking_hasher.entered.wait, 10)
        health = await c.get("/api/health")
        assert health.status_code == 200
        # The event loop served health while argon2 was still running: it runs in a thread.
        assert not blocking_hasher.finished.is_set()
        assert blocking_hasher.threads[0] != threading.get_ident()
        blocking_hasher.release.set()
        assert (await login).status_code == 401


async def test_logins_beyond_the_waiting_bound_get_503_with_retry_after(
    app_factory: AppFactory,
    blocking_hasher: BlockingHasher,
    running: Callable[..., asyncio.Task[Any]],
) -> None:
    app = await app_factory(login_hash_threads=1, login_max_waiting=1)
    workers = app.state.services.passwords
    async with client(app, "10.0.0.1") as a, client(app, "10.0.0.2") as b:
        first = running(bogus_login(a))
        assert await asyncio.to_thread(blocking_hasher.entered.wait, 10)
        second = running(bogus_login(b))
        async with asyncio.timeout(10):
            while workers.waiting < 1:  # the second login queues for the one hashing thread
                await asyncio.sleep(0)
        third = await bogus_login(b)
        assert third.status_code == 503
        assert third.json()["success"] is False
        assert int(third.headers["Retry-After"]) >= 1
        blocking_hasher.release.set()
        assert (await first).status_code == 401
        assert (await second).status_code == 401


async def test_the_limiter_keeps_a_bounded_number_of_keys() -> None:
    limiter = LoginRateLimiter(5, 5, 60.0, max_keys=10)
    for i in range(40):
        await limiter.failed(f"user-{i}", f"10.1.{i}.1")
    assert limiter.key_count() <= 10
    await limiter.check("someone", "10.9.9.9")


async def test_ipv6_clients_share_their_64_network() -> None:
    from catalyst.http.forwarded import client_host

    a = client_host({"client": ("2001:db8:1:2::1", 1)})
    b = client_host({"client": ("2001:db8:1:2:ffff::9", 1)})
    assert a == b == "2001:db8:1:2::/64"
    assert client_host({"client": ("::ffff:10.0.0.1", 1)}) == "10.0.0.1"
