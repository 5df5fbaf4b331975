"""The real `catalyst serve` process: migrates, creates the admin, answers over TCP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        **os.environ,
        "CATALYST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        "CATALYST_DATA_DIR": str(tmp_path / "data"),
        "CATALYST_PLUGINS_DIR": str(tmp_path / "plugins"),
        "CATALYST_ADMIN_PASSWORD": "",
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
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"serve exited early:\n{proc.stdout.read() if proc.stdout else ''}")
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("serve did not answer /api/health within 30 s")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_serve_answers_health_and_prints_a_working_admin_login(
    served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    base, proc = served
    health = httpx.get(f"{base}/api/health").json()
    assert health["success"] is True
    assert health["data"]["database"] == "ok"
    password = (tmp_path / "data" / "initial_admin_password").read_text().strip()
    login = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": password})
    assert login.status_code == 200
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    assert password in out  # the generated password was printed once
    assert f"{base}" in out
