"""The README's first steps as printed: after `make run`, the seed's three `curl` commands answer
without a login (the example plugin's public demo routes), everything else still needs one, the
grant made by auto-enable is logged and audited, and Ctrl-C ends `make run` without an error."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.test_docs_commands import ROOT, shell_commands
from tests.test_serve_process import free_port

IN_CI = os.environ.get("CI", "").lower() == "true"

#: The original README's test commands, exactly (shared/reference/catalyst-plugin-system.md).
SEED_COMMANDS = [
    "curl http://localhost:3000/api/plugins/example-plugin/hello",
    "curl http://localhost:3000/api/plugins/example-plugin/stats",
    "curl -X POST http://localhost:3000/api/plugins/example-plugin/echo "
    "-H 'Content-Type: application/json' -d '{\"test\":\"data\"}'",
]


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no answer from {base}/api/health within 60 s:\n{log.read_text()}")
        time.sleep(0.1)


def clean_env(tmp_path: Path, port: int) -> dict[str, str]:
    """The environment of a fresh shell: no CATALYST_* of the developer's, a private database."""
    outer_make = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")  # when pytest itself runs under `make test`
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CATALYST_") and k not in outer_make
    }
    env.update(
        CATALYST_PORT=str(port),
        CATALYST_DATA_DIR=str(tmp_path / "data"),
        CATALYST_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'catalyst.db'}",
        CATALYST_LOG_FORMAT="json",
    )
    return env


@dataclass
class Served:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    db: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Served]:
    """`make run` as the README says, in its own process group (like a terminal's foreground
    job). Install and UI build are taken as done (`make test` did them before pytest)."""
    make = shutil.which("make")
    if make is None or not (ROOT / ".venv" / "bin" / "catalyst").exists():
        if IN_CI:
            pytest.fail("make and .venv/bin/catalyst are needed")
        pytest.skip("make or .venv/bin/catalyst missing")
    port = free_port()
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [make, "-s", "-o", "install", "-o", "ui", "run"],
            cwd=ROOT,
            env=clean_env(tmp_path, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(port, proc, log, tmp_path / "catalyst.db")
    try:
        wait_healthy(served.base, proc, log)
        yield served
    finally:
        stop(proc)


def run_printed(command: str, port: int) -> dict[str, object]:
    """Run a README command in bash as printed (only the port differs) and parse its output."""
    here = command.replace("localhost:3000", f"localhost:{port}")
    done = subprocess.run(["bash", "-c", here], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (command, done.stderr)
    body: dict[str, object] = json.loads(done.stdout)
    return body


@pytest.mark.slow
def test_the_seed_commands_answer_anonymously_after_make_run(make_run: Served) -> None:
    printed = shell_commands(ROOT / "README.md")
    for command in SEED_COMMANDS:
        assert command in printed, f"README.md no longer prints: {command}"
    hello, stats, echo = (run_printed(c, make_run.port) for c in SEED_COMMANDS)
    assert hello["success"] is True
    assert hello["message"] == "Hello from the example plugin!"
    assert stats["success"] is True
    assert isinstance(stats["data"], dict)
    assert stats["data"]["requestCount"] >= 1
    assert echo["success"] is True
    assert echo["echo"] == {"test": "data"}

    # everything else stays behind the login
    for path in (
        "/api/plugins/example-plugin/whoami",
        "/api/plugins/example-plugin/frontend/index.js",
        "/api/plugins/example-plugin",
        "/api/plugins",
    ):
        r = httpx.get(make_run.base + path)
        assert (r.status_code, r.json()["success"]) == (401, False), path

    # auto-enable granted what the manifest requests, and said so in the log and the audit
    lines = [json.loads(x) for x in make_run.log.read_text().splitlines() if x.startswith("{")]
    (granted,) = [x for x in lines if x.get("event") == "plugin_auto_enabled"]
    assert granted["plugin"] == "example-plugin"
    assert granted["granted"] == ["http.public", "server.read"]
    with sqlite3.connect(make_run.db) as db:
        rows = db.execute("SELECT actor, action, target, details FROM audit_log").fetchall()
    assert [(a, b, c) for a, b, c, _ in rows if b == "user.create"] == [
        ("system:setup", "user.create", "admin")  # the first admin, created by `make run`
    ]
    grants = [(a, b, c, json.loads(d)["permissions"]) for a, b, c, d in rows if b != "user.create"]
    assert grants == [
        (
            "system:auto-enable",
            "plugin.permissions.grant",
            "example-plugin",
            ["http.public", "server.read"],
        )
    ]

    # Ctrl-C: the terminal sends SIGINT to the whole foreground group (make, and the server)
    os.killpg(make_run.proc.pid, signal.SIGINT)
    make_run.proc.wait(timeout=30)
    out = make_run.log.read_text()
    assert "make: ***" not in out, out[-2000:]
    assert "Traceback" not in out, out[-2000:]


@pytest.mark.slow
def test_catalyst_serve_exits_0_on_sigterm(tmp_path: Path) -> None:
    """SIGTERM (a service manager, `kill`) is a normal stop too; Ctrl-C is covered above."""
    port = free_port()
    env = clean_env(tmp_path, port)
    env["CATALYST_PLUGINS_DIR"] = str(tmp_path / "plugins")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "catalyst", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()[-2000:]
    finally:
        stop(proc)
