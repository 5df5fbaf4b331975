"""WebSocket fan-out bursts: how many healthy admin clients a burst of pushes disconnects.

A plugin route logs N lines in one synchronous loop; every log line is a ``plugin:log`` push to
every admin client. C clients connect and read as fast as they can; each either receives all N
lines or is closed (code 4008 "too slow"). Run against this tree ("after") and against a copy
of the ``src`` of an earlier commit ("before": by default the code before the hardening issue),
in the same run, for bursts of 300 and 1000.

    uv run python bench/ws_burst.py [--clients 20] [--bursts 300 1000] [--before REF_OR_SRC_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import ROOT, BenchServer

#: main before the hardening issue (one bounded queue of 256 messages per client).
BEFORE = "7d5dfcc"

PLUGIN = {
    "name": "burst",
    "version": "1.0.0",
    "displayName": "Burst",
    "description": "Logs N lines at once",
    "author": "bench",
    "catalystVersion": ">=1.0.0",
    "permissions": [],
    "backend": {"entry": "backend/plugin.py"},
}
CODE = """
def on_enable(ctx):
    @ctx.post("/burst")
    async def burst(request):
        n = (await request.json())["n"]
        for i in range(n):
            ctx.logger.info("burst line", i=i)
        return {"logged": n}
"""


def plugins_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="catalyst-burst-")) / "burst"
    (folder / "backend").mkdir(parents=True)
    (folder / "plugin.json").write_text(json.dumps(PLUGIN))
    (folder / "backend" / "plugin.py").write_text(textwrap.dedent(CODE))
    return folder.parent


async def client(url: str, n: int, ready: asyncio.Event, go: asyncio.Event) -> tuple[bool, float]:
    """(kept: received all ``n`` lines without being closed, seconds from the burst to the last)."""
    async with websockets.connect(url, max_size=2**22) as ws:
        await ws.recv()  # welcome
        ready.set()
        await go.wait()
        started = time.perf_counter()
        got = 0
        try:
            while got < n:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "plugin:log" and message["data"]["name"] == "burst":
                    got += 1
        except (websockets.ConnectionClosed, TimeoutError):
            return False, time.perf_counter() - started
        return True, time.perf_counter() - started


async def burst(server: BenchServer, token: str, clients: int, n: int) -> tuple[int, float]:
    """(clients dropped, seconds until the slowest kept client had every line)."""
    url = server.base.replace("http", "ws") + f"/ws?token={token}"
    readies = [asyncio.Event() for _ in range(clients)]
    go = asyncio.Event()
    tasks = [asyncio.create_task(client(url, n, r, go)) for r in readies]
    for ready in readies:
        await ready.wait()
    go.set()
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        r = await http.post(
            "/api/plugins/burst/burst",
            json={"n": n},
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
    results = await asyncio.gather(*tasks)
    kept = [seconds for ok, seconds in results if ok]
    return clients - len(kept), max(kept, default=float("nan"))


def run(label: str, env: dict[str, str], clients: int, bursts: list[int]) -> None:
    with BenchServer(plugins_dir=plugins_dir(), env=env) as server:
        token = server.token()
        for n in bursts:
            dropped, seconds = asyncio.run(burst(server, token, clients, n))
            print(
                f"{label:7s} burst of {n:5d} pushes, {clients} clients: "
                f"{dropped:3d} dropped   all lines delivered in {seconds * 1000:8.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--bursts", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--before", default=BEFORE, help="a git ref, or a src folder to copy")
    args = parser.parse_args()
    env = {"BENCH_AUTO_ENABLE": '["burst"]'}
    before = before_src(args.before)
    if before is not None:
        run("before", {**env, "PYTHONPATH": str(before)}, args.clients, args.bursts)
    else:
        print(f"before: {args.before} is neither a folder nor a git ref here, skipped")
    run("after", env, args.clients, args.bursts)


def before_src(ref_or_dir: str) -> Path | None:
    """A private copy of the "before" code's ``src``, to put first on PYTHONPATH."""
    tmp = Path(tempfile.mkdtemp(prefix="catalyst-before-"))
    if Path(ref_or_dir).is_dir():
        shutil.copytree(ref_or_dir, tmp / "src")
        return tmp / "src"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref_or_dir, "src"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
    return tmp / "src"


if __name__ == "__main__":
    main()
