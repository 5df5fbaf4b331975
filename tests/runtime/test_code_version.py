"""A process plugin's child that is restarted after it ended loads the files as they are now:
the code version the plugin's page shows is that of the restarted generation."""

from __future__ import annotations

import shutil
from pathlib import Path

from catalyst.plugins.codehash import code_hash
from catalyst.sdk.testing import PluginHarness
from tests.runtime.conftest import HOSTILE, StateWaiter


async def test_a_restarted_child_reports_the_code_it_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    shutil.copytree(HOSTILE, folder)
    async with PluginHarness(folder) as h:
        first = code_hash(folder)
        assert h.record.code_hash == first
        (folder / "backend" / "notes.py").write_text("NOTE = 'changed while running'\n")
        assert code_hash(folder) != first
        waiter = StateWaiter(h)
        back = waiter.expect("hostile", "enabled")
        assert (await h.client.get("/api/plugins/hostile/exit")).status_code == 502
        await back(10.0)
        assert h.record.code_hash == code_hash(folder)
        d = (await (await h.as_admin()).get("/api/plugins/hostile")).json()["data"]
        assert d["codeHash"] == code_hash(folder)
        assert d["instances"][0]["codeHash"] == code_hash(folder)
        waiter.close()
