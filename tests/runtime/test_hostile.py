"""A hostile plugin, run in the process runtime, against the boundary the runtime promises.

The plugin (``tests/fixture_plugins/hostile``) requests no permission; each route tries one
attack. Each test checks both that the attack fails and that the host (and the example plugin
beside it) never notice.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import shutil
import socket
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from catalyst.auth.sessions import Principal
from catalyst.sdk.testing import PluginHarness
from tests.plugin_helpers import EXAMPLE
from tests.runtime.conftest import HOSTILE, StateWaiter, needs_layer

BASE = "/api/plugins/hostile"


def _harness(**overrides: Any) -> PluginHarness:
    return PluginHarness(HOSTILE, plugins=[EXAMPLE], **overrides)


async def test_the_hostile_plugin_runs_in_its_own_process() -> None:
    async with _harness() as h:
        status = h.record.runtime_status()
        assert status.runtime == "process"
        assert status.pid is not None
        assert status.pid != os.getpid()
        r = await h.client.get(f"{BASE}/ping")
        assert r.json()["pid"] == status.pid


async def test_reading_the_host_secret_and_database_fails() -> None:
    needs_layer("landlock")
    async with _harness() as h:
        settings = h.settings
        assert settings is not None
        secret = settings.data_dir / "secret_key"
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text("the host's secret")
        database = Path(settings.database_url.split("///", 1)[1])
        assert database.is_file()  # noqa: ASYNC240 - one stat
        for path in (secret, database, Path("/etc/shadow")):
            r = await h.client.get(f"{BASE}/read", params={"path": str(path)})
            assert r.status_code == 200
            body = r.json()
            assert body["ok"] is False, f"{path} was readable"
            assert "PermissionError" in body["error"]
        # Its own folder stays readable.
        own = await h.client.get(f"{BASE}/read", params={"path": str(HOSTILE / "plugin.json")})
        assert own.json()["ok"] is True


async def test_the_environment_is_clean_and_the_cwd_is_the_plugin_folder(
    monkeypatch: object,
) -> None:
    os.environ["CATALYST_PROBE_SECRET"] = "host-only"
    try:
        async with _harness() as h:
            body = (await h.client.get(f"{BASE}/env")).json()
    finally:
        del os.environ["CATALYST_PROBE_SECRET"]
    env = body["env"]
    assert not [k for k in env if k.startswith("CATALYST_")]
    assert set(env) >= {"PATH", "LANG", "HOME"}
    assert env["HOME"].endswith("/data/plugins/hostile")
    assert Path(body["cwd"]) == HOSTILE.resolve()
    assert body["pid"] != os.getpid()


async def test_no_descriptor_of_the_host_is_inherited() -> None:
    async with _harness() as h:
        fds = (await h.client.get(f"{BASE}/fds")).json()["fds"]
    # stdin from /dev/null, output to the host's pipe, the protocol socket, then only what the
    # child's own event loop and thread pool opened: sockets, pipes, anonymous inodes. No file
    # of the host (its database, its log), no listening socket of the host.
    assert fds["0"] == "/dev/null"
    assert fds["1"].startswith("pipe:")
    assert fds["2"] == fds["1"]
    assert fds["3"].startswith("socket:")
    for fd, target in fds.items():
        assert target.split(":")[0] in ("socket", "pipe", "anon_inode") or target in (
            "/dev/null",
            "/dev/urandom",
        ), (fd, target)


async def test_patching_modules_in_the_child_changes_nothing_in_the_host() -> None:
    async with _harness() as h:
        viewer = await h.as_user([])
        assert (await viewer.post(f"{BASE}/patch")).json() == {"patched": True}
        assert (await viewer.get("/api/plugins")).status_code == 403
        assert (await viewer.get("/api/users")).status_code == 403


async def _healthy(client: httpx.AsyncClient, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        r = await client.get("/api/health")
        times.append(time.perf_counter() - start)
        assert r.status_code == 200
    return times


async def test_exit_in_a_route_answers_502_and_the_plugin_comes_back() -> None:
    async with _harness() as h:
        waiter = StateWaiter(h)
        back = waiter.expect("hostile", "enabled")
        old_pid = h.record.runtime_status().pid
        r = await h.client.get(f"{BASE}/exit")
        assert r.status_code == 502
        assert r.json()["success"] is False
        assert (await h.client.get("/api/plugins/example-plugin/hello")).status_code == 200
        await _healthy(h.client, 5)
        await back(5.0)
        status = h.record.runtime_status()
        assert status.pid not in (None, old_pid)
        assert status.crashes == 1
        assert status.restarts == 1
        assert status.last_exit is not None
        assert status.last_exit.reason == "exit code 1"
        assert (await h.client.get(f"{BASE}/ping")).status_code == 200
        detail = (await h.client.get(f"{BASE}")).json()["data"]
        assert detail["status"] == "enabled"
        waiter.close()


async def test_a_segfault_is_a_crash_with_its_signal() -> None:
    async with _harness() as h:
        waiter = StateWaiter(h)
        back = waiter.expect("hostile", "enabled")
        assert (await h.client.get(f"{BASE}/segfault")).status_code == 502
        await back(5.0)
        exit_info = h.record.runtime_status().last_exit
        assert exit_info is not None
        assert exit_info.reason == "killed by SIGSEGV"
        waiter.close()


async def test_a_blocking_call_blocks_only_its_own_plugin() -> None:
    # The host here is this test process, whose heap holds the whole test session: a full
    # garbage collection of it takes 100+ ms, a pause no real host (a heap of its own) has.
    gc.collect()
    gc.freeze()
    try:
        await _blocking_call_blocks_only_its_own_plugin()
    finally:
        gc.unfreeze()


async def _blocking_call_blocks_only_its_own_plugin() -> None:
    async with _harness() as h:
        blocked = asyncio.create_task(h.client.get(f"{BASE}/block", params={"seconds": "3"}))
        await asyncio.sleep(0.2)  # let the child start sleeping
        times = await _healthy(h.client, 60)
        hello = await h.client.get("/api/plugins/example-plugin/hello")
        assert hello.status_code == 200
        assert not blocked.done()
        p99 = statistics.quantiles(times, n=100)[98]
        assert p99 <= 0.05, f"/api/health p99 {p99 * 1000:.1f} ms while a plugin blocked"
        assert (await blocked).json() == {"slept": True}


async def test_memory_past_the_limit_kills_and_restarts_the_child() -> None:
    async with _harness(plugin_ping_interval=0.2) as h:
        waiter = StateWaiter(h)
        back = waiter.expect("hostile", "enabled")
        host_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        r = await h.client.get(f"{BASE}/hog")
        assert r.status_code == 502
        await back(10.0)
        exit_info = h.record.runtime_status().last_exit
        assert exit_info is not None
        assert "memory" in exit_info.reason
        # The host's own peak memory did not grow with the child's.
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - host_rss < 64 * 1024
        waiter.close()


async def test_an_unresponsive_child_is_killed_and_restarted() -> None:
    async with _harness(plugin_ping_interval=0.2, plugin_ping_timeout=0.5) as h:
        waiter = StateWaiter(h)
        back = waiter.expect("hostile", "enabled")
        r = await h.client.get(f"{BASE}/block", params={"seconds": "30"})
        assert r.status_code == 502
        await back(10.0)
        exit_info = h.record.runtime_status().last_exit
        assert exit_info is not None
        assert exit_info.reason.startswith("unresponsive")
        waiter.close()


async def test_repeated_crashes_put_the_plugin_in_error() -> None:
    async with _harness(plugin_restart_max=2) as h:
        waiter = StateWaiter(h)
        back = waiter.expect("hostile", "enabled")
        failed = waiter.expect("hostile", "error")
        assert (await h.client.get(f"{BASE}/exit")).status_code == 502
        await back(5.0)
        assert (await h.client.get(f"{BASE}/exit")).status_code == 502
        await failed(5.0)
        assert h.record.state.value == "error"
        assert "ended 2 times" in (h.record.error or "")
        assert (await h.client.get(f"{BASE}/ping")).status_code == 503
        waiter.close()


async def test_fork_and_a_listening_socket_are_refused() -> None:
    needs_layer("seccomp")
    needs_layer("landlock")
    async with _harness() as h:
        fork = (await h.client.get(f"{BASE}/fork")).json()
        assert fork["ok"] is False
        assert "PermissionError" in fork["error"]
        listen = (await h.client.get(f"{BASE}/listen")).json()
        assert listen["ok"] is False


async def test_connecting_out_needs_net_outbound(tmp_path: Path) -> None:
    needs_layer("landlock")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    # The same plugin, asking for net.outbound, under another name.
    allowed = tmp_path / "hostile-net"
    shutil.copytree(HOSTILE, allowed)
    manifest = (allowed / "plugin.json").read_text()
    manifest = manifest.replace('"name": "hostile"', '"name": "hostile-net"')
    manifest = manifest.replace('"permissions": []', '"permissions": ["net.outbound"]')
    (allowed / "plugin.json").write_text(manifest)
    try:
        async with PluginHarness(HOSTILE, plugins=[allowed]) as h:
            denied = await h.client.get(f"{BASE}/connect", params={"port": port})
            assert denied.json()["ok"] is False
            ok = await h.client.get("/api/plugins/hostile-net/connect", params={"port": port})
            assert ok.json() == {"ok": True, "value": True}
    finally:
        server.close()


async def test_a_unix_socket_of_the_host_is_out_of_reach(tmp_path: Path) -> None:
    """Landlock does not mediate connecting to a socket file (a database's or Redis's unix
    socket, with trust auth, would be wide open): the child cannot create unix sockets."""
    needs_layer("seccomp")
    server = socket.socket(socket.AF_UNIX)
    path = tmp_path / "host.sock"
    server.bind(str(path))
    server.listen()
    try:
        async with _harness() as h:
            r = await h.client.get(f"{BASE}/unix", params={"path": str(path)})
            body = r.json()
            assert body["ok"] is False
            assert "PermissionError" in body["error"]
    finally:
        server.close()


async def test_a_plugin_page_runs_in_an_opaque_origin_without_cookies() -> None:
    """A route serving HTML would otherwise run script with the admin's session cookie on the
    host's origin: every process plugin answer carries a CSP sandbox and no Set-Cookie."""
    async with _harness() as h:
        r = await h.client.get(f"{BASE}/page")
        assert r.status_code == 200
        assert "set-cookie" not in r.headers
        policies = r.headers.get_list("content-security-policy")
        assert "sandbox allow-scripts allow-forms allow-popups allow-downloads" in policies
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_a_plugin_cannot_send_the_hosts_or_another_plugins_messages() -> None:
    async with _harness() as h:
        seen: list[str] = []

        async def send(text: str) -> None:
            seen.append(text)

        async def close(code: int, reason: str) -> None:
            return None

        h.services.hub.add(Principal(1, "admin", ("admin",), frozenset({"*"})), send, close)
        assert (await h.client.post(f"{BASE}/spoof")).json() == {"sent": True}
        await h.client.get(f"{BASE}/ping")  # its sends are handled before this answer
        kinds = [json.loads(text)["type"] for text in seen]
        assert "plugin:hostile:fine" in kinds
        assert "servers:updated" not in kinds
        assert "plugin:example-plugin:pong" not in kinds
        logs = (await h.client.get(f"{BASE}/logs")).json()["data"]
        refused = [r for r in logs if r["message"] == "call refused"]
        assert len(refused) == 2


async def test_the_host_caps_the_memory_a_plugin_asks_for() -> None:
    async with _harness(plugin_memory_max_mb=64) as h:
        assert h.record.runtime_status().memory_limit_mb == 64


async def test_threads_work_within_the_memory_limit() -> None:
    async with _harness() as h:
        body = (await h.client.get(f"{BASE}/threads")).json()
        assert body == {"ok": True, "value": 32}
