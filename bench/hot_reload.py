"""Hot reload: how long from saving a file to the first response with the new body, and memory.

1. Latency: a real server with the file watcher on serves a small plugin whose route returns a
   version number kept in a submodule. Each sample rewrites that module and polls the route until
   the new number comes back. Prints p50/p95 over the samples (target p95 <= 150 ms). Baseline in
   the same run: the round trip of one request to the same route (what polling itself costs).
2. Memory: RSS of the server process before and after N reloads of the example plugin through
   ``POST /api/plugins/example-plugin/reload`` (target growth < 20 MB over 1000).

    .venv/bin/python bench/hot_reload.py [--samples 20] [--reloads 1000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import ROOT, BenchServer

PLUGIN = {
    "plugin.json": """{"name": "bench-reload", "version": "1.0.0", "displayName": "Bench reload",
        "description": "Hot reload benchmark", "author": "bench", "catalystVersion": ">=1.0.0",
        "backend": {"entry": "backend/plugin.py"}}""",
    "backend/plugin.py": (
        "from .version import V\n\n\ndef on_load(ctx):\n    ctx.get('/v')(lambda r: {'v': V})\n"
    ),
    "backend/version.py": "V = 0\n",
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--reloads", type=int, default=1000)
    args = parser.parse_args()
    plugins = Path(tempfile.mkdtemp(prefix="catalyst-bench-plugins-"))
    shutil.copytree(ROOT / "catalyst-plugins" / "example-plugin", plugins / "example-plugin")
    folder = plugins / "bench-reload"
    for rel, text in PLUGIN.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    env = {
        "CATALYST_HOT_RELOAD": "true",
        "BENCH_AUTO_ENABLE": '["example-plugin", "bench-reload"]',
    }
    with BenchServer(plugins, env) as server:
        headers = {"Authorization": f"Bearer {server.token()}"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=10) as client:
            url = "/api/plugins/bench-reload/v"
            started = time.perf_counter()
            for _ in range(200):
                client.get(url)
            one_request = (time.perf_counter() - started) / 200 * 1000
            latencies = []
            for version in range(1, args.samples + 1):
                time.sleep(0.2)  # let the previous reload settle, as between two saves
                written = time.perf_counter()
                (folder / "backend" / "version.py").write_text(f"V = {version}\n")
                deadline = written + 10
                while client.get(url).json().get("v") != version:
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"version {version} never appeared")
                latencies.append((time.perf_counter() - written) * 1000)
            ordered = sorted(latencies)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            print(f"baseline: one request to the route {one_request:.2f} ms")
            print(
                f"file write -> new body ({args.samples} samples): "
                f"p50 {statistics.median(latencies):.1f} ms  p95 {p95:.1f} ms  "
                f"max {max(latencies):.1f} ms  (target p95 <= 150 ms)"
            )
            assert server.proc is not None
            for _ in range(20):  # warm up allocator and caches
                client.post("/api/plugins/example-plugin/reload").raise_for_status()
            before = rss_mb(server.proc.pid)
            started = time.perf_counter()
            for _ in range(args.reloads):
                client.post("/api/plugins/example-plugin/reload").raise_for_status()
            took = time.perf_counter() - started
            after = rss_mb(server.proc.pid)
            hello = client.get("/api/plugins/example-plugin/hello")
            hello.raise_for_status()
            print(
                f"{args.reloads} reloads of example-plugin in {took:.1f} s "
                f"({took / args.reloads * 1000:.1f} ms each): RSS {before:.1f} -> {after:.1f} MB, "
                f"growth {after - before:+.1f} MB (target < 20 MB)"
            )


if __name__ == "__main__":
    main()
