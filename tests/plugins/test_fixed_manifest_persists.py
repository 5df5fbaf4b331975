"""A plugin found with an invalid plugin.json, then fixed (hot reload or the reload API), is
remembered like any other: enabling it, its grants and its config survive a restart (before the
fix it had no database row, so none of that was saved, and a config PUT answered 404)."""

from __future__ import annotations

import json

from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.conftest import stop_app
from tests.plugin_helpers import AppFactory, admin_client, manager_of, manifest, write_plugin

CODE = """
def on_load(ctx):
    @ctx.get("/greeting")
    def greeting(request):
        return {"greeting": ctx.get_config("greeting")}
"""
CONFIG = {"greeting": {"type": "string", "default": "hi", "description": "what to say"}}


async def test_a_manifest_fixed_after_discovery_is_remembered(
    settings: Settings, app_factory: AppFactory
) -> None:
    folder = write_plugin(
        settings.plugins_dir, "late", CODE, permissions=["server.read"], config=CONFIG
    )
    broken = manifest("late", permissions=["server.read"], config=CONFIG)
    del broken["author"]
    (folder / "plugin.json").write_text(json.dumps(broken))
    app = await app_factory()
    c = await admin_client(app)
    assert manager_of(app).get("late").state is PluginState.ERROR

    fixed = manifest("late", permissions=["server.read"], config=CONFIG)
    (folder / "plugin.json").write_text(json.dumps(fixed))
    r = await c.post("/api/plugins/late/reload")
    assert r.status_code == 200, r.text
    r = await c.post("/api/plugins/late/enable", json={"enabled": True})
    assert r.status_code == 200, r.text
    r = await c.put("/api/plugins/late/config", json={"config": {"greeting": "saved"}})
    assert r.status_code == 200, r.text
    assert (await c.get("/api/plugins/late/greeting")).json() == {"greeting": "saved"}
    await stop_app(app)

    again = await app_factory()
    c = await admin_client(again)
    record = manager_of(again).get("late")
    assert record.state is PluginState.ENABLED
    assert record.granted == frozenset({"server.read"})
    assert (await c.get("/api/plugins/late/greeting")).json() == {"greeting": "saved"}


async def test_an_invalid_plugin_shows_the_problems_of_its_current_manifest(
    settings: Settings, app_factory: AppFactory
) -> None:
    """Edited from one invalid manifest to another, the plugin lists the new problems (it kept
    listing the first ones: the new source was assigned after the refusal that raised)."""
    folder = write_plugin(settings.plugins_dir, "twice", CODE)
    first = manifest("twice")
    del first["author"]
    (folder / "plugin.json").write_text(json.dumps(first))
    app = await app_factory()
    c = await admin_client(app)
    errors = (await c.get("/api/plugins/twice")).json()["data"]["errors"]
    assert [e["path"] for e in errors] == ["author"]
    second = manifest("twice", version="not-a-version")
    (folder / "plugin.json").write_text(json.dumps(second))
    assert (await c.post("/api/plugins/twice/reload")).status_code == 400
    errors = (await c.get("/api/plugins/twice")).json()["data"]["errors"]
    assert [e["path"] for e in errors] == ["version"]
