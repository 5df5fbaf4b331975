"""The process runtime against the in-process one, same plugins, same run (issue 11 targets).

Every server is the real ``catalyst serve`` on 127.0.0.1 (SQLite in a temp dir, the hot reload
watcher off unless said, ``PYTHONDONTWRITEBYTECODE`` unset as users run it), started twice:
``CATALYST_PLUGIN_FORCE_RUNTIME=process`` and ``=inprocess``. Figures, never assertions:

1. ctx call round trip, timed inside the plugin (``time.perf_counter`` around each ``await``;
   the route returns the samples, so HTTP is not in them): ``ctx.emit`` of an event nobody
   listens to (the cheapest call the host answers: the pure protocol round trip) and
   ``ctx.get_storage`` of an existing key (includes the database). p50/p95 in µs.
2. ``GET /api/plugins/example-plugin/hello`` with the admin's bearer token: wrk 2 threads 32
   connections, rounds alternating between the two servers, median req/s, ratio.
3. Hot reload on: save a module of a plugin, poll its route until the new value answers;
   p50/p95 over the samples, alternating between the two servers.
4. USS (Private_Clean + Private_Dirty of ``/proc/<pid>/smaps_rollup``) of the example plugin's
   child after start and a few requests; the host's and the template's next to it.
5. 50 tiny plugins (a public route, an ``on_enable`` hook) enabled: time from starting the
   process, and from the port listening, to all 50 routes answering 200. Restarts on the same
   database (plugins already enabled), after one discarded start per runtime.

    .venv/bin/python bench/process_runtime.py [--quick] [--seconds 5] [--rounds 3]
        [--samples 20] [--plugins 50]
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
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _load import (  # noqa: E402
    ROOT,
    child_pids,
    cmdline,
    descendant_pids,
    free_port,
    memory_mb,
    own_cpu_seconds,
)
from asgi_ratio import wrk  # noqa: E402

PASSWORD = "bench-password-1234"
MODES = ("process", "inprocess")
HELLO = "/api/plugins/example-plugin/hello"
MANIFEST = (
    '{{"name": "{name}", "version": "1.0.0", "displayName": "{name}", "description": "bench",'
    ' "author": "bench", "catalystVersion": ">=1.0.0", "permissions": {permissions},'
    ' "backend": {{"entry": "backend/plugin.py"}}}}'
)
RTT_CODE = """import time


async def on_load(ctx):
    await ctx.set_storage("k", "value")

    @ctx.get("/rtt")
    async def rtt(request):
        n = min(int(request.query.get("n", "200")), 20000)
        storage = request.query.get("call") == "storage"
        clock, samples = time.perf_counter, []
        for _ in range(n):
            started = clock()
            if storage:
                await ctx.get_storage("k")
            else:
                await ctx.emit("tick")
            samples.append(round((clock() - started) * 1e6, 2))
        return {"samples": samples}
"""
RELOAD_CODE = (
    "from .version import V\n\n\ndef on_load(ctx):\n    ctx.get('/v')(lambda r: {'v': V})\n"
)
TINY_CODE = """def on_load(ctx):
    @ctx.get("/ping", public=True)
    async def ping(request):
        return {"ok": True}


async def on_enable(ctx):
    ctx.logger.debug("enabled")
