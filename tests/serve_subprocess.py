"""A real ``python -m catalyst serve`` in a child process, for tests that signal or watch it.

``serving(tmp_path, plugins, ...)`` starts it on a free port with its own SQLite database and data
folder, waits until ``/api/health`` answers, logs the admin in and yields a :class:`Served`; the
process is killed on the way out if it is still running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.test_serve_process import free_port

PASSWORD = "a-password-for-process-tests"


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    #: The admin's bearer token header.
    headers: dict[str, str]

    def output(self) -> str:
        """What the process printed (stops it first if it still runs)."""
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.stdout.read() if self.proc.stdout else ""


@contextmanager
def serving(
    tmp_path: Path,
    plugins: Path,
    auto_enable: list[str],
    env: Mapping[str, str] | None = None,
) -> Iterator[Served]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "catalyst", "serve", "--port", str(port)],
        env={
            **os.environ,
            "CATALYST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
            "CATALYST_DATA_DIR": str(tmp_path / "data"),
            "CATALYST_PLUGINS_DIR": str(plugins),
            "CATALYST_PLUGIN_AUTO_ENABLE": json.dumps(auto_enable),
            "CATALYST_ADMIN_PASSWORD": PASSWORD,
            "CATALYST_LOG_FORMAT": "json",
            **(env or {}),
        },
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    served = Served(proc, base, {})
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, served.output()
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
        served.headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
