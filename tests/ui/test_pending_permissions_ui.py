"""The plugin page shows permissions a new version requests, and the consent dialog grants them."""

from __future__ import annotations

import json
import shutil

import httpx
from playwright.sync_api import Page, expect

from tests.plugin_helpers import manifest
from tests.ui.harness import Server

NAME = "consent-demo"
V1 = "def on_load(ctx):\n    ctx.get('/priv')(lambda r: {'v': 1})\n"
V2 = V1 + "    ctx.get('/pub', public=True)(lambda r: {'public': True})\n"


def test_pending_permissions_are_granted_through_the_consent_dialog(
    page: Page, ui_server: Server
) -> None:
    folder = ui_server.workdir / "plugins" / NAME
    (folder / "backend").mkdir(parents=True)
    (folder / "plugin.json").write_text(json.dumps(manifest(NAME)))
    (folder / "backend" / "plugin.py").write_text(V1)
    try:
        with ui_server.client() as api:
            assert api.post("/api/plugins/rescan").json()["data"]["added"] == [NAME]
            assert api.post(f"/api/plugins/{NAME}/enable", json={"enabled": True}).is_success
            (folder / "plugin.json").write_text(
                json.dumps(manifest(NAME, permissions=["http.public"]))
            )
            (folder / "backend" / "plugin.py").write_text(V2)
            assert api.post(f"/api/plugins/{NAME}/reload").is_success
        public = f"{ui_server.base}/api/plugins/{NAME}/pub"
        assert httpx.get(public).status_code == 401

        page.goto(f"/plugins/{NAME}")
        notice = page.get_by_test_id("pending-permissions")
        expect(notice).to_contain_text("http.public")
        notice.get_by_role("button", name="Review and grant").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_test_id("pending-consent-permissions")).to_contain_text(
            "not logged in"
        )
        dialog.get_by_test_id("pending-consent-confirm").click()
        expect(notice).to_have_count(0)
        assert httpx.get(public).json() == {"public": True}
    finally:
        shutil.rmtree(folder)
        with ui_server.client() as api:
            api.post("/api/plugins/rescan")
