"""Blocking plugin code vs everyone else: before/after figures in one run.

Two real servers are measured in turn: "before" runs the ``src`` of git revision ``--before-rev``
(default: the commit issue 9 started from), "after" the code of this checkout. Each serves three
plugins:

- ``sleeper``: a sync route that sleeps 2 s (8 requests in flight hold it);
- ``other``: a sync route answering at once, and a reload of ``other``, timed while the 8
  sleepers are held (before: they share one default thread pool; after: each plugin has its own);
- ``ticker``: a sync task that sleeps 2 s, started with run-now, while ``/api/health`` is timed
  every 50 ms (before: the task ran on the event loop; after: in the plugin's pool).

    uv run python bench/blocking_plugins.py [--before-rev REV]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _load import BenchServer  # noqa: E402 - after the path set-up

SLEEPER = """
import time

def on_load(ctx):
    @ctx.get("/sleep")
    def sleep(request):
        time.sleep(2)
        return {"slept": 2}
"""
OTHER = """
def on_load(ctx):
    @ctx.get("/hello")
    def hello(request):
        return {"hello": "world"}
"""
TICKER = """
import time

def on_enable(ctx):
    def slow():
        time.sleep(2)

    ctx.schedule_task("0 0 1 1 *", slow, name="slow")
"""


def write_plugins(root: Path) -> None:
    for name, code in (("sleeper", SLEEPER), ("other", OTHER), ("ticker", TICKER)):
        folder = root / name
        (folder / "backend").mkdir(parents=True)
        manifest = {
            "name": name,
            "version": "1.0.0",
            "displayName": name,
            "description": "bench",
            "author": "bench",
            "catalystVersion": ">=1.0.0",
            "permissions": [],
            "backend": {"entry": "backend/plugin.py"},
        }
        (folder / "plugin.json").write_text(json.dumps(manifest))
        (folder / "backend" / "plugin.py").write_text(textwrap.dedent(code))


def timed(call: httpx.Client, method: str, url: str) -> float:
    began = time.perf_counter()
    r = call.request(method, url)
    took = time.perf_counter() - began
    if r.status_code != 200:
        print(f"  ({method} {url} answered {r.status_code})")
    return took


def measure(env: dict[str, str], plugins: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    env = {**env, "BENCH_AUTO_ENABLE": json.dumps(["sleeper", "other", "ticker"])}
    with BenchServer(plugins, env) as server:
        token = server.token()
        headers = {"Authorization": f"Bearer {token}"}
        base = f"{server.base}/api/plugins"
        with httpx.Client(headers=headers, timeout=60) as c:
            timed(c, "GET", f"{base}/other/hello")  # warm up
            sleepers = [
                threading.Thread(
                    target=lambda: httpx.get(f"{base}/sleeper/sleep", headers=headers, timeout=60)
                )
                for _ in range(8)
            ]
            for t in sleepers:
                t.start()
            time.sleep(0.8)  # the sleepers are in their handlers
            # Both at once, while the sleepers hold their threads.
            reload = threading.Thread(
                target=lambda: figures.update(
                    {"reload of the other plugin (s)": timed(c, "POST", f"{base}/other/reload")}
                )
            )
            reload.start()
            figures["other plugin's sync route (s)"] = timed(c, "GET", f"{base}/other/hello")
            reload.join()
            for t in sleepers:
                t.join()
            runner = threading.Thread(
                target=lambda: httpx.post(
                    f"{base}/ticker/tasks/slow/run", headers=headers, timeout=60
                ),
                daemon=True,
            )
            runner.start()
            time.sleep(0.1)
            samples = []
            stop = time.monotonic() + 2.2
            while time.monotonic() < stop:
                samples.append(timed(c, "GET", f"{server.base}/api/health"))
                time.sleep(0.05)
            runner.join()
            figures["/api/health max during a 2 s sync task (s)"] = max(samples)
            figures["/api/health p50 during a 2 s sync task (s)"] = statistics.median(samples)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before-rev",
        default="7d5dfcc",
        help="git revision of the baseline (default: issue 9's base)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="catalyst-blocking-"))
    try:
        write_plugins(tmp / "plugins")
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.before_rev, "src"],
            check=True,
            capture_output=True,
        ).stdout
        (tmp / "before").mkdir()
        subprocess.run(["tar", "-x", "-C", str(tmp / "before")], input=archive, check=True)
        before = measure({"PYTHONPATH": str(tmp / "before" / "src")}, tmp / "plugins")
        after = measure({}, tmp / "plugins")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(k) for k in before)
    print(f"{'':{width}}   before     after   after/before")
    for key in before:
        ratio = after[key] / before[key] if before[key] else float("nan")
        print(f"{key:{width}}  {before[key]:7.3f}   {after[key]:7.3f}   {ratio:8.3f}")


if __name__ == "__main__":
    main()
