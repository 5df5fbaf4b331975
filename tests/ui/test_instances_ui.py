"""The plugin's page lists the instances that run it and warns when they run different code
(Debian's Chromium against a real Catalyst process; the other instance is a row in its
database, as another process would have written it)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete

from catalyst.db.models import ClusterInstance, utcnow
from catalyst.sdk.testing import PluginHarness
from tests.ui.harness import Server

pytestmark = pytest.mark.slow


def _other_instance(code_hash: str | None) -> Any:
    async def write(h: PluginHarness) -> None:
        async with h.services.db() as db, db.begin():
            await db.execute(delete(ClusterInstance).where(ClusterInstance.id == "zz-other"))
            if code_hash is not None:
                db.add(
                    ClusterInstance(
                        id="zz-other",
                        host="other-machine",
                        pid=777,
                        seen_at=utcnow() + timedelta(minutes=5),  # live for the whole test
                        plugins={"example-plugin": {"hash": code_hash, "state": "enabled"}},
                    )
                )

    return write


def test_the_instances_card_warns_of_other_code(page: Page, ui_server: Server) -> None:
    page.goto(f"{ui_server.base}/plugins/example-plugin")
    card = page.get_by_test_id("plugin-instances")
    expect(card).to_be_visible()
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-self", "true")
    mine = rows.first.get_by_test_id("instance-hash").inner_text()
    assert re.fullmatch(r"[0-9a-f]{8}", mine), mine
    expect(card.get_by_test_id("instances-mismatch")).to_have_count(0)
    try:
        ui_server.host.call(_other_instance("f" * 16))
        page.reload()
        expect(rows).to_have_count(2)
        expect(rows.nth(1)).to_contain_text("other-machine")
        warning = card.get_by_test_id("instances-mismatch")
        expect(warning).to_contain_text(f"Instances run different code of this plugin: {mine} on ")
        expect(warning).to_contain_text("ffffffff on zz-other")
    finally:
        ui_server.host.call(_other_instance(None))
    page.reload()
    expect(rows).to_have_count(1)
