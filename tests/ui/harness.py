"""A real Catalyst server for the UI tests and the screenshot script, and how to run Chromium."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.threaded_harness import ThreadedHarness

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


@dataclass
class Server:
    base: str
    workdir: Path
    host: ThreadedHarness

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
    """Serve a fresh Catalyst (a live PluginHarness in a thread: temp SQLite, temp plugins
    folder) with the built UI; the admin is ``ADMIN_USER``/``ADMIN_PASSWORD``."""
    workdir = Path(tempfile.mkdtemp(prefix="catalyst-ui-"))
    plugins_dir = workdir / "plugins"
    plugins_dir.mkdir()
    shutil.copytree(ROOT / "catalyst-plugins" / "example-plugin", plugins_dir / "example-plugin")
    for name in plugins:
        source = FIXTURE_PLUGINS / name
        if not source.is_dir():  # the backend tests' fixtures serve the screenshots too
            source = ROOT / "tests" / "fixture_plugins" / name
        shutil.copytree(source, plugins_dir / name)
    try:
        with ThreadedHarness(
            plugins_dir=plugins_dir,
            admin_password=ADMIN_PASSWORD,
            plugin_auto_enable=list(auto_enable),
            hot_reload=False,
            redis_url=None,
        ) as host:
            yield Server(host.base, workdir, host)
    finally:
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
