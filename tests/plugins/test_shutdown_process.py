"""SIGTERM with a plugin request hanging in flight: the real `catalyst serve` process exits within
10 s and still runs the plugin's on_disable and on_unload."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.plugin_helpers import write_plugin
from tests.test_serve_process import free_port

PLUGIN = """
import asyncio
import pathlib
import time

OUT = pathlib.Path(__file__).resolve().parents[1] / "out"

def on_load(ctx):
    @ctx.get("/hang")
    async def hang(request):
        (OUT / "started").write_text("yes")
        await asyncio.sleep(3600)

    @ctx.get("/hang-sync")
    def hang_sync(request):  # a blocked worker thread must not keep the process alive
        time.sleep(3600)

def on_disable(ctx):
    (OUT / "on_disable").write_text("ran")

def on_unload(ctx):
    (OUT / "on_unload").write_text("ran")
"""
PASSWORD = "a-password-for-the-shutdown-test"
EXIT_BAR = 10.0  # seconds from SIGTERM to exit: the bar of the issue


@pytest.mark.slow
def test_sigterm_with_hanging_requests_exits_within_10_s_and_runs_on_disable(
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "plugins"
    folder = write_plugin(plugins, "hang", PLUGIN)
    out = folder / "out"
    out.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "CATALYST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        "CATALYST_DATA_DIR": str(tmp_path / "data"),
        "CATALYST_PLUGINS_DIR": str(plugins),
        "CATALYST_PLUGIN_AUTO_ENABLE": json.dumps(["hang"]),
        "CATALYST_ADMIN_PASSWORD": PASSWORD,
        "CATALYST_LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "catalyst", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /api/health"
            time.sleep(0.1)
        login = httpx.post(
            f"{base}/api/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}

        def call(path: str) -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{base}/api/plugins/hang{path}", headers=headers, timeout=120)

        clients = [threading.Thread(target=call, args=(p,), daemon=True) for p in ("/hang",) * 2]
        clients.append(threading.Thread(target=call, args=("/hang-sync",), daemon=True))
        for client in clients:
            client.start()
        while not (out / "started").exists():  # a request is in the handler
            assert proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.3)  # let the sync request reach its worker thread too
        proc.send_signal(signal.SIGTERM)
        began = time.monotonic()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("serve did not exit within 60 s of SIGTERM")
        took = time.monotonic() - began
        log = proc.stdout.read() if proc.stdout else ""
        print(f"exit took {took:.2f} s")
        assert took < EXIT_BAR, f"exit took {took:.1f} s\n{log}"
        assert (out / "on_disable").read_text() == "ran", log
        assert (out / "on_unload").read_text() == "ran", log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
