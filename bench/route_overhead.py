"""Plugin route vs bare host route, both through the real server with the same auth.

Starts the server (SQLite, example plugin enabled), then alternates timed rounds against
``/api/bench/hello`` (a plain FastAPI route with the login dependency) and the example plugin's
``/api/plugins/example-plugin/hello`` (dispatcher + auth + the plugin's counting middleware).
Prints req/s for both and the ratio plugin/bare. Target: ratio >= 0.85.

    .venv/bin/python bench/route_overhead.py [--seconds 3] [--rounds 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import BenchServer, rate, wrk_available


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with BenchServer() as server:
        token = server.token()
        urls = {
            "bare": f"{server.base}/api/bench/hello",
            "plugin": f"{server.base}/api/plugins/example-plugin/hello",
        }
        rate(urls["plugin"], token, 1.0, args.concurrency)  # warm up
        rates: dict[str, list[float]] = {"bare": [], "plugin": []}
        for _ in range(args.rounds):
            for kind, url in urls.items():
                rates[kind].append(rate(url, token, args.seconds, args.concurrency))
    bare = statistics.median(rates["bare"])
    plugin = statistics.median(rates["plugin"])
    tool = "wrk" if wrk_available() else "httpx (install wrk for higher load)"
    print(f"load generator  : {tool}, concurrency {args.concurrency}")
    for kind, label in (("bare", "bare host route"), ("plugin", "plugin route   ")):
        rounds = ", ".join(f"{r:.0f}" for r in rates[kind])
        print(f"{label} : {statistics.median(rates[kind]):8.0f} req/s  (rounds: {rounds})")
    print(f"ratio plugin/bare: {plugin / bare:.3f}  (target >= 0.85)")


if __name__ == "__main__":
    main()
