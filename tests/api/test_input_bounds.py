"""Item 12: integers beyond 64 bits and NUL characters are a 400 with a message, never a 500.

Hypothesis drives the servers API (path ids, query bounds, body text), plugin config and plugin
storage (through a plugin route) on both backends.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalyst.db.models import INT64_MAX, INT64_MIN
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CODE = """
def on_load(ctx):
    @ctx.post("/store")
    async def store(request):
        body = await request.json()
        await ctx.set_storage(body["key"], body["value"])
        return {"ok": True}
"""
SCHEMA = {
    "count": {"type": "integer", "default": 1, "description": "count"},
    "ratio": {"type": "number", "default": 1, "description": "ratio"},
    "name": {"type": "string", "default": "x", "description": "name"},
    "token": {"type": "secret", "default": "", "description": "token"},
}
BOUNDARY = [
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    INT64_MAX,
    INT64_MAX + 1,
    INT64_MIN,
    INT64_MIN - 1,
    2**64,
    -(2**64),
    10**30,
]
ints = st.sampled_from(BOUNDARY) | st.integers(min_value=-(2**70), max_value=2**70)
texts = st.text(max_size=12) | st.text(max_size=6).map(lambda t: f"a\x00{t}")
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "box", CODE, config=SCHEMA)
    return await app_factory(plugin_auto_enable=["box"])


@pytest.fixture
async def admin(app: FastAPI) -> httpx.AsyncClient:
    return await admin_client(app)


def no_server_error(r: httpx.Response) -> None:
    assert r.status_code < 500, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    if r.status_code >= 400:
        body = r.json()
        assert body["success"] is False
        assert body["error"]


@FUZZ
@given(server_id=ints)
async def test_server_ids_beyond_64_bits_are_400(admin: httpx.AsyncClient, server_id: int) -> None:
    fits = 1 <= server_id <= INT64_MAX
    for method, path in (
        ("GET", f"/api/servers/{server_id}"),
        ("POST", f"/api/servers/{server_id}/start"),
        ("POST", f"/api/servers/{server_id}/stop"),
        ("DELETE", f"/api/servers/{server_id}"),
    ):
        r = await admin.request(method, path)
        no_server_error(r)
        assert r.status_code == (404 if fits else 400), r.text


@FUZZ
@given(limit=ints, offset=ints)
async def test_list_bounds_never_500(admin: httpx.AsyncClient, limit: int, offset: int) -> None:
    r = await admin.get("/api/servers", params={"limit": limit, "offset": offset})
    no_server_error(r)
    assert r.status_code == (200 if 1 <= limit <= 500 and 0 <= offset <= INT64_MAX else 400)


@FUZZ
@given(name=texts, game=texts)
async def test_server_text_with_nul_is_400(admin: httpx.AsyncClient, name: str, game: str) -> None:
    r = await admin.post("/api/servers", json={"name": name, "game": game})
    no_server_error(r)
    if "\x00" in name + game:
        assert r.status_code == 400
        assert "NUL" in r.json()["error"]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(list(SCHEMA)), json_values, max_size=4))
async def test_plugin_config_never_500(admin: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    r = await admin.put("/api/plugins/box/config", json={"config": changes})
    no_server_error(r)


@FUZZ
@given(key=texts, value=json_values)
async def test_plugin_storage_never_500(admin: httpx.AsyncClient, key: str, value: Any) -> None:
    r = await admin.post("/api/plugins/box/store", json={"key": key, "value": value})
    no_server_error(r)


async def test_nul_in_path_query_and_body_is_a_4xx_with_a_message(
    admin: httpx.AsyncClient,
) -> None:
    for r in (await admin.get("/api/servers/%00"), await admin.get("/api/plugins/box%00")):
        assert r.status_code == 404, r.text  # a path with a NUL names nothing
        assert "NUL" in r.json()["error"]
    for r in (
        await admin.get("/api/servers", params={"offset": "1\x00"}),
        await admin.post("/api/auth/login", json={"username": "a\x00", "password": "x"}),
        await admin.put("/api/plugins/box/config", json={"config": {"name": "\x00"}}),
    ):
        assert r.status_code == 400, r.text
        assert "NUL" in r.json()["error"]
    # an escaped backslash before "u0000" is text, not a NUL
    ok = await admin.post("/api/servers", json={"name": "a\\u0000", "game": "g"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["data"]["name"] == "a\\u0000"


async def test_config_integers_beyond_64_bits_are_refused(admin: httpx.AsyncClient) -> None:
    r = await admin.put("/api/plugins/box/config", json={"config": {"count": 2**63}})
    assert r.status_code == 400
    assert "64-bit" in r.json()["errors"]["count"]
