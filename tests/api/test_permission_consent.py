"""A new version asking for more permissions gets nothing until an admin consents: the plugin
keeps running with its old grants, the new ones are pending, and every grant and revoke is
audited and persisted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from catalyst.db.models import AuditLog
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.conftest import harness_of, stop_app
from tests.live_server import LiveFactory
from tests.plugin_helpers import AppFactory, admin_client, manager_of, manifest, write_plugin

V1 = "def on_load(ctx):\n    ctx.get('/priv')(lambda r: {'v': 1})\n"
V2 = (
    "def on_load(ctx):\n"
    "    ctx.get('/priv')(lambda r: {'v': 2})\n"
    "    ctx.get('/pub', public=True)(lambda r: {'public': True})\n"
)


def anonymous(app: FastAPI) -> httpx.AsyncClient:
    return harness_of(app).new_client()


def rewrite(folder: Path, code: str, permissions: list[str]) -> None:
    (folder / "plugin.json").write_text(json.dumps(manifest("pub", permissions=permissions)))
    (folder / "backend" / "plugin.py").write_text(code)


async def audit_rows(app: FastAPI) -> list[tuple[str, str, str, dict[str, object]]]:
    async with app.state.services.db() as db:
        rows = (await db.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    return [(r.actor, r.action, r.target, r.details) for r in rows if ".permissions." in r.action]


async def test_new_permissions_stay_pending_until_consent(
    settings: Settings, app_factory: AppFactory
) -> None:
    folder = write_plugin(settings.plugins_dir, "pub", V1, permissions=["server.read"])
    app = await app_factory()
    admin = await admin_client(app)
    assert (await admin.post("/api/plugins/pub/enable", json={"enabled": True})).status_code == 200
    assert await audit_rows(app) == [
        ("admin", "plugin.permissions.grant", "pub", {"permissions": ["server.read"]})
    ]

    rewrite(folder, V2, ["server.read", "http.public", "server.write"])
    assert (await admin.post("/api/plugins/pub/reload")).status_code == 200
    assert (await admin.get("/api/plugins/pub/priv")).json() == {"v": 2}  # the new code runs
    anon = anonymous(app)
    assert (await anon.get("/api/plugins/pub/pub")).status_code == 401
    detail = (await admin.get("/api/plugins/pub")).json()["data"]
    assert detail["grantedPermissions"] == ["server.read"]
    assert detail["pendingPermissions"] == ["http.public", "server.write"]
    listed = (await admin.get("/api/plugins")).json()["data"]
    assert [p["pendingPermissions"] for p in listed] == [["http.public", "server.write"]]

    # A restart grants nothing either.
    await stop_app(app)
    app = await app_factory()
    admin, anon = await admin_client(app), anonymous(app)
    assert manager_of(app).get("pub").state is PluginState.ENABLED
    assert (await anon.get("/api/plugins/pub/pub")).status_code == 401

    r = await admin.post("/api/plugins/pub/permissions", json={"grant": ["http.public"]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["pendingPermissions"] == ["server.write"]
    assert (await anon.get("/api/plugins/pub/pub")).json() == {"public": True}
    assert (await audit_rows(app))[-1] == (
        "admin",
        "plugin.permissions.grant",
        "pub",
        {"permissions": ["http.public"]},
    )

    # The consent survives a restart.
    await stop_app(app)
    app = await app_factory()
    anon = anonymous(app)
    assert (await anon.get("/api/plugins/pub/pub")).json() == {"public": True}

    # A permission dropped from the manifest is revoked at once.
    rewrite(folder, V1, ["server.read"])
    await manager_of(app).reload("pub")
    assert manager_of(app).get("pub").granted == frozenset({"server.read"})
    assert (await audit_rows(app))[-1] == (
        "system",
        "plugin.permissions.revoke",
        "pub",
        {"permissions": ["http.public"]},
    )


async def test_only_requested_permissions_can_be_granted(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "pub", V1, permissions=["server.read"])
    app = await app_factory()
    admin = await admin_client(app)
    r = await admin.post("/api/plugins/pub/permissions", json={"grant": ["server.write"]})
    assert r.status_code == 400
    assert r.json()["error"] == (
        "Plugin 'pub' does not request server.write; only requested permissions can be granted"
    )
    assert (await admin.post("/api/plugins/pub/permissions", json={})).status_code == 400
    r = await admin.post("/api/plugins/pub/permissions", json={"grant": "server.read"})
    assert r.status_code == 400
    r = await admin.post("/api/plugins/pub/permissions", json={"grant": ["server.read"]})
    assert r.json()["data"]["grantedPermissions"] == ["server.read"]
    r = await admin.post("/api/plugins/pub/permissions", json={"revoke": ["server.read"]})
    assert r.json()["data"]["grantedPermissions"] == []
    assert [a for _, a, _, _ in await audit_rows(app)] == [
        "plugin.permissions.grant",
        "plugin.permissions.revoke",
    ]
    anon = anonymous(app)
    r = await anon.post("/api/plugins/pub/permissions", json={"grant": ["server.read"]})
    assert r.status_code == 401


async def test_a_file_save_adding_http_public_grants_nothing(
    settings: Settings, live_factory: LiveFactory
) -> None:
    """The finding as reported: the watcher reloads on save, the public route stays closed."""
    folder = write_plugin(settings.plugins_dir, "pub", V1)
    live = await live_factory(hot_reload=True, plugin_auto_enable=["pub"])
    token = await live.token()
    async with (
        httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as c,
        httpx.AsyncClient(base_url=live.url) as anon,
    ):
        rewrite(folder, V2, ["http.public", "server.write"])
        async with asyncio.timeout(10):  # the watcher reloads the new version
            while (await c.get("/api/plugins/pub/priv")).json() != {"v": 2}:
                await asyncio.sleep(0.01)
        assert (await anon.get("/api/plugins/pub/pub")).status_code == 401
        detail = (await c.get("/api/plugins/pub")).json()["data"]
        assert detail["pendingPermissions"] == ["http.public", "server.write"]
        assert detail["grantedPermissions"] == []
        r = await c.post("/api/plugins/pub/permissions", json={"grant": ["http.public"]})
        assert r.status_code == 200
        assert (await anon.get("/api/plugins/pub/pub")).json() == {"public": True}
