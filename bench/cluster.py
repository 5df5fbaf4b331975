"""Several instances as one (issue 12): throughput of ``--workers 2`` and cross-instance latencies.

Real ``catalyst serve`` processes on 127.0.0.1 sharing one fresh PostgreSQL database and Redis
(the harness of tests/cluster; ``CATALYST_TEST_POSTGRES_URL`` / ``CATALYST_TEST_REDIS_URL``).

1. ``--workers 2`` vs ``--workers 1`` on the example plugin's ``GET /hello``: requests/s with wrk
   when installed (else an httpx loop) and the ratio (the load generator shares the cores;
   target >= 1.4x); ``/livez`` as a baseline without the hop to the plugin's process.
2. WebSocket send from a plugin route on A to a client on B: arrival time minus the time the
   plugin stamped just before sending; p50/p99 (target p99 <= 5 ms).
3. A config change on A visible to the plugin on B: from A's answer to B's first answer with the
   new value (B polled back to back); p50/p99 (target p99 <= 200 ms).
4. An event emitted on A reaching an ``every_instance`` listener on B, which pushes it at once to
   a WebSocket client on B: arrival minus the emit's stamp; p50/p99 (target p99 <= 5 ms).
5. Exactly once: a 1-second cron on 3 instances over N fire times; runs counted (target N).

    .venv/bin/python bench/cluster.py [--quick] [--seconds 10] [--sends 500] [--changes 30]
                                      [--emits 200] [--fires 100] [--sections 12345]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _load import ROOT, rate, wrk_available

from tests.cluster.harness import Cluster, Instance, eventually
from tests.cluster.plugins import EVT, PROBE, TICK, WS
from tests.cluster.wsclient import Message, WsClient

QUIET = {"CATALYST_LOG_LEVEL": "warning"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def figures(label: str, ms: list[float], target: str) -> None:
    print(
        f"  {label:44s} n={len(ms):4d}  p50 {statistics.median(ms):7.2f} ms  "
        f"p99 {percentile(ms, 99):7.2f} ms  max {max(ms):7.2f} ms  ({target})"
    )


#: What section 1 loads: the example plugin's route (through its plugin process), and a host
#: route without a plugin as the baseline (what the workers gain without the plugin hop).
PATHS = {"/hello": "/api/plugins/example-plugin/hello", "/livez (host)": "/livez"}


def rates_with(workers: int, seconds: float, concurrency: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="catalyst-bench-cluster-"))
    try:
        with Cluster.start(
            1,
            root=root,
            plugins={"example-plugin": ROOT / "catalyst-plugins" / "example-plugin"},
            auto_enable=["example-plugin"],
            env=QUIET,
            extra_args=["--workers", str(workers)],
        ) as cluster:
            served = cluster.a
            hello = f"{served.base}{PATHS['/hello']}"
            eventually(lambda: served.http.get(hello).status_code == 200, 30)
            token = served.headers["Authorization"].split()[1]
            found = {}
            for label, path in PATHS.items():
                rate(served.base + path, token, 1, concurrency)  # warm up every worker
                found[label] = rate(served.base + path, token, seconds, concurrency)
            return found
    finally:
        shutil.rmtree(root, ignore_errors=True)


def workers_ratio(seconds: float, concurrency: int) -> None:
    tool = "wrk" if wrk_available() else "httpx loop"
    print(f"1. --workers 2 vs 1, {seconds:.0f} s per route, {concurrency} connections ({tool}):")
    rates: dict[int, dict[str, float]] = {}
    for workers in (1, 2):
        try:
            rates[workers] = rates_with(workers, seconds, concurrency)
        except AssertionError as exc:
            said = [ln.strip(" │╭╮╰╯─") for ln in str(exc).splitlines()]
            print(f"  --workers {workers}: could not start ({[ln for ln in said if ln][-1]})")
            return
    for label in PATHS:
        one, two = rates[1][label], rates[2][label]
        print(
            f"  GET {label:14s} 1 worker {one:8,.0f} req/s  2 workers {two:8,.0f} req/s  "
            f"ratio {two / one:.2f}x" + ("  (target >= 1.4x)" if label == "/hello" else "")
        )


def ws_send(a: Instance, on_b: WsClient, sends: int) -> list[float]:
    latencies = []
    for _ in range(sends):
        nonce = uuid.uuid4().hex[:10]
        r = a.route("ws", "/send", "POST", json={"nonce": nonce, "clientId": on_b.client_id})
        r.raise_for_status()
        arrived, message = on_b.wait_for(match("plugin:ws:direct", nonce), 5)
        latencies.append((arrived - message["data"]["sent"]) * 1000)
    return latencies


def state_change(a: Instance, b: Instance, changes: int) -> list[float]:
    latencies = []
    for _ in range(changes):
        value = uuid.uuid4().hex
        a.ok("PUT", "/api/plugins/probe/config", json={"config": {"value": value}})
        answered = time.perf_counter()
        while b.route("probe", "/setting").json()["value"] != value:
            if time.perf_counter() - answered > 10:
                raise SystemExit(f"B did not see a config change within 10 s: {value}")
        latencies.append((time.perf_counter() - answered) * 1000)
    return latencies


def every_instance(a: Instance, on_b: WsClient, emits: int) -> list[float]:
    latencies = []
    for _ in range(emits):
        nonce = uuid.uuid4().hex[:10]
        r = a.route("evt", "/emit", "POST", json={"nonce": nonce, "push": True})
        r.raise_for_status()

        def heard_on_b(message: Message, nonce: str = nonce) -> bool:
            data = message.get("data") or {}
            return bool(
                message.get("type") == "plugin:evt:heard"
                and data.get("nonce") == nonce
                and data.get("instance") == "b"
            )

        arrived, message = on_b.wait_for(heard_on_b, 5)
        latencies.append((arrived - message["data"]["sent"]) * 1000)
    return latencies


def match(kind: str, nonce: str) -> Callable[[Message], bool]:
    def matches(message: Message) -> bool:
        return bool(
            message.get("type") == kind and (message.get("data") or {}).get("nonce") == nonce
        )

    return matches


def exactly_once(on: Instance, fires: int) -> None:
    start = math.floor(time.time()) + 1.5
    end = start + fires
    print(f"5. exactly once: a 1-second cron on 3 instances, {fires} fire times ({fires} s)...")
    eventually(lambda: time.time() > end + 1, fires + 30, interval=0.5)
    keys = on.route("tick", "/runs").json()["runs"]
    runs = [(float(k.split(":")[1]), k.split(":")[2]) for k in keys]
    window = [(at, who) for at, who in runs if start <= at < end]
    seconds = Counter(math.floor(at) for at, _ in window)
    doubled = sum(n - 1 for n in seconds.values() if n > 1)
    missed = fires - len(seconds)
    by = dict(sorted(Counter(who for _, who in window).items()))
    print(
        f"  {len(window)} runs for {fires} fire times (target {fires}): "
        f"{doubled} duplicates, {missed} missed; by instance {by}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, shorter runs")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--emits", type=int, default=200)
    parser.add_argument("--fires", type=int, default=100)
    parser.add_argument("--sections", default="12345", help="which figures, e.g. 1 or 234")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.sends, args.changes, args.emits, args.fires = 3, 100, 10, 50, 20

    if "1" in args.sections:
        workers_ratio(args.seconds, args.concurrency)
    if set(args.sections) & set("2345"):
        cross_instance(args)


def cross_instance(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="catalyst-bench-cluster-"))
    with Cluster.start(
        3,
        root=root,
        plugins={"probe": PROBE, "ws": WS, "evt": EVT, "tick": TICK},
        auto_enable=["probe", "ws", "evt", "tick"],
        env=QUIET,
    ) as cluster:
        a, b = cluster.a, cluster.b
        token = b.headers["Authorization"].split()[1]
        with WsClient(b.base, token) as on_b:
            print("cross-instance latencies (A -> B):")
            if "2" in args.sections:
                try:
                    ws_send(a, on_b, 5)  # warm up
                    sent = ws_send(a, on_b, args.sends)
                    figures("2. WS send A -> client on B", sent, "<= 5 ms")
                except (AssertionError, httpx.HTTPStatusError) as exc:
                    print(f"  2. WS send A -> client on B: not delivered ({exc})")
            if "3" in args.sections:
                try:
                    changed = state_change(a, b, args.changes)
                    figures("3. config change on A -> plugin on B", changed, "<= 200 ms")
                except SystemExit as exc:
                    print(f"  3. config change on A -> plugin on B: {exc}")
            if "4" in args.sections:
                try:
                    heard = every_instance(a, on_b, args.emits)
                    figures("4. emit on A -> every_instance listener on B", heard, "<= 5 ms")
                except (AssertionError, httpx.HTTPStatusError) as exc:
                    print(f"  4. emit on A -> every_instance listener on B: {exc}")
        if "5" in args.sections:
            exactly_once(a, args.fires)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
