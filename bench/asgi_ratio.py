"""A plugin request against a raw ASGI response, in one server process (uvicorn and/or granian).

Starts the server on 127.0.0.1 (SQLite in a temp dir, the example plugin enabled and granted
what it asks, ``http.public`` included). The app is wrapped so that ``/__raw`` is answered by a
bare ASGI callable before the host sees it; everything else (lifespan, ``/ws``) is the real host.
Then ``wrk`` (2 threads, 32 connections, after a warm-up) alternates, round after round:

- ``raw``: ``GET /__raw``, the same JSON body as ``/hello``, no host code at all;
- ``hello (auth)``: the example plugin's ``GET /api/plugins/example-plugin/hello`` with the
  admin's bearer token (principal resolution, the plugin's middleware, its handler);
- ``hello (public)``: the same without a token (the route is public via ``http.public``).

and prints the median req/s of each and the ratio hello/raw (goal: authenticated >= 0.6).
WebSocket: C clients connected through ``/ws``, each sending ``plugin:example-plugin:ping`` and
awaiting the pong N times in a row; prints round trips per second. ``--server both`` runs the
whole thing under uvicorn then granian (its ASGI interface, lifespan included) and prints both.

    .venv/bin/python bench/asgi_ratio.py [--server uvicorn|granian|both] [--seconds 5]
        [--rounds 3] [--threads 2] [--connections 32] [--ws-clients 8] [--ws-trips 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PLUGIN = "example-plugin"
HELLO = f"/api/plugins/{PLUGIN}/hello"
RAW = "/__raw"
PASSWORD = "bench-password"
_RAW_BODY = json.dumps(
    {"success": True, "message": "Hello from the example plugin!", "requestCount": 1},
    separators=(",", ":"),
).encode()

# -- the server side (in the server process) ------------------------------------------------


def _settings(data: Path) -> Any:
    from catalyst.settings import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{data / 'bench.db'}",
        data_dir=data,
        plugins_dir=ROOT / "catalyst-plugins",
        plugin_auto_enable=[PLUGIN],  # enabled and granted what plugin.json asks
        log_format="json",
        log_level="warning",
    )


async def _prepare(data: Path) -> None:
    from catalyst.auth.bootstrap import ensure_admin
    from catalyst.db import migrate
    from catalyst.db.engine import create_engine, session_factory

    engine = create_engine(_settings(data).database_url)
    await migrate.upgrade(engine)
    await ensure_admin(session_factory(engine), "admin", PASSWORD)
    await engine.dispose()


def build_app() -> Any:
    """The host app behind a bare ASGI callable answering ``/__raw`` (granian's factory)."""
    from catalyst.app import create_app

    host = create_app(_settings(Path(os.environ["CATALYST_BENCH_DATA"])))
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_RAW_BODY)).encode()),
        ],
    }
    body = {"type": "http.response.body", "body": _RAW_BODY}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == RAW:
            await send(start)
            await send(body)
            return
        await host(scope, receive, send)

    app.state = host.state  # type: ignore[attr-defined]  # so serving code finds the services
    return app


