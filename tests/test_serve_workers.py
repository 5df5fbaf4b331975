"""``catalyst serve --workers 2``: one port, two worker processes on PostgreSQL and Redis, each a
host with its own plugin children; a dead worker is replaced; SIGTERM stops them all gracefully.

One server for the module (its last test stops it). Which worker answered a request is read
from ``/proc``: the worker holding the server end of the request's connection."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from catalyst.cli import app as cli_app
from tests.conftest import FreshDatabases, require_postgres
from tests.plugin_helpers import EXAMPLE, copy_fixture
from tests.serve_cluster import (
    alive,
    answered_by,
    children,
    cluster_env,
    connection_owner,
    login,
    name_of,
    require_redis,
    start,
    stop,
    wait_serving,
    workers_of,
)
from tests.test_serve_process import free_port

pytestmark = pytest.mark.slow
HELLO = "/api/plugins/example-plugin/hello"


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int
    log: Path
    data: Path
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self, count: int = 2, timeout: float = 60) -> list[int]:
        """The parent's ``count`` workers once each serves (a replaced one takes a while)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            pids = workers_of(self.proc.pid)
            if len(pids) == count and all(plugin_children(pid) for pid in pids):
                return pids
            assert time.monotonic() < deadline, f"workers {pids}:\n{self.log.read_text()}"
            time.sleep(0.1)

    def answerers(self, path: str, wanted: set[int], tries: int = 400) -> set[int]:
        """Worker pids seen answering ``path`` on new connections, until all ``wanted`` were."""
        seen: set[int] = set()
        for _ in range(tries):
            pid, _body = answered_by(self.port, path, wanted, self.headers)
            if pid is not None:
                seen.add(pid)
            if seen >= wanted:
                break
        return seen


