"""ctx.db: each call needs the matching granted permission; users come without hashes."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalyst.sdk import PluginPermissionError
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin


async def ctx_of(app: FastAPI, name: str):  # type: ignore[no-untyped-def]
    ctx = manager_of(app).get(name).instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    return ctx


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "reader", "", permissions=["server.read", "user.read"])
    write_plugin(settings.plugins_dir, "writer", "", permissions=["server.read", "server.write"])
    write_plugin(settings.plugins_dir, "nothing", "")
    return await app_factory(plugin_auto_enable=["reader", "writer", "nothing"])


async def test_servers_read_needs_server_read(app: FastAPI) -> None:
    admin = await admin_client(app)
    sid = (await admin.post("/api/servers", json={"name": "S", "game": "g"})).json()["data"]["id"]
    reader = await ctx_of(app, "reader")
    assert [s["name"] for s in await reader.db.servers.find_many()] == ["S"]
    assert (await reader.db.servers.get(sid))["status"] == "stopped"
    assert await reader.db.servers.count() == 1
    assert await reader.db.servers.count(status="running") == 0
    nothing = await ctx_of(app, "nothing")
    with pytest.raises(PluginPermissionError, match=r"needs permission 'server\.read'"):
        await nothing.db.servers.find_many()
    with pytest.raises(PermissionError):
        await nothing.db.servers.count()


async def test_the_refusal_says_how_a_permission_is_granted(app: FastAPI) -> None:
    """Re-enabling is not the only way (a reload's new permissions wait for consent)."""
    nothing = await ctx_of(app, "nothing")
    with pytest.raises(PluginPermissionError) as refused:
        await nothing.db.servers.find_many()
    assert "re-enable" not in str(refused.value)
    assert "an admin grants it" in str(refused.value)


async def test_changing_a_server_needs_server_write(app: FastAPI) -> None:
    admin = await admin_client(app)
    sid = (await admin.post("/api/servers", json={"name": "S", "game": "g"})).json()["data"]["id"]
    reader = await ctx_of(app, "reader")
    with pytest.raises(PluginPermissionError, match=r"'server\.write'"):
        await reader.db.servers.start(sid)
    writer = await ctx_of(app, "writer")
    assert (await writer.db.servers.start(sid))["status"] == "running"
    assert (await writer.db.servers.stop(sid))["status"] == "stopped"


async def test_users_need_user_read_and_never_show_hashes(app: FastAPI) -> None:
    await admin_client(app)
    reader = await ctx_of(app, "reader")
    users = await reader.db.users.find_many()
    assert [u["username"] for u in users] == ["admin"]
    assert "password" not in str(users).lower()
    assert "argon2" not in str(users)
    assert await reader.db.users.count() == 1
    assert (await reader.db.users.get(users[0]["id"]))["roles"] == ["admin"]
    writer = await ctx_of(app, "writer")
    with pytest.raises(PluginPermissionError, match=r"'user\.read'"):
        await writer.db.users.find_many()


async def test_permissions_are_granted_on_enable_only(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "later", "", permissions=["server.read"])
    app = await app_factory()
    ctx = await ctx_of(app, "later")
    with pytest.raises(PluginPermissionError, match="granted: none"):
        await ctx.db.servers.count()
    admin = await admin_client(app)
    before = (await admin.get("/api/plugins/later")).json()["data"]
    assert (before["permissions"], before["grantedPermissions"]) == (["server.read"], [])
    await admin.post("/api/plugins/later/enable", json={"enabled": True})
    after = (await admin.get("/api/plugins/later")).json()["data"]
    assert after["grantedPermissions"] == ["server.read"]
    assert await ctx.db.servers.count() == 0