def _serve(server: str, port: int) -> None:
    if server == "uvicorn":
        import uvicorn

        config = uvicorn.Config(
            build_app(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            ws="websockets-sansio",
            proxy_headers=False,
        )
        with contextlib.suppress(KeyboardInterrupt):  # the bench stops it with SIGINT
            uvicorn.Server(config).run()
        return
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    Granian(
        "asgi_ratio:build_app",
        factory=True,
        working_dir=BENCH,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,  # with lifespan
        workers=1,
        log_level=LogLevels.warning,
        log_access=False,
    ).serve()


# -- the client side ------------------------------------------------------------------------


class Server:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.data = Path(tempfile.mkdtemp(prefix="catalyst-asgi-ratio-"))
        from _load import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        asyncio.run(_prepare(self.data))
        env = {**os.environ, "CATALYST_BENCH_DATA": str(self.data), "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", self.kind, "--port", str(self.port)], env=env
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} exited with {self.proc.returncode}")
            try:
                # 200 only once the lifespan ran: the plugin is enabled and answers
                if httpx.get(self.base + HELLO, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.kind} did not start (lifespan?)")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)

    def token(self) -> str:
        r = httpx.post(
            self.base + "/api/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        r.raise_for_status()
        return str(r.json()["data"]["token"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process ``pid`` and its children (granian's worker)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def wrk(url: str, headers: list[str], seconds: int, threads: int, connections: int) -> Run:
    """Req/s by ``wrk``, and the requests served (fails on any error)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors against {url}:\n{out}")
    line = next(ln for ln in out.splitlines() if ln.startswith("Requests/sec:"))
    done = next(ln for ln in out.splitlines() if " requests in " in ln)
    return Run(float(line.split()[1]), int(done.split()[0]))


@dataclass
class Run:
    rate: float
    requests: int


async def ws_trips(url: str, token: str, clients: int, trips: int) -> float:
    """Round trips per second: ``clients`` sockets, each ``trips`` ping→pong in a row."""
    sockets = []
    for _ in range(clients):
        ws = await websockets.connect(f"{url}?token={token}", compression=None)
        await ws.recv()  # welcome
        sockets.append(ws)
    ping = json.dumps({"type": f"plugin:{PLUGIN}:ping", "data": None})
    pong = f"plugin:{PLUGIN}:pong"

    async def client(ws: Any) -> None:
        for _ in range(trips):
            await ws.send(ping)
            while json.loads(await ws.recv())["type"] != pong:
                pass

    started = time.perf_counter()
    await asyncio.gather(*(client(ws) for ws in sockets))
    elapsed = time.perf_counter() - started
    for ws in sockets:
        await ws.close()
    return clients * trips / elapsed


def measure(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with Server(kind) as server:
        token = server.token()
        runs = {
            "raw": (server.base + RAW, []),
            "hello (auth)": (server.base + HELLO, [f"Authorization: Bearer {token}"]),
            "hello (public)": (server.base + HELLO, []),
        }
        for url, headers in runs.values():  # warm-up
            wrk(url, headers, 1, args.threads, args.connections)
        rates: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        assert server.proc is not None
        for _ in range(args.rounds):
            for name, (url, headers) in runs.items():
                before = cpu_seconds(server.proc.pid)
                run = wrk(url, headers, args.seconds, args.threads, args.connections)
                used = cpu_seconds(server.proc.pid) - before
                rates[name].append(run.rate)
                cpu[name].append(used / run.requests * 1e6)
        ws_url = server.base.replace("http", "ws", 1) + "/ws"
        asyncio.run(ws_trips(ws_url, token, args.ws_clients, 50))  # warm-up
        ws = [
            asyncio.run(ws_trips(ws_url, token, args.ws_clients, args.ws_trips))
            for _ in range(args.rounds)
        ]
    return {"rates": rates, "cpu": cpu, "ws": ws}


def report(kind: str, result: dict[str, Any]) -> None:
    rates: dict[str, list[float]] = result["rates"]
    median = {name: statistics.median(values) for name, values in rates.items()}
    cpu = {name: statistics.median(values) for name, values in result["cpu"].items()}
    print(f"== {kind}")
    for name, values in rates.items():
        rounds = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"  {name:15s}: {median[name]:8.0f} req/s  server CPU {cpu[name]:6.1f} us/req  "
            f"(rounds: {rounds})"
        )
    for name in ("hello (auth)", "hello (public)"):
        print(
            f"  ratio {name}/raw: {median[name] / median['raw']:.3f}  "
            f"(by server CPU per request: {cpu['raw'] / cpu[name]:.3f})"
        )
    rounds = ", ".join(f"{v:.0f}" for v in result["ws"])
    print(
        f"  ws ping->pong    : {statistics.median(result['ws']):8.0f} trips/s  (rounds: {rounds})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["uvicorn", "granian", "both"], default="uvicorn")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--ws-clients", type=int, default=8)
    parser.add_argument("--ws-trips", type=int, default=500)
    parser.add_argument("--serve", choices=["uvicorn", "granian"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    kinds = ["uvicorn", "granian"] if args.server == "both" else [args.server]
    print(
        f"wrk -t{args.threads} -c{args.connections}, {args.seconds} s x {args.rounds} rounds "
        f"(median); ws: {args.ws_clients} clients x {args.ws_trips} trips"
    )
    results = {kind: measure(kind, args) for kind in kinds}
    for kind, result in results.items():
        report(kind, result)


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
