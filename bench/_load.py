"""Shared benchmark helpers: start the bench server, log in, hammer a URL for a while."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BenchServer:
    def __init__(self, plugins_dir: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.env = env or {}
        self.tmp = Path(tempfile.mkdtemp(prefix="catalyst-bench-"))
        self.plugins = plugins_dir or ROOT / "catalyst-plugins"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> BenchServer:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "_server.py"),
                str(self.port),
                str(self.plugins),
                str(self.tmp),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("bench server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def token(self) -> str:
        r = httpx.post(
            f"{self.base}/api/auth/login", json={"username": "admin", "password": "bench-password"}
        )
        r.raise_for_status()
        return str(r.json()["data"]["token"])


async def hammer(url: str, token: str, seconds: float, concurrency: int) -> tuple[int, int]:
    """(successful requests, failed requests) within ``seconds``; bounded in time and count."""
    ok = failed = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=10
    ) as client:

        async def worker() -> None:
            nonlocal ok, failed
            while time.monotonic() < stop and ok + failed < 2_000_000:
                try:
                    r = await client.get(url)
                    if r.status_code == 200:
                        ok += 1
                    else:
                        failed += 1
                except httpx.TransportError:
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, failed


def wrk_available() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def wrk(url: str, token: str, seconds: float, concurrency: int) -> float:
    """Requests per second measured by wrk (one thread, keep-alive); fails on any non-2xx."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors against {url}:\n{out}")
    line = next(ln for ln in out.splitlines() if ln.startswith("Requests/sec:"))
    return float(line.split()[1])


def rate(url: str, token: str, seconds: float, concurrency: int) -> float:
    """Req/s with wrk when installed (apt-get install wrk), else an httpx client loop."""
    if wrk_available():
        return wrk(url, token, seconds, concurrency)
    ok, failed = asyncio.run(hammer(url, token, seconds, concurrency))
    if failed:
        raise SystemExit(f"{failed} failed requests against {url}")
    return ok / seconds


# -- /proc: process trees, memory and CPU of a server and its children ----------------------


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (every thread's)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def descendant_pids(pid: int) -> list[int]:
    return [d for c in child_pids(pid) for d in (c, *descendant_pids(c))]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def memory_mb(pid: int) -> dict[str, float]:
    """USS (Private_Clean + Private_Dirty), PSS and RSS of ``pid`` in MiB (smaps_rollup)."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        fields[key] = int(rest.split()[0]) / 1024
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return {"uss": uss, "pss": fields["Pss"], "rss": fields["Rss"]}


def own_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` itself (all its threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
