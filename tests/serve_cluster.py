"""Real ``python -m catalyst serve`` processes on PostgreSQL and Redis, and what ``/proc`` tells of
them: a process's children, and which process holds the server end of a TCP connection (so a
test sees which worker answered without the host saying it).

Linux only, like the host's process runtime.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import IN_CI

REDIS_URL = os.environ.get("CATALYST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "a-password-for-cluster-process-tests"


def require_redis() -> None:
    """The machine's Redis answers; under CI=true a missing Redis fails the test."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(reason + " (CI=true: Redis is required)", pytrace=False)
        pytest.skip(reason)


def cluster_env(tmp: Path, database_url: str, plugins: Path, **extra: str) -> dict[str, str]:
    """The environment of an instance of a cluster of its own (a unique cluster name)."""
    return {
        **os.environ,
        "CATALYST_DATABASE_URL": database_url,
        "CATALYST_REDIS_URL": REDIS_URL,
        "CATALYST_CLUSTER_NAME": f"test-{uuid.uuid4().hex[:10]}",
        "CATALYST_DATA_DIR": str(tmp / "data"),
        "CATALYST_PLUGINS_DIR": str(plugins),
        "CATALYST_ADMIN_PASSWORD": PASSWORD,
        "CATALYST_SECRET_KEY": "a-secret-key-shared-by-the-cluster",
        "CATALYST_LOG_FORMAT": "json",
        **extra,
    }


def start(args: list[str], env: Mapping[str, str], cwd: Path, log: Path) -> subprocess.Popen[str]:
    """``python -m catalyst serve ARGS``, its output going to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "catalyst", "serve", *args],
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def wait_serving(base: str, proc: subprocess.Popen[str], log: Path, path: str) -> None:
    """Until ``base + path`` answers 200 (60 s at most); fails with the output if it exits."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, f"serve exited {proc.returncode}:\n{log.read_text()}"
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{base}{path} did not answer:\n{log.read_text()}"
        time.sleep(0.1)


def login(base: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['data']['token']}"}


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


# --- /proc ------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, str, int] | None:
    """(name, state, parent pid) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    name, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
    return name, rest[0], int(rest[1])


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and stat[2] == pid and stat[1] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def name_of(pid: int) -> str | None:
    stat = _stat(pid)
    return stat[0] if stat else None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped by somebody else has ended)."""
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z"


def workers_of(parent: int) -> list[int]:
    """The uvicorn workers of a ``--workers N`` parent (not multiprocessing's resource tracker)."""
    return [pid for pid in children(parent) if "spawn_main" in cmdline(pid)]


def _socket_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of the loopback connection from ``client_port``."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
                and inode
            ):
                return inode
    return None


def connection_owner(server_port: int, client_port: int, pids: Iterable[int]) -> int | None:
    """Which of ``pids`` holds the server's end of the connection from ``client_port``."""
    inode = _socket_inode(server_port, client_port)
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        try:
            links = [os.readlink(fds / fd) for fd in os.listdir(fds)]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if wanted in links:
            return pid
    return None


def answered_by(
    port: int, path: str, pids: Iterable[int], headers: Mapping[str, str] | None = None
) -> tuple[int | None, Any]:
    """GET ``path`` on a new connection: (the pid among ``pids`` that answered, the JSON)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        answer = conn.getresponse()
        body = json.loads(answer.read())
        assert answer.status == 200, body
        assert conn.sock is not None
        # The connection stays open (keep-alive), so the worker still holds its end.
        return connection_owner(port, conn.sock.getsockname()[1], pids), body
    finally:
        conn.close()
