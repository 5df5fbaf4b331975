"""The failed-login limit counted in Redis, shared by every instance of a cluster, and answered
from each instance's memory while Redis is away."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from redis import Redis
from structlog.testing import capture_logs

from catalyst.auth.ratelimit import LoginRateLimiter
from catalyst.errors import TooManyRequests
from tests.conftest import HarnessFactory, require_redis
from tests.test_serve_process import free_port


@pytest.fixture
def redis_url() -> str:
    return require_redis()


class OwnRedis:
    """A ``redis-server`` of this test alone (never the machine's shared one), without
    persistence, which the test may stop, freeze and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with Redis(port=self.port, socket_connect_timeout=0.2) as client:
                    client.ping()
                return
            except Exception:
                assert self.proc.poll() is None, "redis-server did not start"
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def limiters(url: str, count: int, prefix: str) -> AsyncIterator[list[LoginRateLimiter]]:
    made = [
        LoginRateLimiter(5, 100, 60.0, redis_url=url, key_prefix=prefix, retry_seconds=0.05)
        for _ in range(count)
    ]
    try:
        yield made
    finally:
        for limiter in made:
            await limiter.close()


async def test_two_instances_share_the_count(redis_url: str) -> None:
    cluster = f"test-{uuid.uuid4().hex[:10]}"
    async with (
        limiters(redis_url, 2, cluster) as (a, b),
        limiters(redis_url, 1, "other-" + cluster) as (c,),
    ):
        for limiter in (a, b, a, b, a):  # 5 failures, spread over both
            await limiter.check("alice", "10.0.0.1")
            await limiter.failed("alice", "10.0.0.1")
        for limiter in (a, b):
            with pytest.raises(TooManyRequests, match="alice"):
                await limiter.check("alice", "10.0.0.2")
        assert a.shared
        assert b.shared
        await c.check("alice", "10.0.0.1")  # another cluster's counts are its own
        await b.succeeded("alice", "10.0.0.3")  # a success clears the username everywhere
        await a.check("alice", "10.0.0.1")
    with Redis.from_url(redis_url) as client:
        keys = [k.decode() for k in client.scan_iter(f"{cluster}:login:*")]
    assert keys
    assert all(k.startswith(f"{cluster}:login:") for k in keys)


async def test_logins_on_two_apps_share_the_limit(
    harness_factory: HarnessFactory, redis_url: str
) -> None:
    shared = {"redis_url": redis_url, "cluster_name": f"test-{uuid.uuid4().hex[:10]}"}
    one = await harness_factory(**shared)
    two = await harness_factory(**shared)
    await one.create_admin()
    clients = [one.new_client(), two.new_client()]

    async def login(client: httpx.AsyncClient, password: str) -> httpx.Response:
        return await client.post(
            "/api/auth/login", json={"username": "admin", "password": password}
        )

    for i in range(5):
        assert (await login(clients[i % 2], "wrong")).status_code == 401
    for client in clients:
        refused = await login(client, one.admin_password)  # even the right password: limited
        assert refused.status_code == 429, refused.text
        assert refused.json()["success"] is False
        assert int(refused.headers["Retry-After"]) >= 1


async def test_redis_outage_falls_back_to_memory_and_recovers(own_redis: OwnRedis) -> None:
    cluster = f"test-{uuid.uuid4().hex[:10]}"
    async with limiters(own_redis.url, 1, cluster) as (limiter,):
        await limiter.failed("bob", "10.0.0.1")
        await limiter.failed("bob", "10.0.0.1")
        assert limiter.shared
        with capture_logs() as logs:
            own_redis.stop()
            for _ in range(3):  # answered, not raised: counted in this instance's memory
                await limiter.check("bob", "10.0.0.1")
                await limiter.failed("bob", "10.0.0.1")
            with pytest.raises(TooManyRequests):  # 5 failures, 2 of them before the outage
                await limiter.check("bob", "10.0.0.1")
        assert not limiter.shared
        assert [e["event"] for e in logs].count("login_limiter_redis_lost") == 1
        assert "login_limiter_redis_back" not in [e["event"] for e in logs]

        own_redis.start()  # an empty Redis again (no persistence)
        await asyncio.sleep(limiter.retry_seconds)  # the next try of Redis is due
        with capture_logs() as logs:
            await limiter.check("carol", "10.0.0.9")
            await limiter.check("carol", "10.0.0.9")
        assert limiter.shared
        assert [e["event"] for e in logs] == ["login_limiter_redis_back"]
        with pytest.raises(TooManyRequests):  # Redis came back empty: memory still refuses
            await limiter.check("bob", "10.0.0.1")


async def test_a_frozen_redis_costs_a_login_its_timeout_not_an_error(
    own_redis: OwnRedis,
) -> None:
    async with limiters(own_redis.url, 1, f"test-{uuid.uuid4().hex[:10]}") as (limiter,):
        await limiter.failed("dave", "10.0.0.1")
        assert own_redis.proc is not None
        own_redis.proc.send_signal(signal.SIGSTOP)  # accepts connections, never answers
        try:
            began = time.monotonic()
            await limiter.check("dave", "10.0.0.1")
            await limiter.failed("dave", "10.0.0.1")
            assert time.monotonic() - began < 3
            assert not limiter.shared
        finally:
            own_redis.proc.send_signal(signal.SIGCONT)


async def test_an_app_answers_logins_while_its_redis_is_down(
    harness_factory: HarnessFactory, own_redis: OwnRedis
) -> None:
    harness = await harness_factory(redis_url=own_redis.url, login_max_attempts=3)
    await harness.create_admin()
    client = harness.new_client()

    async def login(password: str) -> httpx.Response:
        return await client.post(
            "/api/auth/login", json={"username": "admin", "password": password}
        )

    assert (await login("wrong")).status_code == 401
    own_redis.stop()
    assert (await login(harness.admin_password)).status_code == 200  # Redis away: still served
    for _ in range(3):
        assert (await login("wrong")).status_code == 401
    refused = await login("wrong")
    assert refused.status_code == 429, refused.text
