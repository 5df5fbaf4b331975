"""A process-runtime plugin's frontend runs in a sandboxed frame (``sandbox="allow-scripts"``,
an opaque origin): its tab works through the host's bridge, and its script cannot reach the
admin's session, storage or page, nor the admin API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Frame, FrameLocator, Page, expect

from tests.ui.harness import Server

pytestmark = pytest.mark.slow

GREETING = "Hello from the example plugin!"
FRAME = 'iframe[data-testid="plugin-frame"][data-plugin="example-plugin"]'


def open_example_tab(page: Page) -> FrameLocator:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Example").click()
    tab = page.locator('[data-testid="plugin-tab"][data-plugin="example-plugin"]')
    frame = tab.locator(FRAME)
    expect(frame).to_have_attribute("sandbox", "allow-scripts")
    return tab.frame_locator(FRAME)


def example_frame(page: Page) -> Frame:
    handle = page.locator(FRAME).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def test_the_example_tab_works_inside_its_sandboxed_frame(page: Page) -> None:
    ui = open_example_tab(page)
    expect(ui.get_by_test_id("example-greeting")).to_have_text(GREETING)
    # live stats: polled every 3 s over the bridge; the request count goes up
    stats = ui.get_by_test_id("example-stats")
    expect(stats).to_contain_text("Requests")
    expect(ui.get_by_text(re.compile(r"Updated \d"))).to_be_visible()
    ui.get_by_label("Message").fill("from the sandbox")
    ui.get_by_role("button", name="Send").click()
    expect(ui.get_by_test_id("example-echo-result")).to_contain_text("from the sandbox")
    expect(ui.get_by_text("connected", exact=True)).to_be_visible()
    ui.get_by_test_id("example-ping").click()
    expect(ui.get_by_test_id("example-pong")).to_contain_text(re.compile(r"Pong\s*#1 in [\d.]+ ms"))
    # The host sizes the frame to its content: the four cards fit without a scroll bar.
    frame = page.locator(FRAME)
    content = example_frame(page).evaluate(
        "() => Math.ceil(document.getElementById('root').getBoundingClientRect().height)"
    )
    expect(frame).to_have_attribute("style", re.compile(rf"height: {content}px"))
    assert content > 300


def test_the_frame_follows_the_host_theme(page: Page) -> None:
    open_example_tab(page)
    ui_frame = page.locator(FRAME)
    expect(ui_frame).to_be_visible()
    frame = example_frame(page)
    before = page.evaluate("document.documentElement.dataset.theme")
    expect(page.frame_locator(FRAME).locator("html")).to_have_attribute("data-theme", before)
    page.get_by_test_id("theme-toggle").click()
    after = page.evaluate("document.documentElement.dataset.theme")
    assert after != before
    expect(page.frame_locator(FRAME).locator("html")).to_have_attribute("data-theme", after)
    assert frame.evaluate("document.documentElement.dataset.theme") == after


# Run inside the frame: every way to the admin's session or page must fail.
PROBES = """async () => {
  const attempt = (fn) => {
    try { const v = fn(); return {ok: true, value: v === undefined ? null : String(v)}; }
    catch (e) { return {ok: false, error: e.name}; }
  };
  const refused = async (promise) => {
    try { await promise; return {ok: true}; }
    catch (e) { return {ok: false, status: e.status ?? null, message: e.message}; }
  };
  const C = window.Catalyst;
  const own = C.api.createPluginApi("example-plugin");
  return {
    origin: window.origin,
    localStorage: attempt(() => window.localStorage.getItem("catalyst-theme")),
    sessionStorage: attempt(() => window.sessionStorage.length),
    cookie: attempt(() => document.cookie),
    parentDocument: attempt(() => window.parent.document.title),
    parentStorage: attempt(() => window.parent.localStorage.length),
    topLocation: attempt(() => window.top.location.href),
    users: await refused(C.api.requestJson("/api/users")),
    enableOther: await refused(
      C.api.createPluginApi("broken-frontend").post("/enable", {enabled: false})),
    enableOwn: await refused(own.post("/enable", {enabled: false})),
    ownConfig: await refused(own.get("/config")),
    ownDetail: await refused(C.api.requestJson("/api/plugins/example-plugin")),
    dotDot: await refused(C.api.requestJson("/api/plugins/example-plugin/../../users")),
    encoded: await refused(C.api.requestJson("/api/plugins/example-plugin/%2e%2e/enable")),
    ownRoute: await refused(own.get("/hello")),
  };
}"""


def test_script_in_the_frame_cannot_reach_the_admin_session(page: Page, ui_server: Server) -> None:
    ui = open_example_tab(page)
    expect(ui.get_by_test_id("example-greeting")).to_have_text(GREETING)
    frame = example_frame(page)
    found: dict[str, Any] = frame.evaluate(PROBES)

    assert found["origin"] == "null"
    for key in ("localStorage", "sessionStorage", "cookie", "parentDocument", "parentStorage"):
        assert found[key] == {"ok": False, "error": "SecurityError"}, key
    assert found["topLocation"]["ok"] is False
    for key in ("users", "enableOther", "enableOwn", "ownConfig", "ownDetail", "dotDot", "encoded"):
        assert found[key]["ok"] is False, key
        assert found[key]["status"] == 403, key
        assert "Refused by the plugin sandbox" in found[key]["message"], key
    assert found["ownRoute"] == {"ok": True}  # the plugin's own route goes through

    # The admin page itself has the session: the same calls work from it.
    assert page.evaluate("fetch('/api/users').then(r => r.status)") == 200
    with ui_server.client() as api:
        assert api.get("/api/plugins/example-plugin").json()["data"]["status"] == "enabled"
        assert api.get("/api/plugins/broken-frontend").json()["data"]["status"] == "enabled"

    # fetch from the frame: a CORS request fails outright (the API grants the opaque origin
    # nothing); a no-cors one goes out without the session cookie, the server answers 401, and
    # the frame gets an opaque answer it cannot read.
    cors = "() => fetch('/api/users', {credentials: 'include'}).then(r => r.status, e => e.name)"
    assert frame.evaluate(cors) == "TypeError"
    with page.expect_response(lambda r: r.url.endswith("/api/users")) as seen:
        outcome = frame.evaluate(
            "() => fetch('/api/users', {credentials: 'include', mode: 'no-cors'})"
            ".then(r => r.type + ' ' + r.status, e => e.name)"
        )
    assert outcome == "opaque 0"
    assert seen.value.status == 401
    assert "cookie" not in seen.value.request.all_headers()
    with page.expect_response(lambda r: r.url.endswith("/example-plugin/enable")) as seen:
        outcome = frame.evaluate(
            """() => fetch('/api/plugins/example-plugin/enable', {method: 'POST', mode: 'no-cors',
                 credentials: 'include', body: JSON.stringify({enabled: false})})
                 .then(r => r.type + ' ' + r.status, e => e.name)"""
        )
    assert outcome == "opaque 0"
    assert seen.value.status in (401, 403)
    assert "cookie" not in seen.value.request.all_headers()
    with ui_server.client() as api:
        assert api.get("/api/plugins/example-plugin").json()["data"]["status"] == "enabled"


def post_from_frame(frame: Frame, message: str) -> None:
    frame.evaluate(
        f"() => window.parent.postMessage({{catalyst: 'catalyst-sandbox/1', {message}}}, '*')"
    )


def test_the_frame_may_only_send_its_own_socket_messages_and_navigate_in_the_app(
    page: Page,
) -> None:
    ui = open_example_tab(page)
    expect(ui.get_by_text("connected", exact=True)).to_be_visible()
    frame = example_frame(page)
    refused = "refused WebSocket message plugin:broken-frontend:ping"
    with page.expect_console_message(lambda m: refused in m.text):
        post_from_frame(frame, "kind: 'ws-send', type: 'plugin:broken-frontend:ping', data: {}")
    with page.expect_console_message(
        lambda m: "refused navigation to https://evil.test/" in m.text
    ):
        post_from_frame(frame, "kind: 'navigate', to: 'https://evil.test/'")
    with page.expect_console_message(lambda m: "refused navigation to //evil.test/" in m.text):
        post_from_frame(frame, "kind: 'navigate', to: '//evil.test/'")
    assert page.url.endswith("/ext/example-plugin/example")
    # A path inside the app is fine, and a toast shows in the admin page.
    frame.evaluate("() => window.Catalyst.toast.success('Hello from the frame')")
    expect(page.get_by_text("Hello from the frame")).to_be_visible()
    frame.evaluate("() => window.Catalyst.navigate('/plugins')")
    expect(page.get_by_role("heading", name="Plugins", exact=True)).to_be_visible()


def test_the_list_and_the_detail_show_the_runtime(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plugins").click()
    row = page.locator('[data-testid="plugin-row"][data-plugin="example-plugin"]')
    expect(row.get_by_test_id("plugin-runtime")).to_have_text("process")
    row.get_by_role("link", name="Details").click()
    card = page.get_by_test_id("plugin-runtime-card")
    expect(card).to_contain_text("own process")
    expect(card.get_by_test_id("runtime-sandbox-level")).to_be_visible()
