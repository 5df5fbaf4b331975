"""Users and the audit log in a real browser: create an account, use it, see it audited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui.harness import Server, logged_in_page

pytestmark = pytest.mark.slow
NEW_USER = "ui-operator"


def test_create_a_user_log_in_as_them_and_see_it_audited(
    page: Page, browser: Browser, ui_server: Server
) -> None:
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    page.get_by_role("button", name="New user").click()
    page.get_by_label("Username").fill(NEW_USER)
    page.get_by_label("Role", exact=True).select_option("operator")
    page.get_by_role("button", name="Create", exact=True).click()
    shown = page.get_by_test_id("generated-password")
    expect(shown).to_have_text(re.compile(r"^\S{12,}$"))
    password = shown.inner_text()
    page.get_by_role("button", name="Done").click()
    row = page.locator(f'[data-testid="user-row"][data-user="{NEW_USER}"]')
    expect(row).to_contain_text("enabled")

    # A second browser context: the new operator logs in and reads the audit log.
    with logged_in_page(browser, ui_server, NEW_USER, password) as theirs:
        their_nav = theirs.get_by_role("navigation", name="Main")
        expect(their_nav.get_by_role("link", name="Users")).to_have_count(0)  # no user.read
        their_nav.get_by_role("link", name="Audit log").click()
        expect(theirs.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
        theirs.get_by_label("Action").fill("user.create")
        theirs.get_by_role("button", name="Apply").click()
        created = theirs.locator('[data-testid="audit-row"][data-action="user.create"]')
        expect(created.filter(has_text=NEW_USER)).to_have_count(1)
        expect(created.filter(has_text=NEW_USER)).to_contain_text("admin")

        # The admin disables the account: its open session ends at once. The server closes the
        # account's WebSocket (4401), and the UI, asking /api/auth/me again, shows the login.
        row.get_by_role("button", name=f"Disable {NEW_USER}").click()
        expect(row).to_contain_text("disabled")
        expect(theirs.get_by_role("button", name="Sign in")).to_be_visible()
        expect(theirs.get_by_text("Your session has ended")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    page.get_by_label("Target").fill(NEW_USER)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator('[data-testid="audit-row"][data-action="user.disable"]')).to_have_count(1)