"""


def write_plugin(root: Path, name: str, files: dict[str, str], permissions: str = "[]") -> Path:
    folder = root / name
    files = {"plugin.json": MANIFEST.format(name=name, permissions=permissions), **files}
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- a `catalyst serve` process ----------------------------------------------------------------


class Host:
    def __init__(
        self, mode: str, plugins: Path, enable: list[str], hot_reload: bool = False
    ) -> None:
        self.mode, self.plugins, self.enable, self.hot_reload = mode, plugins, enable, hot_reload
        self.data = Path(tempfile.mkdtemp(prefix=f"catalyst-bench-{mode}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.started = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CATALYST_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        self.port = free_port()
        env.update(
            CATALYST_DATABASE_URL=f"sqlite+aiosqlite:///{self.data / 'catalyst.db'}",
            CATALYST_DATA_DIR=str(self.data),
            CATALYST_PLUGINS_DIR=str(self.plugins),
            CATALYST_HOST="127.0.0.1",
            CATALYST_PORT=str(self.port),
            CATALYST_ADMIN_PASSWORD=PASSWORD,
            CATALYST_LOG_FORMAT="json",
            CATALYST_LOG_LEVEL="warning",
            CATALYST_PLUGIN_AUTO_ENABLE=json.dumps(self.enable),
            CATALYST_PLUGIN_FORCE_RUNTIME=self.mode,
            CATALYST_HOT_RELOAD="true" if self.hot_reload else "false",
        )
        log = (self.data / "server.log").open("ab")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "catalyst", "serve"],
            cwd=self.data,  # no stray .env
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def failed(self, why: str) -> SystemExit:
        tail = (self.data / "server.log").read_text(errors="replace")[-3000:]
        return SystemExit(f"[{self.mode}] {why}\n--- server log tail ---\n{tail}")

    def wait_ok(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise self.failed(f"server exited with {self.proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.base + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise self.failed(f"{path} never answered 200")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def token(self) -> str:
        r = httpx.post(
            self.base + "/api/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        r.raise_for_status()
        return str(r.json()["data"]["token"])


# -- /proc -----------------------------------------------------------------------------------


def template_pid(host_pid: int) -> int | None:
    return next(
        (p for p in descendant_pids(host_pid) if "catalyst.plugins.process.template" in cmdline(p)),
        None,
    )


def plugin_child(host: Host, plugin: str, headers: dict[str, str]) -> tuple[int, str]:
    """The pid of ``plugin``'s child: the admin API's runtime.pid, else found through /proc."""
    r = httpx.get(f"{host.base}/api/plugins/{plugin}", headers=headers)
    pid = ((r.json().get("data") or {}).get("runtime") or {}).get("pid")
    if isinstance(pid, int):
        return pid, "data.runtime.pid"
    assert host.proc is not None
    tpl = template_pid(host.proc.pid)
    for child in child_pids(tpl) if tpl else []:
        with contextlib.suppress(OSError):
            if Path(os.readlink(f"/proc/{child}/cwd")) == (host.plugins / plugin).resolve():
                return child, "/proc (template child whose cwd is the plugin folder)"
    raise SystemExit(f"no child process found for {plugin}")


# -- the measurements ------------------------------------------------------------------------


def round_trips(hosts: dict[str, Host], headers: dict[str, dict[str, str]], args: Any) -> Any:
    calls = {"emit": args.rtt_n, "storage": max(100, args.rtt_n // 4)}
    samples: dict[tuple[str, str], list[float]] = {}
    for call, n in calls.items():
        for mode, host in hosts.items():  # warm-up
            httpx.get(
                f"{host.base}/api/plugins/bench-rtt/rtt?call={call}&n=100",
                headers=headers[mode],
                timeout=60,
            ).raise_for_status()
        for _ in range(args.rounds):
            for mode, host in hosts.items():
                r = httpx.get(
                    f"{host.base}/api/plugins/bench-rtt/rtt?call={call}&n={n}",
                    headers=headers[mode],
                    timeout=120,
                )
                r.raise_for_status()
                samples.setdefault((call, mode), []).extend(r.json()["samples"])
    return samples


def throughput(hosts: dict[str, Host], headers: dict[str, dict[str, str]], args: Any) -> Any:
    """Median req/s per runtime, and the CPU time per request of the host and of the child."""
    rates: dict[str, list[float]] = {m: [] for m in hosts}
    cpu: dict[str, list[float]] = {"host process": [], "child": [], "host inprocess": []}
    child = plugin_child(hosts["process"], "example-plugin", headers["process"])[0]
    for mode, host in hosts.items():  # warm-up
        wrk(host.base + HELLO, [f"Authorization: {headers[mode]['Authorization']}"], 1, 2, 32)
    for _ in range(args.rounds):
        for mode, host in hosts.items():
            assert host.proc is not None
            pids = {
                f"host {mode}": host.proc.pid,
                **({"child": child} if mode == "process" else {}),
            }
            before = {k: own_cpu_seconds(pid) for k, pid in pids.items()}
            auth = f"Authorization: {headers[mode]['Authorization']}"
            run = wrk(host.base + HELLO, [auth], args.seconds, 2, 32)
            rates[mode].append(run.rate)
            for k, pid in pids.items():
                cpu[k].append((own_cpu_seconds(pid) - before[k]) / run.requests * 1e6)
    return rates, {k: statistics.median(v) for k, v in cpu.items()}


def memory(hosts: dict[str, Host], headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, host in hosts.items():
        for _ in range(20):
            httpx.get(host.base + HELLO, headers=headers[mode]).raise_for_status()
    time.sleep(1.0)  # idle
    for mode, host in hosts.items():
        assert host.proc is not None
        out[mode] = {"host": memory_mb(host.proc.pid)}
        if mode == "process":
            pid, how = plugin_child(host, "example-plugin", headers[mode])
            out[mode]["child"], out[mode]["how"] = memory_mb(pid), how
            tpl = template_pid(host.proc.pid)
            if tpl:
                out[mode]["template"] = memory_mb(tpl)
    return out


def hot_reload(hosts: dict[str, Host], headers: dict[str, dict[str, str]], samples: int) -> Any:
    latencies: dict[str, list[float]] = {m: [] for m in hosts}
    clients = {
        m: httpx.Client(base_url=h.base, headers=headers[m], timeout=10) for m, h in hosts.items()
    }
    for version in range(1, samples + 1):
        for mode, host in hosts.items():
            time.sleep(0.2)  # let the previous reload settle, as between two saves
            written = time.perf_counter()
            (host.plugins / "bench-reload" / "backend" / "version.py").write_text(
                f"V = {version}\n"
            )
            deadline = written + 10
            while True:
                r = clients[mode].get("/api/plugins/bench-reload/v")
                if r.status_code == 200 and r.json().get("v") == version:
                    break
                if time.perf_counter() > deadline:
                    raise host.failed(f"version {version} never appeared")
            latencies[mode].append((time.perf_counter() - written) * 1000)
    for client in clients.values():
        client.close()
    return latencies


async def _all_answer(host: Host, names: list[str]) -> tuple[float, float, float]:
    """Seconds from the process start to the port listening, to every route answering, and to
    the template process showing up (NaN: none seen, the in-process runtime)."""
    listening, templated = 0.0, float("nan")

    async def listen() -> None:
        nonlocal listening, templated
        assert host.proc is not None
        while True:
            if templated != templated and template_pid(host.proc.pid):  # NaN: not seen yet
                templated = time.perf_counter() - host.started
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", host.port)
            except OSError:
                await asyncio.sleep(0.005)
                continue
            listening = time.perf_counter() - host.started
            writer.close()
            return

    pending = set(names)
    watcher = asyncio.create_task(listen())
    limits = httpx.Limits(max_connections=len(names))
    async with httpx.AsyncClient(base_url=host.base, timeout=5, limits=limits) as client:

        async def ok(name: str) -> bool:
            try:
                return (await client.get(f"/api/plugins/{name}/ping")).status_code == 200
            except httpx.TransportError:
                return False

        deadline = time.monotonic() + 60
        while pending:
            if time.monotonic() > deadline or (host.proc and host.proc.poll() is not None):
                raise host.failed(f"{len(pending)} plugins never answered")
            if not watcher.done():
                await asyncio.sleep(0.005)
                continue
            order = sorted(pending)
            for name, good in zip(order, await asyncio.gather(*map(ok, order)), strict=True):
                if good:
                    pending.discard(name)
            if pending:
                await asyncio.sleep(0.01)
    return listening, time.perf_counter() - host.started, templated


def startup(count: int, rounds: int) -> dict[str, list[tuple[float, float, float]]]:
    plugins = Path(tempfile.mkdtemp(prefix="catalyst-bench-many-"))
    names = [f"tiny-{i:02d}" for i in range(count)]
    for name in names:
        write_plugin(plugins, name, {"backend/plugin.py": TINY_CODE}, '["http.public"]')
    hosts = {m: Host(m, plugins, names) for m in MODES}
    times: dict[str, list[tuple[float, float, float]]] = {m: [] for m in MODES}
    try:
        for i in range(rounds + 1):  # the first start of each (fresh database) is discarded
            for mode, host in hosts.items():
                host.start()
                took = asyncio.run(_all_answer(host, names))
                host.stop()
                if i:
                    times[mode].append(took)
                else:
                    print(
                        f"  [{mode}] first start (fresh db, discarded): "
                        f"listening {took[0]:.2f} s, all answering {took[1]:.2f} s"
                    )
    finally:
        stopped(hosts)
        shutil.rmtree(plugins, ignore_errors=True)
    return times


# -- the run ---------------------------------------------------------------------------------


def serving(hosts: dict[str, Host], ready: str) -> dict[str, dict[str, str]]:
    for host in hosts.values():
        host.start()
    for host in hosts.values():
        host.wait_ok(ready)
    return {m: {"Authorization": f"Bearer {h.token()}"} for m, h in hosts.items()}


def stopped(hosts: dict[str, Host]) -> None:
    for host in hosts.values():
        host.stop()
        shutil.rmtree(host.data, ignore_errors=True)


def us(values: list[float]) -> str:
    return f"p50 {statistics.median(values):7.1f} us  p95 {pct(values, 0.95):7.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, shorter runs")
    parser.add_argument("--seconds", type=int, default=5, help="wrk seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20, help="hot reload saves per runtime")
    parser.add_argument("--rtt-n", type=int, default=4000, help="emit round trips per round")
    parser.add_argument("--plugins", type=int, default=50)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.samples, args.rtt_n = 2, 1, 8, 1000
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    begun = time.perf_counter()
    rows: list[tuple[str, str, str, str, bool]] = []

    # 1, 2, 4: the example plugin and a round-trip plugin, one server per runtime
    plugins = Path(tempfile.mkdtemp(prefix="catalyst-bench-plugins-"))
    shutil.copytree(ROOT / "catalyst-plugins" / "example-plugin", plugins / "example-plugin")
    write_plugin(plugins, "bench-rtt", {"backend/plugin.py": RTT_CODE})
    hosts = {m: Host(m, plugins, ["example-plugin", "bench-rtt"]) for m in MODES}
    try:
        headers = serving(hosts, HELLO)
        print("== 1. ctx call round trip, timed inside the plugin (HTTP not included)")
        rtt = round_trips(hosts, headers, args)
        for call, label in (("emit", "ctx.emit (protocol only)"), ("storage", "ctx.get_storage")):
            for mode in MODES:
                values = rtt[(call, mode)]
                print(f"  {label:25s} {mode:9s}: {us(values)}  ({len(values)} calls)")
        emit_p50 = statistics.median(rtt[("emit", "process")])
        rows.append(
            (
                "1a ctx.emit round trip p50",
                "<= 50 us",
                f"{emit_p50:.1f} us",
                f"{statistics.median(rtt[('emit', 'inprocess')]):.1f} us",
                emit_p50 <= 50,
            )
        )
        added = statistics.median(rtt[("storage", "process")]) - statistics.median(
            rtt[("storage", "inprocess")]
        )
        rows.append(
            (
                "1b get_storage p50 (incl. db)",
                "+<= 50 us",
                f"{statistics.median(rtt[('storage', 'process')]):.1f} us (+{added:.1f})",
                f"{statistics.median(rtt[('storage', 'inprocess')]):.1f} us",
                added <= 50,
            )
        )

        print("== 4. idle memory after start and 20 requests (MiB)")
        mem = memory(hosts, headers)
        child = mem["process"]["child"]
        print(
            f"  example-plugin child : USS {child['uss']:6.1f}  PSS {child['pss']:6.1f}  "
            f"RSS {child['rss']:6.1f}  (pid from {mem['process']['how']})"
        )
        if "template" in mem["process"]:
            t = mem["process"]["template"]
            print(
                f"  template process     : USS {t['uss']:6.1f}  PSS {t['pss']:6.1f}  "
                f"RSS {t['rss']:6.1f}"
            )
        for mode in MODES:
            h = mem[mode]["host"]
            print(
                f"  host ({mode:9s})    : USS {h['uss']:6.1f}  PSS {h['pss']:6.1f}  "
                f"RSS {h['rss']:6.1f}"
            )
        rows.append(
            (
                "4 example child USS (idle)",
                "<= 25 MB",
                f"{child['uss']:.1f} MiB",
                f"host {mem['inprocess']['host']['uss']:.0f} (vs "
                f"{mem['process']['host']['uss']:.0f}) MiB",
                child["uss"] <= 25,
            )
        )

        print(f"== 2. {HELLO} (bearer), wrk -t2 -c32, {args.seconds} s x {args.rounds} rounds")
        rates, cpu = throughput(hosts, headers, args)
        med = {m: statistics.median(v) for m, v in rates.items()}
        for mode in MODES:
            print(
                f"  {mode:9s}: {med[mode]:8.0f} req/s  "
                f"(rounds: {', '.join(f'{v:.0f}' for v in rates[mode])})"
            )
        ratio = med["process"] / med["inprocess"]
        by_cpu = cpu["host inprocess"] / (cpu["host process"] + cpu["child"])
        print(
            f"  server CPU per request: process runtime {cpu['host process']:.0f} us in the host"
            f" + {cpu['child']:.0f} us in the child; in-process {cpu['host inprocess']:.0f} us"
            f" (ratio by CPU per request: {by_cpu:.3f})"
        )
        print(f"  ratio process/inprocess: {ratio:.3f}")
        rows.append(
            (
                "2 hello req/s ratio",
                ">= 0.5",
                f"{ratio:.3f} ({med['process']:.0f}/s)",
                f"{med['inprocess']:.0f}/s",
                ratio >= 0.5,
            )
        )
        after = memory_mb(plugin_child(hosts["process"], "example-plugin", headers["process"])[0])
        print(f"  example-plugin child after the load: USS {after['uss']:.1f} MiB")
    finally:
        stopped(hosts)
        shutil.rmtree(plugins, ignore_errors=True)

    # 3: hot reload, one plugins folder per server
    hosts = {}
    for mode in MODES:
        folder = Path(tempfile.mkdtemp(prefix="catalyst-bench-reload-"))
        write_plugin(
            folder,
            "bench-reload",
            {"backend/plugin.py": RELOAD_CODE, "backend/version.py": "V = 0\n"},
        )
        hosts[mode] = Host(mode, folder, ["bench-reload"], hot_reload=True)
    try:
        headers = serving(hosts, "/api/health")
        print(f"== 3. file save -> new code answering, hot reload on ({args.samples} saves each)")
        for mode, host in hosts.items():
            deadline = time.monotonic() + 30
            while (
                httpx.get(
                    host.base + "/api/plugins/bench-reload/v", headers=headers[mode]
                ).status_code
                != 200
            ):
                if time.monotonic() > deadline:
                    raise host.failed("bench-reload never answered")
                time.sleep(0.05)
        lat = hot_reload(hosts, headers, args.samples)
        for mode in MODES:
            values = lat[mode]
            print(
                f"  {mode:9s}: p50 {statistics.median(values):6.1f} ms  "
                f"p95 {pct(values, 0.95):6.1f} ms  max {max(values):6.1f} ms"
            )
        p95 = pct(lat["process"], 0.95)
        rows.append(
            (
                "3 save -> new code p95",
                "<= 250 ms",
                f"{p95:.1f} ms",
                f"{pct(lat['inprocess'], 0.95):.1f} ms",
                p95 <= 250,
            )
        )
    finally:
        for host in hosts.values():
            shutil.rmtree(host.plugins, ignore_errors=True)
        stopped(hosts)

    # 5: many plugins at start
    rounds = 1 if args.quick else 2
    print(f"== 5. {args.plugins} enabled plugins: start -> all answering ({rounds} restarts each)")
    starts = startup(args.plugins, rounds)
    med5 = {}
    for mode in MODES:
        listen = statistics.median(t[0] for t in starts[mode])
        total = statistics.median(t[1] for t in starts[mode])
        med5[mode] = (listen, total)
        print(
            f"  {mode:9s}: process start -> listening {listen:5.2f} s, -> all answering "
            f"{total:5.2f} s; listening -> all answering {total - listen:5.2f} s"
        )
        if mode == "process":
            seen = statistics.median(t[2] for t in starts[mode])
            print(f"  {'':9s}  (template process first seen {seen:5.2f} s after process start)")
    p_listen, p_total = med5["process"]
    rows.append(
        (
            f"5 {args.plugins} plugins: start -> all ok",
            "<= 3 s",
            f"{p_total:.2f} s",
            f"{med5['inprocess'][1]:.2f} s",
            p_total <= 3,
        )
    )
    rows.append(
        (
            "5 listening -> all ok",
            "(info)",
            f"{p_total - p_listen:.2f} s",
            f"{med5['inprocess'][1] - med5['inprocess'][0]:.2f} s",
            True,
        )
    )

    print(f"\n== summary ({time.perf_counter() - begun:.0f} s)")
    print(f"  {'what':34s} {'target':10s} {'process':24s} {'inprocess':18s} met")
    for what, target, measured, base, met in rows:
        print(f"  {what:34s} {target:10s} {measured:24s} {base:18s} {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
