"""Cross-origin checks on cookie-authenticated state changes and on /ws (issue 9, item 15)."""

from __future__ import annotations

import httpx
import pytest
import websockets
from fastapi import FastAPI

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.conftest import ADMIN_PASSWORD, harness_of
from tests.live_server import LiveFactory, receive
from tests.plugin_helpers import AppFactory, write_plugin

EVIL = "https://evil.example"
NOTES = """
def on_load(ctx):
    @ctx.post("/notes")
    async def add(request):
        return {"stored": (await request.body()).decode()}
"""


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "notes", NOTES)
    return await app_factory(
        plugin_auto_enable=["notes"], allowed_origins=["https://friend.example"]
    )


@pytest.fixture
async def browser(app: FastAPI) -> httpx.AsyncClient:
    """A client that holds only the session cookie, as a browser does."""
    harness = harness_of(app)
    await harness.create_admin()
    client = harness.new_client()
    r = await client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200
    assert "authorization" not in client.headers
    return client


def assert_refused(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["success"] is False
    assert "refused" in r.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/plugins/rescan"),
        ("POST", "/api/plugins/notes/reload"),
        ("PUT", "/api/plugins/notes/config"),
        ("POST", "/api/servers"),
        ("DELETE", "/api/servers/1"),
        ("POST", "/api/auth/logout"),
    ],
)
async def test_cookie_state_changes_from_a_foreign_origin_are_403(
    browser: httpx.AsyncClient, method: str, path: str
) -> None:
    assert_refused(await browser.request(method, path, json={}, headers={"Origin": EVIL}))


async def test_plugin_post_with_text_plain_from_a_foreign_origin_is_403(
    browser: httpx.AsyncClient,
) -> None:
    headers = {"Origin": EVIL, "Content-Type": "text/plain"}
    assert_refused(await browser.post("/api/plugins/notes/notes", content="hi", headers=headers))
    ok = await browser.post(
        "/api/plugins/notes/notes",
        content="hi",
        headers={"Origin": "http://testserver", "Content-Type": "text/plain"},
    )
    assert ok.json() == {"stored": "hi"}


async def test_sec_fetch_site_decides_without_origin(browser: httpx.AsyncClient) -> None:
    cross = {"Sec-Fetch-Site": "cross-site"}
    assert_refused(await browser.post("/api/plugins/notes/notes", content="x", headers=cross))
    same = {"Sec-Fetch-Site": "same-origin"}
    r = await browser.post("/api/plugins/notes/notes", content="x", headers=same)
    assert r.status_code == 200


async def test_same_origin_allowed_origin_and_no_origin_pass(browser: httpx.AsyncClient) -> None:
    for headers in ({"Origin": "http://testserver"}, {"Origin": "https://friend.example"}, {}):
        r = await browser.post("/api/plugins/notes/notes", content="x", headers=headers)
        assert r.status_code == 200, (headers, r.text)
    # Safe methods are not checked.
    assert (await browser.get("/api/plugins", headers={"Origin": EVIL})).status_code == 200


async def test_bearer_calls_are_unaffected(browser: httpx.AsyncClient) -> None:
    r = await browser.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    token = r.json()["data"]["token"]
    headers = {"Origin": EVIL, "Authorization": f"Bearer {token}"}
    r = await browser.post("/api/plugins/notes/notes", content="x", headers=headers)
    assert r.status_code == 200


async def test_login_from_a_foreign_origin_is_403(anon: httpx.AsyncClient) -> None:
    body = {"username": "admin", "password": "whatever"}
    assert_refused(await anon.post("/api/auth/login", json=body, headers={"Origin": EVIL}))


async def test_ws_handshake_from_a_foreign_origin_is_refused(
    settings: Settings, live_factory: LiveFactory
) -> None:
    live: PluginHarness = await live_factory()
    token = await live.token()
    cookie = {"Cookie": f"{settings.session_cookie_name}={token}"}
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(live.ws_url, origin=EVIL, additional_headers=cookie)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    own = f"http://127.0.0.1:{live.port}"
    async with websockets.connect(live.ws_url, origin=own, additional_headers=cookie) as ws:  # type: ignore[arg-type]
        assert (await receive(ws))["type"] == "welcome"
