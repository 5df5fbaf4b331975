"""A real Catalyst process for the UI tests and the screenshot script, and how to run Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
FIXTURE_PLUGINS = Path(__file__).resolve().parent / "fixture_plugins"
CHROMIUM = os.environ.get("CATALYST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_USER = "admin"
ADMIN_PASSWORD = "ui-tests-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-8000:]

    @contextmanager
    def client(self) -> Iterator[httpx.Client]:
        """An httpx client logged in as the admin (bearer token)."""
        with httpx.Client(base_url=self.base, timeout=10) as client:
            answer = client.post(
                "/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
            )
            answer.raise_for_status()
            client.headers["Authorization"] = f"Bearer {answer.json()['data']['token']}"
            yield client


@contextmanager
def running_server(
    plugins: tuple[str, ...] = ("broken-frontend",),
    auto_enable: tuple[str, ...] = ("example-plugin", "broken-frontend"),
) -> Iterator[Server]:
    """Serve a fresh Catalyst (temp SQLite, temp plugins folder) with the built UI."""
    workdir = Path(tempfile.mkdtemp(prefix="catalyst-ui-"))
    plugins_dir = workdir / "plugins"
    plugins_dir.mkdir()
    shutil.copytree(ROOT / "catalyst-plugins" / "example-plugin", plugins_dir / "example-plugin")
    for name in plugins:
        source = FIXTURE_PLUGINS / name
        if not source.is_dir():  # the backend tests' fixtures serve the screenshots too
            source = ROOT / "tests" / "fixture_plugins" / name
        shutil.copytree(source, plugins_dir / name)
    port = free_port()
    env = {
        **os.environ,
        "CATALYST_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'catalyst.db'}",
        "CATALYST_DATA_DIR": str(workdir / "data"),
        "CATALYST_PLUGINS_DIR": str(plugins_dir),
        "CATALYST_ADMIN_USERNAME": ADMIN_USER,
        "CATALYST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CATALYST_PLUGIN_AUTO_ENABLE": "[" + ",".join(f'"{p}"' for p in auto_enable) + "]",
        "CATALYST_HOT_RELOAD": "false",
        "CATALYST_LOG_FORMAT": "json",
        "CATALYST_SECRET_KEY": "ui-tests-secret-key-0123456789",
    }
    env.pop("CATALYST_REDIS_URL", None)
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "catalyst", "serve", "--host", "127.0.0.1", "--port", str(port)),
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", proc, workdir, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"catalyst serve exited early:\n{server.output()}")
            try:
                if httpx.get(f"{server.base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"catalyst serve did not start in 30 s:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def logged_in_page(
    browser: Browser, server: Server, username: str, password: str
) -> Iterator[Page]:
    """A page of a fresh browser context, signed in through the login form."""
    context = browser.new_context(base_url=server.base, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Welcome back, {username}")).to_be_visible()
    try:
        yield page
    finally:
        context.close()
