"""The admin API of plugins: shapes, auth, 404s, bad bodies, rescan and logs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.conftest import USER_PASSWORD, ClientFactory, create_user_with, harness_of, login
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client, write_plugin

FIXTURES = Path(__file__).resolve().parent.parent / "fixture_plugins"


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    shutil.copytree(FIXTURES / "bad-manifest", settings.plugins_dir / "bad-manifest")
    return await app_factory(plugin_auto_enable=["example-plugin"])


async def test_list_shows_every_plugin_including_invalid_ones(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins")
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    by_name = {p["name"]: p for p in body["data"]}
    assert set(by_name) == {"example-plugin", "bad-manifest"}
    example = by_name["example-plugin"]
    keys = ["name", "version", "displayName", "description", "author", "status", "enabled"]
    keys += ["loadedAt", "enabledAt", "error", "permissions", "hasBackend", "hasFrontend"]
    for key in keys:
        assert key in example, key
    assert (example["status"], example["enabled"], example["hasBackend"]) == ("enabled", True, True)
    bad = by_name["bad-manifest"]
    assert bad["status"] == "error"
    assert bad["enabled"] is False
    assert len(bad["errors"]) >= 6
    assert all(e["path"] is not None and e["message"] for e in bad["errors"])
    assert bad["error"]


async def test_detail_shape(app: FastAPI) -> None:
    c = await admin_client(app)
    d = (await c.get("/api/plugins/example-plugin")).json()["data"]
    assert d["catalystVersion"] == ">=1.0.0"
    assert d["config"]["greeting"] == "Hello from the example plugin!"
    assert d["configSchema"]["greeting"]["type"] == "string"
    assert {"method": "GET", "url": "/hello", "permission": None, "public": True} in d["routes"]
    assert {"method": "GET", "url": "/whoami", "permission": None, "public": False} in d["routes"]
    assert d["wsHandlers"] == ["plugin:example-plugin:ping"]
    assert [t["cron"] for t in d["tasks"]] == ["*/5 * * * *"]
    assert {x["event"] for x in d["listeners"]} == {"server:started", "server:stopped"}
    assert d["dependencies"] == {}
    assert "example-plugin:task-completed" in d["events"]


async def test_unknown_plugin_is_404_everywhere(app: FastAPI) -> None:
    c = await admin_client(app)
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/plugins/ghost", None),
        ("POST", "/api/plugins/ghost/enable", {"enabled": True}),
        ("POST", "/api/plugins/ghost/reload", None),
        ("PUT", "/api/plugins/ghost/config", {"config": {}}),
        ("GET", "/api/plugins/ghost/logs", None),
    ]
    for method, path, body in calls:
        r = await c.request(method, path, json=body)
        assert (r.status_code, r.json()) == (404, {"success": False, "error": "Plugin not found"})


@pytest.mark.parametrize(
    "body", [{}, {"enabled": "yes"}, {"enabled": 1}, {"enabled": True, "x": 1}, [], "true"]
)
async def test_enable_with_a_bad_body_is_400(app: FastAPI, body: object) -> None:
    c = await admin_client(app)
    r = await c.post("/api/plugins/example-plugin/enable", json=body)
    assert r.status_code == 400  # {} too: "enabled" is required, it has no default
    assert r.json()["success"] is False
    assert "body" in r.json()["error"]


async def test_enabling_an_invalid_plugin_is_refused(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.post("/api/plugins/bad-manifest/enable", json={"enabled": True})
    assert r.status_code == 409
    assert "it is error" in r.json()["error"]


ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/plugins", None, "admin.read"),
    ("GET", "/api/plugins/example-plugin", None, "admin.read"),
    ("GET", "/api/plugins/example-plugin/logs", None, "admin.read"),
    ("POST", "/api/plugins/example-plugin/enable", {"enabled": False}, "admin.write"),
    ("POST", "/api/plugins/example-plugin/reload", None, "admin.write"),
    ("PUT", "/api/plugins/example-plugin/config", {"config": {}}, "admin.write"),
    ("POST", "/api/plugins/rescan", None, "admin.write"),
]


@pytest.mark.parametrize(("method", "path", "body", "permission"), ENDPOINTS)
async def test_admin_endpoints_need_login_and_permission(
    app: FastAPI,
    client_for: ClientFactory,
    method: str,
    path: str,
    body: object,
    permission: str,
) -> None:
    anon = await client_for()
    assert (await anon.request(method, path, json=body)).status_code == 401
    wrong = await client_for(permissions=["server.*"])
    r = await wrong.request(method, path, json=body)
    assert (r.status_code, r.json()["error"]) == (403, f"Missing permission: {permission}")
    right = await client_for(permissions=[permission])
    assert (await right.request(method, path, json=body)).status_code == 200


async def test_reader_cannot_write(app: FastAPI, client_for: ClientFactory) -> None:
    reader = await client_for(permissions=["admin.read"])
    assert (await reader.get("/api/plugins")).status_code == 200
    r = await reader.post("/api/plugins/example-plugin/reload")
    assert r.status_code == 403


async def test_rescan_picks_up_new_and_forgets_removed_folders(
    app: FastAPI, settings: Settings
) -> None:
    c = await admin_client(app)
    write_plugin(settings.plugins_dir, "newcomer", "def on_load(ctx):\n    pass\n")
    shutil.rmtree(settings.plugins_dir / "bad-manifest")
    r = await c.post("/api/plugins/rescan")
    assert r.json()["data"] == {"added": ["newcomer"], "removed": ["bad-manifest"]}
    names = {p["name"]: p["status"] for p in (await c.get("/api/plugins")).json()["data"]}
    assert names == {"example-plugin": "enabled", "newcomer": "loaded"}


async def test_logs_are_kept_per_plugin_and_filterable(app: FastAPI) -> None:
    c = await admin_client(app)
    logs = (await c.get("/api/plugins/example-plugin/logs")).json()["data"]
    messages = [r["message"] for r in logs]
    assert "example plugin loaded" in messages
    assert "example plugin enabled" in messages
    last = logs[-1]["seq"]
    await c.put("/api/plugins/example-plugin/config", json={"config": {"greeting": "x"}})
    newer = (await c.get("/api/plugins/example-plugin/logs", params={"since": last})).json()
    assert [r["message"] for r in newer["data"]] == ["config changed"]
    assert newer["data"][0]["fields"] == {"keys": ["greeting"]}
    errors = await c.get("/api/plugins/example-plugin/logs", params={"level": "error"})
    assert errors.json()["data"] == []
    bad = await c.get("/api/plugins/example-plugin/logs", params={"level": "loud"})
    assert bad.status_code == 400


async def test_admin_changes_are_audited(app: FastAPI) -> None:
    from sqlalchemy import select

    from catalyst.db.models import AuditLog

    c = await admin_client(app)
    await c.post("/api/plugins/example-plugin/enable", json={"enabled": False})
    await c.put("/api/plugins/example-plugin/config", json={"config": {"greeting": "x"}})
    async with app.state.services.db() as db:
        rows = (await db.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(r.actor, r.action, r.target) for r in rows] == [
        # the operator's plugin_auto_enable setting consented to what the plugin requests
        ("system:auto-enable", "plugin.permissions.grant", "example-plugin"),
        ("system:setup", "user.create", "admin"),  # the first admin, created at start
        ("admin", "plugin.disable", "example-plugin"),
        ("admin", "plugin.config", "example-plugin"),
    ]
    assert json.dumps(rows[3].details) == '{"keys": ["greeting"]}'


async def test_frontend_files_are_served_from_the_entry_folder_only(
    settings: Settings, app_factory: AppFactory
) -> None:
    folder = write_plugin(
        settings.plugins_dir,
        "ui",
        "",
        frontend={"entry": "frontend/index.js"},
        files={
            "frontend/index.js": "export default {};\n",
            "frontend/style.css": "body{}\n",
            "secret.txt": "not for the browser\n",
        },
    )
    app = await app_factory(plugin_auto_enable=["ui"])
    c = await admin_client(app)
    r = await c.get("/api/plugins/ui/frontend/index.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"
    assert r.text == "export default {};\n"
    assert (
        (await c.get("/api/plugins/ui/frontend/style.css"))
        .headers["content-type"]
        .startswith("text/css")
    )
    for escape in ("../secret.txt", "..%2Fsecret.txt", "%2E%2E/secret.txt", "nope.js"):
        assert (await c.get(f"/api/plugins/ui/frontend/{escape}")).status_code == 404, escape
    (folder / "frontend" / "link.js").symlink_to(folder / "secret.txt")
    assert (await c.get("/api/plugins/ui/frontend/link.js")).status_code == 404
    async with harness_of(app).new_client() as other:
        assert (await other.get("/api/plugins/ui/frontend/index.js")).status_code == 401
        await create_user_with(app, "viewer", ["server.read"])  # any logged-in user may load UI
        await login(other, "viewer", USER_PASSWORD)
        assert (await other.get("/api/plugins/ui/frontend/index.js")).status_code == 200
    await c.post("/api/plugins/ui/enable", json={"enabled": False})
    r = await c.get("/api/plugins/ui/frontend/index.js")
    assert (r.status_code, r.json()["error"]) == (503, "Plugin is disabled")
    assert (await c.get("/api/plugins/ghost/frontend/index.js")).status_code == 404


async def test_ui_plugin_list_for_any_user_shows_only_enabled_frontends(
    settings: Settings, app_factory: AppFactory
) -> None:
    ui = {"frontend": {"entry": "frontend/index.js"}}
    files = {"frontend/index.js": "export default {};\n"}
    write_plugin(settings.plugins_dir, "shown", "", files=files, **ui)
    write_plugin(settings.plugins_dir, "off", "", files=files, **ui)
    write_plugin(settings.plugins_dir, "backend-only", "")
    write_plugin(settings.plugins_dir, "broken", "raise RuntimeError('x')", files=files, **ui)
    app = await app_factory(plugin_auto_enable=["shown", "backend-only", "broken"])
    async with harness_of(app).new_client() as viewer:
        assert (await viewer.get("/api/ui/plugins")).status_code == 401
        await create_user_with(app, "viewer", ["server.read"])
        await login(viewer, "viewer", USER_PASSWORD)
        assert (await viewer.get("/api/plugins")).status_code == 403
        items = (await viewer.get("/api/ui/plugins")).json()["data"]
    assert [p["name"] for p in items] == ["shown"]
    (shown,) = items
    assert (shown["status"], shown["frontendEntry"], shown["hasFrontend"]) == (
        "enabled",
        "frontend/index.js",
        True,
    )
    assert (shown["errors"], shown["permissions"], shown["error"]) == ([], [], None)
