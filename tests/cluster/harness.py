"""Real ``catalyst serve`` instances as one cluster, for the tests of issue 12 and bench/cluster.py.

``Cluster.start(n, root=..., plugins=...)`` creates one fresh (empty) PostgreSQL database, writes
the plugins into ONE shared plugins folder, then starts ``python -m catalyst serve --port P`` per
instance with its own ``CATALYST_INSTANCE_ID`` ("a", "b", "c"…) and data folder, the same secret
key and admin password, the machine's Redis (or the given one) and a ``CATALYST_CLUSTER_NAME``
unique to this cluster, so clusters never hear each other. The instances start together, as
machines behind a balancer do: they migrate the empty database, create the admin and the plugins'
rows among themselves (``together=False`` migrates here first and starts the first instance before
the others). On the way out every instance gets SIGTERM (then SIGKILL), the database is dropped
and the cluster's Redis keys are deleted.

``eventually(check)`` polls until ``check()`` returns something truthy and says how long that took,
so a test can assert "within 1 s". ``WsClient`` is a logged-in ``/ws`` connection whose messages a
reader thread collects (tests/cluster/wsclient.py); ``OwnRedis`` (own_redis.py) is a private
``redis-server`` a test may stop and restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import redis

from tests.conftest import REDIS_URL, FreshDatabases
from tests.test_serve_process import free_port

T = TypeVar("T")

ADMIN_PASSWORD = "cluster-admin-password"
SECRET_KEY = "cluster-tests-shared-secret-key-0123456789abcdef"
START_TIMEOUT = 60.0

#: A plugin as files relative to its folder ({"plugin.json": ..., "backend/plugin.py": ...}),
#: or a folder to copy (e.g. one of tests/fixture_plugins).
PluginSource = Mapping[str, str] | Path

#: Clusters running now, so a failing test's report can show their logs (tests/cluster/conftest).
LIVE: list[Cluster] = []


@dataclass(frozen=True)
class Converged(Generic[T]):
    value: T
    #: Seconds from the call of ``eventually`` to the first check that held.
    seconds: float


def eventually(
    check: Callable[[], T | None],
    timeout: float = 5.0,
    *,
    interval: float = 0.02,
    what: str = "the condition",
) -> Converged[T]:
    """Call ``check`` until it returns something truthy; an ``AssertionError`` or an HTTP
    transport error counts as "not yet". Fails after ``timeout`` seconds with the last answer."""
    started = time.monotonic()
    last: object = None
    while True:
        try:
            value = check()
        except (AssertionError, httpx.TransportError) as exc:
            value, last = None, exc
        else:
            last = value
        if value:
            return Converged(value, time.monotonic() - started)
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} did not hold within {timeout} s; last: {last!r}")
        time.sleep(interval)


def never(check: Callable[[], object], seconds: float, *, what: str = "it") -> None:
    """Assert that ``check()`` stays falsy for ``seconds`` (a bounded watch, not a sleep)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        assert not value, f"{what} happened: {value!r}"
        time.sleep(0.05)


