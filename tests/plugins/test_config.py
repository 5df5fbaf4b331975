"""Plugin config: schema validation, secrets, persistence across reload and restart."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.conftest import stop_app
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

SCHEMA = {
    "greeting": {"type": "string", "default": "hi", "description": "Greeting"},
    "limit": {"type": "integer", "default": 5, "min": 1, "max": 10, "description": "Limit"},
    "mode": {"type": "select", "default": "a", "options": ["a", "b"], "description": "Mode"},
    "token": {"type": "secret", "default": "", "description": "Token"},
}
CODE = """
changes_seen = []

def on_load(ctx):
    ctx.get("/cfg")(lambda r: {"greeting": ctx.get_config("greeting"), "all": ctx.config})

    @ctx.post("/cfg")
    async def set_it(request):
        body = await request.json()
        await ctx.set_config(body["key"], body["value"])
        return {"ok": True}

def on_config_change(ctx, changes):
    changes_seen.append(changes)
"""


async def start(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "cfg", CODE, config=SCHEMA)
    return await app_factory(plugin_auto_enable=["cfg"])


async def test_get_config_returns_values_not_the_schema(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    c = await admin_client(app)
    r = await c.get("/api/plugins/cfg/cfg")
    assert r.json() == {
        "greeting": "hi",
        "all": {"greeting": "hi", "limit": 5, "mode": "a", "token": ""},
    }


@pytest.mark.runtime(
    "inprocess", reason="reads what on_config_change saw from the plugin module's globals"
)
async def test_admin_update_validates_everything_and_saves_all_or_nothing(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    c = await admin_client(app)
    bad = await c.put(
        "/api/plugins/cfg/config",
        json={"config": {"greeting": "ok", "limit": 99, "mode": "z", "nope": 1}},
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert set(errors) == {"limit", "mode", "nope"}
    assert "Unknown config key 'nope'" in errors["nope"]
    assert (await c.get("/api/plugins/cfg/cfg")).json()["greeting"] == "hi"  # nothing saved
    good = await c.put("/api/plugins/cfg/config", json={"config": {"greeting": "hey", "limit": 7}})
    assert good.status_code == 200
    assert good.json()["message"] == "Plugin configuration updated"
    assert (await c.get("/api/plugins/cfg/cfg")).json()["greeting"] == "hey"
    module = manager_of(app).get("cfg").instance.module  # type: ignore[union-attr]
    assert module.changes_seen == [{"greeting": "hey", "limit": 7}]


async def test_bad_config_bodies_are_400(settings: Settings, app_factory: AppFactory) -> None:
    app = await start(settings, app_factory)
    c = await admin_client(app)
    for body in ({}, {"config": "x"}, {"config": {}, "extra": 1}):
        r = await c.put("/api/plugins/cfg/config", json=body)
        assert r.status_code == 400, body
        assert r.json()["success"] is False
    assert (await c.put("/api/plugins/ghost/config", json={"config": {}})).status_code == 404


async def test_set_config_from_plugin_code_is_validated(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    c = await admin_client(app)
    ok = await c.post("/api/plugins/cfg/cfg", json={"key": "mode", "value": "b"})
    assert ok.status_code == 200
    assert (await c.get("/api/plugins/cfg/cfg")).json()["all"]["mode"] == "b"
    bad = await c.post("/api/plugins/cfg/cfg", json={"key": "limit", "value": "many"})
    assert bad.status_code == 400  # ConfigError is a 400, raised inside the handler
    assert "limit" in bad.json()["error"]


async def test_secrets_are_masked_and_the_mask_means_unchanged(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    c = await admin_client(app)
    await c.put("/api/plugins/cfg/config", json={"config": {"token": "s3cret"}})
    detail = (await c.get("/api/plugins/cfg")).json()["data"]
    assert detail["config"]["token"] == "********"
    assert "s3cret" not in (await c.get("/api/plugins/cfg")).text
    assert "s3cret" not in (await c.get("/api/plugins")).text
    await c.put("/api/plugins/cfg/config", json={"config": {"token": "********", "limit": 2}})
    assert manager_of(app).config.effective("cfg")["token"] == "s3cret"


async def test_values_survive_reload_and_restart(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    c = await admin_client(app)
    await c.put("/api/plugins/cfg/config", json={"config": {"greeting": "persisted"}})
    assert (await c.post("/api/plugins/cfg/reload")).status_code == 200
    assert (await c.get("/api/plugins/cfg/cfg")).json()["greeting"] == "persisted"
    await stop_app(app)
    again = await app_factory()
    c2 = await admin_client(again)
    assert (await c2.get("/api/plugins/cfg/cfg")).json()["greeting"] == "persisted"
