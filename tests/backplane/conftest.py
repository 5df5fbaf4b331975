"""Redis for the backplane tests: the machine's (``CATALYST_TEST_REDIS_URL``) with a cluster
name of each test's own, or a ``redis-server`` of the test's own that it may stop and restart."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from catalyst.settings import Settings
from tests.backplane.twins import Pair, make_pair
from tests.conftest import IN_CI
from tests.live_server import LiveFactory

REDIS_URL = os.environ.get("CATALYST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis(url: str = REDIS_URL) -> None:
    """Fail under CI=true, else skip, when Redis does not answer."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        reason = f"Redis at {url} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(reason + " (CI=true: Redis is required)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    require_redis()
    return REDIS_URL


@pytest.fixture
def cluster_name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OwnRedis:
    """A ``redis-server`` only this test uses: stop it and start it again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if IN_CI:
                pytest.fail("redis-server is not installed (CI=true: Redis is required)")
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except (redis.RedisError, OSError):
                assert time.monotonic() < deadline, "own redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def pair(
    settings: Settings, live_factory: LiveFactory, redis_url: str, cluster_name: str
) -> Pair:
    """Instances ``a`` and ``b`` on the test's database and a cluster name of its own, with the
    plugin ``twin`` (not enabled) in their shared plugin folder."""
    return await make_pair(settings, live_factory, redis_url, cluster_name)
