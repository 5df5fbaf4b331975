"""A user without admin rights: plugin UI still loads for them, within their permissions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui.harness import Server, logged_in_page

pytestmark = pytest.mark.slow
VIEWER, VIEWER_PASSWORD = "viewer", "viewer-password-for-ui-tests"


@pytest.fixture(scope="module")
def viewer(ui_server: Server) -> str:
    ui_server.host.call(
        lambda h: h.add_user(["server.read"], username=VIEWER, password=VIEWER_PASSWORD)
    )
    return VIEWER


@pytest.fixture
def viewer_page(browser: Browser, ui_server: Server, viewer: str) -> Iterator[Page]:
    """The viewer's own page for each test, on the dashboard."""
    with logged_in_page(browser, ui_server, viewer, VIEWER_PASSWORD) as page:
        yield page


def test_a_viewer_gets_plugin_widgets_but_not_admin_only_tabs(viewer_page: Page) -> None:
    page = viewer_page
    # The example plugin's dashboard widget needs no permission: it loads for the viewer.
    widget = page.frame_locator('iframe[data-testid="plugin-frame"][data-plugin="example-plugin"]')
    expect(widget.get_by_text("Example plugin", exact=True)).to_be_visible()
    expect(widget.get_by_text("requests served")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Servers")).to_be_visible()
    # Its "Example" tab requires admin.read, and so does the plugin admin.
    expect(nav.get_by_role("link", name="Example")).to_have_count(0)
    expect(nav.get_by_role("link", name="Plugins")).to_have_count(0)


def test_a_viewer_opening_an_admin_tab_is_told_the_missing_permission(viewer_page: Page) -> None:
    page = viewer_page
    page.goto("/ext/example-plugin/example")
    reason = page.get_by_test_id("unavailable-reason")
    expect(reason).to_have_text("You lack the permission it requires: admin.read.")
    expect(page.get_by_text("does not provide it")).to_have_count(0)
