"""Code shown in docs/PLUGIN_DEVELOPMENT.md runs: each marked snippet is loaded as a plugin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "PLUGIN_DEVELOPMENT.md").read_text()
SNIPPETS = dict(re.findall(r"# -- start (\w+) --\n(.*?)# -- end \1 --", GUIDE, flags=re.S))


def test_the_guide_has_snippets() -> None:
    assert set(SNIPPETS) == {"register_route", "decorators", "middleware", "websocket"}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
async def test_snippet_loads_and_serves(
    name: str, settings: Settings, app_factory: AppFactory
) -> None:
    code = SNIPPETS[name]
    code += "\n    ctx.get('/probe')(lambda r: {'ok': True})\n" if name == "middleware" else ""
    write_plugin(settings.plugins_dir, "doc", code, permissions=["server.read"])
    app = await app_factory(plugin_auto_enable=["doc"])
    record = manager_of(app).get("doc")
    assert record.enabled, record.error
    c = await admin_client(app)
    if name == "register_route":
        assert (await c.get("/api/plugins/doc/items/5")).json() == {"id": 5}
    elif name == "decorators":
        r = await c.post("/api/plugins/doc/echo", json={"a": 1})
        assert (r.status_code, r.json()) == (201, {"echo": {"a": 1}})
    elif name == "websocket":
        assert record.instance is not None
        assert record.instance.ws_handlers["restart"].permission == "server.write"
    else:
        r = await c.get("/api/plugins/doc/probe")
        assert float(r.headers["X-Time-Ms"]) >= 0
