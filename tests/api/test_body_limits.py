"""Request body limits, enforced while reading and before parsing (issue 9, item 2)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

KIB = 1024
MIB = 1024 * KIB

UPLOADS = """
def on_load(ctx):
    @ctx.post("/echo-size")
    async def size(request):
        return {"bytes": len(await request.body())}

    @ctx.post("/upload", max_body_bytes=3 * 1024 * 1024)
    async def upload(request):
        return {"bytes": len(await request.body())}

    @ctx.post("/tiny", max_body_bytes=10)
    async def tiny(request):
        return {"bytes": len(await request.body())}

    @ctx.post("/swallow")
    async def swallow(request):
        try:
            await request.body()
        except Exception:
            return {"swallowed": True}
        return {"swallowed": False}
"""


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "uploads", UPLOADS)
    return await app_factory(plugin_auto_enable=["uploads"])


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await admin_client(app)
    yield client
    await client.aclose()


async def chunks(total: int, size: int = 64 * KIB) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


def assert_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    assert r.json()["success"] is False
    assert "Request body too large" in r.json()["error"]


async def test_login_body_over_64_kib_is_413_before_parsing(anon: httpx.AsyncClient) -> None:
    big = json.dumps({"username": "a", "password": "b", "pad": "x" * (65 * KIB)})
    assert_413(
        await anon.post(
            "/api/auth/login", content=big, headers={"content-type": "application/json"}
        )
    )


async def test_a_chunked_body_without_length_is_cut_off_while_reading(
    anon: httpx.AsyncClient,
) -> None:
    r = await anon.post(
        "/api/auth/login", content=chunks(10 * MIB), headers={"content-type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert_413(r)


async def test_admin_api_body_over_1_mib_is_413(admin: httpx.AsyncClient) -> None:
    config = {"config": {"k": "x" * (MIB + 10)}}
    assert_413(await admin.put("/api/plugins/uploads/config", json=config))
    # Just under the limit it is parsed (and refused for what it says).
    r = await admin.put("/api/plugins/uploads/config", json={"config": {"k": "x" * 1000}})
    assert r.status_code == 400


async def test_plugin_routes_default_to_1_mib(admin: httpx.AsyncClient) -> None:
    ok = await admin.post("/api/plugins/uploads/echo-size", content=b"x" * (MIB - 1))
    assert ok.json() == {"bytes": MIB - 1}
    assert_413(await admin.post("/api/plugins/uploads/echo-size", content=b"x" * (MIB + 1)))
    assert_413(await admin.post("/api/plugins/uploads/echo-size", content=chunks(2 * MIB)))


async def test_a_route_may_raise_or_lower_its_own_limit(admin: httpx.AsyncClient) -> None:
    r = await admin.post("/api/plugins/uploads/upload", content=b"x" * (2 * MIB))
    assert r.json() == {"bytes": 2 * MIB}
    r = await admin.post("/api/plugins/uploads/upload", content=chunks(2 * MIB))
    assert r.json() == {"bytes": 2 * MIB}
    assert_413(await admin.post("/api/plugins/uploads/upload", content=b"x" * (3 * MIB + 1)))
    assert_413(await admin.post("/api/plugins/uploads/tiny", content=b"x" * 11))
    assert (await admin.post("/api/plugins/uploads/tiny", content=b"x" * 10)).status_code == 200


async def test_a_raised_limit_holds_for_json_bodies_too(admin: httpx.AsyncClient) -> None:
    """No layer in front of the plugin reads a JSON body under the default limit first."""
    body = json.dumps({"pad": "x" * (2 * MIB)}).encode()
    json_type = {"content-type": "application/json"}
    r = await admin.post("/api/plugins/uploads/upload", content=body, headers=json_type)
    assert r.json() == {"bytes": len(body)}, r.text


async def test_a_handler_that_swallows_the_error_still_answers_413(
    admin: httpx.AsyncClient,
) -> None:
    assert_413(await admin.post("/api/plugins/uploads/swallow", content=chunks(2 * MIB)))


async def test_bad_max_body_bytes_is_refused_at_registration(
    settings: Settings, app_factory: AppFactory
) -> None:
    code = (
        'def on_load(ctx):\n    ctx.register_route("POST", "/x", lambda: 1, max_body_bytes="big")\n'
    )
    write_plugin(settings.plugins_dir, "badlimit", code)
    app = await app_factory(plugin_auto_enable=["badlimit"])
    record = app.state.services.plugins.get("badlimit")
    assert "max_body_bytes" in (record.error or "")


async def test_config_put_with_many_huge_unknown_keys_gets_a_bounded_message(
    admin: httpx.AsyncClient,
) -> None:
    config = {f"{i}-" + "k" * 5000: i for i in range(150)}
    r = await admin.put("/api/plugins/uploads/config", json={"config": config})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False
    assert len(body["error"]) <= 2000
    assert "more)" in body["error"]
    assert len(body.get("errors", {})) <= 20
    assert len(r.content) < 20_000


async def test_validation_errors_stay_short(admin: httpx.AsyncClient) -> None:
    extra = {"k" * 3000 + str(i): i for i in range(200)}
    r = await admin.post("/api/plugins/uploads/enable", json={"enabled": True, **extra})
    assert r.status_code == 400
    assert len(r.json()["error"]) <= 2000
