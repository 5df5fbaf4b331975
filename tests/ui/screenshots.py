"""Screenshots of the admin UI for the docs: ``make screenshots``.

Starts a real Catalyst with the example plugin (plus a plugin in error and one not yet enabled),
drives Debian's Chromium through the main pages in both colour schemes and writes PNG files to
``docs/screenshots/``.
"""

from __future__ import annotations

import sys
import time

from playwright.sync_api import FrameLocator, Page, expect, sync_playwright

from tests.ui.harness import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Server,
    running_server,
)

OUT = ROOT / "docs" / "screenshots"


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.wait_for_timeout(300)  # let transitions settle
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path.relative_to(ROOT)}")


def frame(page: Page, plugin: str) -> FrameLocator:
    """A process-runtime plugin's UI: it runs in a sandboxed frame."""
    return page.frame_locator(f'iframe[data-testid="plugin-frame"][data-plugin="{plugin}"]')


def set_theme(page: Page, theme: str) -> None:
    page.evaluate(
        """theme => {
            localStorage.setItem("catalyst-theme", JSON.stringify({state: {theme}, version: 0}));
        }""",
        theme,
    )
    page.reload()
    expect(page.locator(f'html[data-theme="{theme}"]')).to_have_count(1)


def seed(server: Server) -> None:
    """Some servers, requests, task runs and log lines, so the pages have something to show."""
    with server.client() as api:
        ids = []
        for name, game in [
            ("Survival", "minecraft"),
            ("Creative", "minecraft"),
            ("Vikings", "valheim"),
        ]:
            answer = api.post("/api/servers", json={"name": name, "game": game, "node": "local"})
            ids.append(answer.json()["data"]["id"])
        api.post(f"/api/servers/{ids[0]}/start")
        api.post(f"/api/servers/{ids[2]}/start")
        api.post(f"/api/servers/{ids[2]}/stop")
        api.post(f"/api/servers/{ids[2]}/start")
        for _ in range(3):
            api.get("/api/plugins/example-plugin/hello")
        api.post("/api/plugins/example-plugin/tasks/five-minute/run")
        api.put("/api/plugins/example-plugin/config", json={"config": {"apiToken": "s3cret"}})


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with running_server(
        plugins=("good-plugin", "raises-on-import", "broken-frontend"),
        auto_enable=("example-plugin", "broken-frontend"),
    ) as server:
        seed(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                base_url=server.base, viewport={"width": 1440, "height": 900}, color_scheme="dark"
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto("/")
            set_theme(page, "dark")
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            shot(page, "login")

            page.get_by_label("Username").fill(ADMIN_USER)
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("live-status")).to_have_text("Live")
            expect(frame(page, "example-plugin").get_by_text("requests served")).to_be_visible()
            shot(page, "dashboard")

            page.goto("/plugins")
            expect(page.locator('[data-testid="plugin-row"]')).to_have_count(4)
            shot(page, "plugins-dark", full_page=True)
            set_theme(page, "light")
            expect(page.locator('[data-testid="plugin-row"]')).to_have_count(4)
            shot(page, "plugins-light", full_page=True)
            good = page.locator('[data-testid="plugin-row"][data-plugin="good-plugin"]')
            good.get_by_role("switch").click()
            expect(page.get_by_role("dialog")).to_contain_text("server.read")
            shot(page, "plugin-consent")
            page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

            page.goto("/plugins/example-plugin")
            expect(page.get_by_role("form", name="Plugin configuration")).to_be_visible()
            expect(page.get_by_test_id("task-row")).to_have_count(1)
            shot(page, "plugin-details-light", full_page=True)
            set_theme(page, "dark")
            expect(page.get_by_role("form", name="Plugin configuration")).to_be_visible()
            page.get_by_label("Echo limit (bytes)").fill("5")
            page.get_by_role("button", name="Save changes").click()
            expect(page.get_by_test_id("config-error-echoLimit")).to_be_visible()
            shot(page, "plugin-details", full_page=True)

            page.goto("/ext/example-plugin/example")
            example = frame(page, "example-plugin")
            expect(example.get_by_text("connected")).to_be_visible()
            example.get_by_test_id("example-ping").click()
            expect(example.get_by_test_id("example-pong")).to_be_visible()
            example.get_by_role("button", name="Send").click()
            expect(example.get_by_test_id("example-echo-result")).to_be_visible()
            shot(page, "example-tab")

            page.goto("/ext/broken-frontend/broken")
            expect(frame(page, "broken-frontend").get_by_test_id("plugin-error")).to_be_visible()
            shot(page, "plugin-error-card")

            page.goto("/servers")
            expect(page.locator('[data-testid="server-row"]')).to_have_count(3)
            shot(page, "servers")

            mobile = browser.new_context(
                base_url=server.base,
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                storage_state=context.storage_state(),
            )
            phone = mobile.new_page()
            phone.goto("/plugins")
            expect(phone.locator('[data-testid="plugin-row"]')).to_have_count(4)
            time.sleep(0.3)
            shot(phone, "plugins-mobile")
            phone.get_by_role("button", name="Open navigation").click()
            shot(phone, "navigation-mobile")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
