"""Fixtures of the UI tests: one real server and one Chromium for the whole session.

Chromium is Debian's (``/usr/bin/chromium``, never a downloaded build). Without it, or without a
built UI (``frontend/dist``), the tests are skipped on a developer machine and fail under CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.ui.harness import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CHROMIUM,
    CHROMIUM_ARGS,
    DIST,
    Server,
    logged_in_page,
)
from tests.ui.harness import running_server as _running_server

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def ui_server() -> Iterator[Server]:
    if not (DIST / "index.html").is_file():
        _missing(f"the UI is not built ({DIST}/index.html missing): run `make ui`")
    with _running_server() as server:
        yield server


# Module scope, not session: while Playwright's sync API is started it keeps an event loop running
# in this thread, and pytest-asyncio cannot run the async tests of later modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        _missing(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, ui_server: Server) -> Iterator[Page]:
    """A logged-in admin page of its own for each test (fresh context, on the dashboard), so that
    each test stands alone and runs in any order."""
    with logged_in_page(browser, ui_server, ADMIN_USER, ADMIN_PASSWORD) as page:
        yield page
