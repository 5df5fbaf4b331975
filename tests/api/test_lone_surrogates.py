"""A lone surrogate escape (``\\ud800``) in a JSON body is a 400: Python accepts it, but no UTF-8
answer can carry it, so once stored (a plugin config value, say) every answer showing it was a
500 (the plugin's detail page, its routes). A real pair (an emoji escaped) is fine. An audit
time that leaves the calendar once converted to UTC is a 400 too, not a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

CODE = """
def on_load(ctx):
    @ctx.get("/greeting")
    def greeting(request):
        return {"greeting": ctx.get_config("greeting")}

    @ctx.post("/store")
    async def store(request):
        body = await request.json()
        await ctx.set_storage("k", body)
        return {"stored": await ctx.get_storage("k")}
"""
SCHEMA = {"greeting": {"type": "string", "default": "hi", "description": "what to say"}}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def admin(settings: Settings, app_factory: AppFactory) -> httpx.AsyncClient:
    write_plugin(settings.plugins_dir, "greeter", CODE, config=SCHEMA)
    app: FastAPI = await app_factory(plugin_auto_enable=["greeter"])
    return await admin_client(app)


@pytest.mark.parametrize(
    "text", ["\\ud800", "x\\uDBFFy", "\\udc00", "\\ude00\\ud83d", "\\ud83d\\ud83d\\ude00\\ud83d"]
)
async def test_a_lone_surrogate_in_a_json_body_is_400(admin: httpx.AsyncClient, text: str) -> None:
    body = '{"config": {"greeting": "' + text + '"}}'
    r = await admin.put("/api/plugins/greeter/config", content=body, headers=JSON)
    assert r.status_code == 400, r.text
    assert "lone surrogate" in r.json()["error"]
    key = '{"config": {"' + text + '": "x"}}'  # in a key too
    assert (
        await admin.put("/api/plugins/greeter/config", content=key, headers=JSON)
    ).status_code == 400
    r = await admin.post("/api/plugins/greeter/store", content='["' + text + '"]', headers=JSON)
    assert r.status_code == 400, r.text
    assert (await admin.get("/api/plugins/greeter")).status_code == 200
    assert (await admin.get("/api/plugins/greeter/greeting")).json() == {"greeting": "hi"}


async def test_a_surrogate_pair_is_a_character(admin: httpx.AsyncClient) -> None:
    body = '{"config": {"greeting": "hi \\ud83d\\ude00"}}'
    r = await admin.put("/api/plugins/greeter/config", content=body, headers=JSON)
    assert r.status_code == 200, r.text
    assert (await admin.get("/api/plugins/greeter/greeting")).json() == {
        "greeting": "hi \U0001f600"
    }
    r = await admin.post("/api/plugins/greeter/store", content='"\\\\ud800"', headers=JSON)
    assert r.json() == {"stored": "\\ud800"}  # an escaped backslash: the text \ud800, no surrogate


def test_only_json_with_a_lone_surrogate_is_refused() -> None:
    from catalyst.api.input_guard import has_lone_surrogate

    assert has_lone_surrogate(b'"\\ud800"')
    assert not has_lone_surrogate(b'"\\ud83d\\ude00"')
    assert not has_lone_surrogate(b'"\\\\ud800"')
    assert not has_lone_surrogate(b'{"broken": "\\ud800"')  # not JSON: the route says why
    assert not has_lone_surrogate(b"[" * 100_000 + b'"\\ud800"' + b"]" * 100_000)


@pytest.mark.parametrize(
    "query", ["since=0001-01-01T00:00:00%2B14:00", "until=9999-12-31T23:59:59-14:00"]
)
async def test_an_audit_time_out_of_range_in_utc_is_400(
    admin: httpx.AsyncClient, query: str
) -> None:
    r = await admin.get(f"/api/audit?{query}")
    assert r.status_code == 400, r.text
    assert "out of range" in r.json()["error"]


STORES_ONE = """
def on_load(ctx):
    @ctx.post("/odd")
    async def odd(request):
        await ctx.set_config("greeting", "odd \\ud800 text")  # plugin code may still make one
        return {"greeting": ctx.get_config("greeting")}
"""


async def test_text_with_a_lone_surrogate_is_still_answered(
    settings: Settings, app_factory: AppFactory
) -> None:
    """Text holding a lone surrogate (stored before the guard, or made by plugin code) is
    answered as a JSON escape instead of a 500 on every later look at it."""
    write_plugin(settings.plugins_dir, "odd", STORES_ONE, config=SCHEMA)
    admin = await admin_client(await app_factory(plugin_auto_enable=["odd"]))
    r = await admin.post("/api/plugins/odd/odd")
    assert r.status_code == 200, r.text
    assert '"odd \\ud800 text"' in r.text
    r = await admin.get("/api/plugins/odd")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["config"]["greeting"] == "odd \ud800 text"
