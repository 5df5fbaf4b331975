"""The admin UI in Debian's Chromium against a real Catalyst process.

Each test gets its own logged-in page and leaves the shared server as it found it (the example
plugin enabled, its config and files as shipped), so it runs alone and in any order.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from tests.ui.harness import Server

pytestmark = pytest.mark.slow

GREETING = "Hello from the example plugin!"


def plugin_row(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid="plugin-row"][data-plugin="{name}"]')


def open_plugins(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plugins").click()
    expect(page.get_by_role("heading", name="Plugins", exact=True)).to_be_visible()


def plugin_frame(page: Page, name: str) -> FrameLocator:
    """The UI of a process-runtime plugin: it runs in a sandboxed frame."""
    return page.frame_locator(f'iframe[data-testid="plugin-frame"][data-plugin="{name}"]')


def example_tab_link(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name="Example")


def test_login_and_the_list_shows_the_plugins(page: Page) -> None:
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    open_plugins(page)
    row = plugin_row(page, "example-plugin")
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name="Example Plugin")).to_be_visible()
    expect(row.locator("[data-status]")).to_have_text("enabled")
    expect(row).to_contain_text("Catalyst Team")
    expect(row).to_contain_text("server.read")
    expect(plugin_row(page, "broken-frontend")).to_be_visible()
    # Search and status filter.
    page.get_by_label("Search plugins").fill("broken")
    expect(plugin_row(page, "example-plugin")).to_have_count(0)
    expect(plugin_row(page, "broken-frontend")).to_be_visible()
    page.get_by_label("Search plugins").fill("")
    page.get_by_label("Filter by status").select_option("disabled")
    expect(page.get_by_text("No plugin matches")).to_be_visible()
    page.get_by_label("Filter by status").select_option("")
    expect(plugin_row(page, "example-plugin")).to_be_visible()


def test_the_example_tab_renders_and_ping_gets_a_pong(page: Page) -> None:
    example_tab_link(page).click()
    expect(page.locator('[data-testid="plugin-tab"][data-plugin="example-plugin"]')).to_be_visible()
    tab = plugin_frame(page, "example-plugin")
    expect(tab.get_by_test_id("example-greeting")).to_have_text(GREETING)
    expect(tab.get_by_test_id("example-stats")).to_contain_text("Requests")
    tab.get_by_label("Message").fill("from playwright")
    tab.get_by_role("button", name="Send").click()
    expect(tab.get_by_test_id("example-echo-result")).to_contain_text("from playwright")
    expect(tab.get_by_text("connected")).to_be_visible()
    tab.get_by_test_id("example-ping").click()
    expect(tab.get_by_test_id("example-pong")).to_contain_text(
        re.compile(r"Pong\s*#1 in [\d.]+ ms")
    )


def test_a_plugin_whose_frontend_throws_shows_an_error_card(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Broken tab").click()
    card = plugin_frame(page, "broken-frontend").get_by_test_id("plugin-error")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Broken Frontend")
    expect(card).to_contain_text("Boom: the broken-frontend tab failed to render")
    # The host is still usable.
    open_plugins(page)
    expect(plugin_row(page, "example-plugin")).to_be_visible()


def test_disable_removes_the_tab_and_the_route_then_enable_and_reload(
    page: Page, ui_server: Server
) -> None:
    open_plugins(page)
    row = plugin_row(page, "example-plugin")
    expect(example_tab_link(page)).to_be_visible()

    row.get_by_role("switch").click()
    expect(row.locator("[data-status]")).to_have_text("disabled")
    expect(example_tab_link(page)).to_have_count(0)
    with ui_server.client() as api:
        answer = api.get("/api/plugins/example-plugin/hello")
    assert answer.status_code == 503
    assert answer.json() == {"success": False, "error": "Plugin is disabled"}

    row.get_by_role("switch").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Enable Example Plugin?")
    expect(dialog.get_by_test_id("consent-permissions")).to_contain_text("server.read")
    # the public demo routes (/hello, /stats, /echo) are asked for in the open
    expect(dialog.get_by_test_id("consent-permissions")).to_contain_text("http.public")
    dialog.get_by_role("button", name="Grant and enable").click()
    expect(row.locator("[data-status]")).to_have_text("enabled")
    expect(example_tab_link(page)).to_be_visible()

    row.get_by_role("button", name="Reload Example Plugin").click()
    expect(page.get_by_text(re.compile(r"Example Plugin reloaded"))).to_be_visible()
    expect(row.locator("[data-status]")).to_have_text("enabled")
    example_tab_link(page).click()
    expect(plugin_frame(page, "example-plugin").get_by_test_id("example-greeting")).to_be_visible()


def test_a_reload_brings_the_new_frontend_code_without_a_page_reload(
    page: Page, ui_server: Server
) -> None:
    module = ui_server.workdir / "plugins" / "example-plugin" / "frontend" / "index.js"
    original = module.read_text()
    nav = page.get_by_role("navigation", name="Main")
    open_plugins(page)
    reload = plugin_row(page, "example-plugin").get_by_role("button", name="Reload Example Plugin")
    page.evaluate("window.__sameDocument = true")
    try:
        module.write_text(original.replace('label: "Example",', 'label: "Example v2",'))
        reload.click()
        expect(nav.get_by_role("link", name="Example v2")).to_be_visible()
    finally:
        module.write_text(original)
    reload.click()
    expect(nav.get_by_role("link", name="Example", exact=True)).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # no page reload happened


def test_config_form_saves_the_greeting_and_shows_field_errors(
    page: Page, ui_server: Server
) -> None:
    open_plugins(page)
    plugin_row(page, "example-plugin").get_by_role("link", name="Details").click()
    form = page.get_by_role("form", name="Plugin configuration")
    greeting = form.get_by_label("Greeting")
    expect(greeting).to_have_value(GREETING)
    expect(form.get_by_label("API token")).to_have_attribute("type", "password")
    greeting.fill("Hello from Playwright")
    form.get_by_role("button", name="Save changes").click()
    try:
        expect(form.get_by_role("status")).to_have_text("Saved.")
        with ui_server.client() as api:
            hello = api.get("/api/plugins/example-plugin/hello").json()
        assert hello["message"] == "Hello from Playwright"
    finally:  # the other tests see the shipped greeting
        with ui_server.client() as api:
            config = {"config": {"greeting": GREETING}}
            assert api.put("/api/plugins/example-plugin/config", json=config).is_success

    form.get_by_label("Echo limit (bytes)").fill("5")
    form.get_by_role("button", name="Save changes").click()
    error = form.get_by_test_id("config-error-echoLimit")
    expect(error).to_contain_text("at least 16")
    expect(form.get_by_label("Echo limit (bytes)")).to_have_attribute("aria-invalid", "true")
    form.get_by_role("button", name="Discard").click()
    expect(form.get_by_label("Echo limit (bytes)")).to_have_value("65536")


def test_a_change_made_through_the_api_appears_without_a_reload(
    page: Page, ui_server: Server
) -> None:
    open_plugins(page)
    row = plugin_row(page, "example-plugin")
    expect(row.locator("[data-status]")).to_have_text("enabled")
    with ui_server.client() as api:
        assert api.post("/api/plugins/example-plugin/enable", json={"enabled": False}).is_success
        expect(row.locator("[data-status]")).to_have_text("disabled")
        expect(row.get_by_role("switch")).not_to_be_checked()
        expect(example_tab_link(page)).to_have_count(0)
        assert api.post("/api/plugins/example-plugin/enable", json={"enabled": True}).is_success
    expect(row.locator("[data-status]")).to_have_text("enabled")
    expect(example_tab_link(page)).to_be_visible()


def test_servers_create_start_stop_delete(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Servers").click()
    page.get_by_role("button", name="New server").click()
    page.get_by_label("Name").fill("UI test world")
    page.get_by_label("Game").fill("minecraft")
    page.get_by_role("button", name="Create").click()
    row = page.locator('[data-testid="server-row"][data-server="UI test world"]')
    expect(row.locator("[data-status]")).to_have_text("stopped")
    row.get_by_role("button", name="Start UI test world").click()
    expect(row.locator("[data-status]")).to_have_text("running")
    row.get_by_role("button", name="Stop UI test world").click()
    expect(row.locator("[data-status]")).to_have_text("stopped")
    row.get_by_role("button", name="Delete UI test world").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