def write_plugins(folder: Path, plugins: Mapping[str, PluginSource]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in plugins.items():
        target = folder / name
        if isinstance(source, Path):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            continue
        for rel, text in source.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


class Instance:
    """One ``catalyst serve`` (``extra_args=["--workers", "2"]`` for several behind its port)."""

    def __init__(self, id: str, root: Path, env: Mapping[str, str], extra_args: Sequence[str] = ()):
        """``CATALYST_INSTANCE_ID`` is ``id``, except under ``--workers`` (each worker has its
        own id, made by the host)."""
        self.id = id
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = root / id
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = root / f"{id}.log"
        self.env = {**env, "CATALYST_DATA_DIR": str(self.data_dir)}
        if "--workers" not in extra_args:
            self.env["CATALYST_INSTANCE_ID"] = id
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        #: The admin's bearer token header (set by ``wait_ready``).
        self.headers: dict[str, str] = {}
        self.http = httpx.Client(base_url=self.base, timeout=10)

    # -- process --------------------------------------------------------------------------------

    def launch(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"--- launch {time.strftime('%X')} ---\n".encode())
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "catalyst",
                    "serve",
                    "--port",
                    str(self.port),
                    *self.extra_args,
                ],
                env=self.env,
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes its plugins too
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"instance {self.id} exited:\n{self.log_tail()}")
            with suppress(httpx.TransportError):
                if self.http.get("/api/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"instance {self.id} did not start:\n{self.log_tail()}")
            time.sleep(0.05)
        self.headers = {"Authorization": f"Bearer {self.login('admin', ADMIN_PASSWORD)}"}

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the instance and its plugin processes (a crash: no shutdown runs)."""
        if self.proc is not None and self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after ``timeout`` seconds."""
        self.terminate()
        self.reap(timeout)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def reap(self, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        with suppress(ProcessLookupError):  # plugin processes left behind by the instance
            os.killpg(self.proc.pid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.launch()
        self.wait_ready()

    def log_size(self) -> int:
        """Where the log ends now (for ``log_since``)."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- HTTP -----------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> str:
        r = self.http.post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, f"login {username} on {self.id}: {r.status_code} {r.text}"
        token: str = r.json()["data"]["token"]
        return token

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A request as the admin, or with ``token``."""
        headers = {"Authorization": f"Bearer {token}"} if token else self.headers
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The ``data`` of a 2xx answer (fails the test otherwise)."""
        r = self.request(method, path, **kwargs)
        assert r.is_success, f"{method} {path} on {self.id}: {r.status_code} {r.text}"
        return r.json().get("data")

    def plugin(self, name: str) -> dict[str, Any]:
        """``GET /api/plugins/<name>`` as the admin."""
        data: dict[str, Any] = self.ok("GET", f"/api/plugins/{name}")
        return data

    def route(self, plugin: str, path: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
        """A request to a plugin's own route, as the admin."""
        return self.request(method, f"/api/plugins/{plugin}{path}", **kwargs)

    def close(self) -> None:
        self.http.close()


class Cluster:
    def __init__(self, root: Path, name: str, database_url: str, env: dict[str, str]) -> None:
        self.root = root
        self.name = name
        self.database_url = database_url
        self.env = env
        self.plugins_dir = Path(env["CATALYST_PLUGINS_DIR"])
        self.instances: list[Instance] = []

    @property
    def a(self) -> Instance:
        return self.instances[0]

    @property
    def b(self) -> Instance:
        return self.instances[1]

    @property
    def c(self) -> Instance:
        return self.instances[2]

    def by_id(self, id: str) -> Instance:
        return next(i for i in self.instances if i.id == id)

    @classmethod
    @contextmanager
    def start(
        cls,
        n: int,
        *,
        root: Path,
        plugins: Mapping[str, PluginSource] | None = None,
        auto_enable: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        redis_url: str = REDIS_URL,
        extra_args: Sequence[str] = (),
        together: bool = True,
    ) -> Iterator[Cluster]:
        """Start ``n`` instances (ids a, b, c…) sharing one new database, Redis and plugins
        folder; ``extra_args`` go to every ``serve`` (``["--workers", "2"]``)."""
        databases = FreshDatabases("postgresql", root)
        database_url = databases.new()
        name = f"t{uuid.uuid4().hex[:12]}"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
        shared = {
            **base_env,
            "PYTHONUNBUFFERED": "1",
            "CATALYST_DATABASE_URL": database_url,
            "CATALYST_REDIS_URL": redis_url,
            "CATALYST_CLUSTER_NAME": name,
            "CATALYST_PLUGINS_DIR": str(root / "plugins"),
            "CATALYST_PLUGIN_AUTO_ENABLE": json.dumps(list(auto_enable)),
            "CATALYST_SECRET_KEY": SECRET_KEY,
            "CATALYST_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CATALYST_LOG_FORMAT": "json",
            "CATALYST_LOG_LEVEL": "info",
            **(env or {}),
        }
        cluster = cls(root, name, database_url, shared)
        try:
            write_plugins(cluster.plugins_dir, plugins or {})
            ids = [chr(ord("a") + i) for i in range(n)]
            cluster.instances = [Instance(i, root, shared, extra_args) for i in ids]
            LIVE.append(cluster)
            waves = [cluster.instances]
            if not together:
                asyncio.run(_prepare(database_url))
                waves = [cluster.instances[:1], cluster.instances[1:]]
            for wave in waves:
                for instance in wave:
                    instance.launch()
                for instance in wave:
                    instance.wait_ready()
            yield cluster
        finally:
            if cluster in LIVE:
                LIVE.remove(cluster)
            for instance in cluster.instances:
                instance.terminate()
            for instance in cluster.instances:
                instance.reap()
                instance.close()
            databases.drop_all()
            _delete_keys(redis_url, name)

    def add_instance(self, extra_args: Sequence[str] = ()) -> Instance:
        """One more instance (the next letter), started and ready."""
        instance = Instance(chr(ord("a") + len(self.instances)), self.root, self.env, extra_args)
        self.instances.append(instance)
        instance.launch()
        instance.wait_ready()
        return instance

    def logs(self, lines: int = 40) -> str:
        return "\n".join(f"=== {i.id} ({i.base}) ===\n{i.log_tail(lines)}" for i in self.instances)


async def _prepare(database_url: str) -> None:
    """Migrate and create the admin once, before any instance starts."""
    from catalyst.auth.bootstrap import ensure_admin
    from catalyst.db import migrate
    from catalyst.db.engine import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await ensure_admin(session_factory(engine), "admin", ADMIN_PASSWORD)
    finally:
        await engine.dispose()


def _delete_keys(url: str, prefix: str) -> None:
    with suppress(redis.RedisError, OSError):
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