def plugin_children(worker: int) -> list[int]:
    """The example plugin's children forked by ``worker``'s own plugin template."""
    return [
        child
        for template in children(worker)
        for child in children(template)
        if name_of(child) == "cp:example-plug"
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_postgres()
    require_redis()
    tmp = tmp_path_factory.mktemp("workers")
    plugins = tmp / "plugins"
    shutil.copytree(EXAMPLE, plugins / "example-plugin")
    copy_fixture(plugins, "hang")
    databases = FreshDatabases("postgresql", tmp)
    port = free_port()
    env = cluster_env(
        tmp,
        databases.new(),
        plugins,
        CATALYST_PLUGIN_AUTO_ENABLE=json.dumps(["example-plugin", "hang"]),
        CATALYST_SHUTDOWN_GRACE_SECONDS="1",
        CATALYST_PORT="1",  # --port must win over it, in the workers too
    )
    log = tmp / "serve.log"
    proc = start(["--workers", "2", "--port", str(port)], env, tmp, log)
    try:
        server = Served(proc, port, log, tmp / "data")
        wait_serving(server.base, proc, log, HELLO)
        server.headers = login(server.base)
        yield server
    finally:
        stop(proc)
        databases.drop_all()


def test_two_workers_answer_on_one_port_each_with_its_own_plugin_children(
    served: Served,
) -> None:
    workers = served.workers()
    assert len(set(workers)) == 2
    # Each worker is a host of its own: its plugin template, and the plugin's child under it.
    for worker in workers:
        assert len(plugin_children(worker)) == 1, (worker, children(worker))
    for path in ("/api/health", HELLO):
        assert served.answerers(path, set(workers)) == set(workers), path
    # prometheus-client's folder for the workers' samples: one, fresh, in the data folder.
    (metrics,) = served.data.glob("prometheus-*")
    for worker in workers:
        environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
        assert f"PROMETHEUS_MULTIPROC_DIR={metrics}".encode() in environ
    # The migrations and the admin were done once, by the parent: both workers log it in.
    assert len(served.answerers("/api/auth/me", set(workers))) == 2


def test_a_killed_worker_is_replaced_by_one_that_serves(served: Served) -> None:
    before = served.workers()
    victim = before[0]
    victim_children = plugin_children(victim)
    # SIGKILL: no shutdown at all; its template and plugin child die with it.
    os.kill(victim, signal.SIGKILL)
    after = served.workers(timeout=90)
    assert victim not in after
    assert before[1] in after
    assert not any(alive(pid) for pid in victim_children)
    replacement = next(pid for pid in after if pid != before[1])
    assert served.answerers(HELLO, {replacement}) == {replacement}


def test_sighup_replaces_the_workers_one_by_one_without_a_failed_request(served: Served) -> None:
    """A rolling restart (``systemctl reload``): each new worker serves before its predecessor
    stops, so requests sent all along are all answered."""
    before = set(served.workers())
    failures: list[str] = []
    answered = 0
    served.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 120
    while True:
        try:
            r = httpx.get(served.base + HELLO, timeout=10)
            answered += 1
            if r.status_code != 200:
                failures.append(f"{r.status_code} {r.text}")
        except httpx.HTTPError as exc:
            failures.append(repr(exc))
        now = set(workers_of(served.proc.pid))
        if len(now) == 2 and not now & before:
            break
        assert time.monotonic() < deadline, (before, now, served.log.read_text())
    assert failures == [], failures
    assert answered > 0
    after = served.workers()
    assert served.answerers(HELLO, set(after)) == set(after)


class HangingCall(threading.Thread):
    """GET the hang plugin's ``/hang`` on a connection of its own; its answer comes at shutdown."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.headers = headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.connect()
        assert self.conn.sock is not None
        self.local_port: int = self.conn.sock.getsockname()[1]
        self.answer: tuple[int, bytes] | Exception | None = None

    def run(self) -> None:
        try:
            self.conn.request("GET", "/api/plugins/hang/hang", headers=self.headers)
            response = self.conn.getresponse()
            self.answer = (response.status, response.read())
        except Exception as exc:
            self.answer = exc


def _hang_in_every_worker(served: Served, workers: set[int]) -> list[HangingCall]:
    """Hanging calls until every worker is in the plugin's handler for at least one."""
    marker = served.data / "plugins" / "hang" / "out" / "async"
    calls: list[HangingCall] = []
    holders: set[int] = set()
    while holders != workers:
        assert len(calls) < 30, f"calls reached only {holders} of {workers}"
        marker.unlink(missing_ok=True)
        call = HangingCall(served.port, served.headers)
        call.start()
        calls.append(call)
        deadline = time.monotonic() + 20
        owner = None
        while owner is None or not marker.exists():
            assert time.monotonic() < deadline, served.log.read_text()
            time.sleep(0.02)
            owner = owner or connection_owner(served.port, call.local_port, workers)
        holders.add(owner)
    return calls


def test_sigterm_stops_every_worker_gracefully_and_the_parent_exits_0(served: Served) -> None:
    """Plugin requests hanging in both workers are answered 503 JSON (each worker's shutdown
    ends them after the grace), every worker, template and plugin child ends, exit code 0."""
    workers = served.workers()
    processes = [*workers, *(p for w in workers for p in children(w))]
    processes += [child for p in list(processes) for child in children(p)]
    calls = _hang_in_every_worker(served, set(workers))
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=60) == 0, served.log.read_text()
    log = served.log.read_text()
    for call in calls:
        call.join(timeout=30)
        assert isinstance(call.answer, tuple), f"{call.answer!r}\n{log}"
        status, body = call.answer
        assert status == 503, f"{body!r}\n{log}"
        assert json.loads(body) == {"success": False, "error": "The host is shutting down"}
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in processes):
        assert time.monotonic() < deadline, [p for p in processes if alive(p)]
        time.sleep(0.05)
    assert not list((served.data).glob("prometheus-*")), "the metrics folder is removed"


def test_without_postgresql_or_redis_several_workers_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before anything is created or bound: exit 2, naming the settings to set."""
    sqlite = tmp_path / "catalyst.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATALYST_DATABASE_URL", f"sqlite+aiosqlite:///{sqlite}")
    monkeypatch.setenv("CATALYST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CATALYST_REDIS_URL", raising=False)
    runner = CliRunner()
    both = runner.invoke(cli_app, ["serve", "--workers", "2"])
    assert both.exit_code == 2, both.output
    assert "set CATALYST_DATABASE_URL=postgresql+asyncpg://" in both.output
    assert "set CATALYST_REDIS_URL=redis://" in both.output
    assert not sqlite.exists()
    assert not (tmp_path / "data").exists()

    monkeypatch.setenv("CATALYST_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CATALYST_WORKERS", "3")  # the setting, without the option
    no_redis = runner.invoke(cli_app, ["serve"])
    assert no_redis.exit_code == 2, no_redis.output
    assert "--workers 3: several workers need Redis" in no_redis.output
    assert "CATALYST_DATABASE_URL" not in no_redis.output

    monkeypatch.setenv("CATALYST_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CATALYST_DATABASE_URL", f"sqlite+aiosqlite:///{sqlite}")
    no_pg = runner.invoke(cli_app, ["serve", "--workers", "2"])
    assert no_pg.exit_code == 2, no_pg.output
    assert "several workers need PostgreSQL" in no_pg.output
    assert not sqlite.exists()
