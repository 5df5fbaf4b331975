"""GET /api/plugins/<name>/frontend/...: only the dedicated frontend folder, never the plugin's
manifest, backend code or hidden files; a NUL or a traversal is a 404 JSON, never a 500."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.conftest import USER_PASSWORD, create_user_with, harness_of
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

SECRET_MANIFEST = {"apiToken": {"type": "secret", "default": "s3cret-default"}}


async def viewer_client(app: FastAPI) -> httpx.AsyncClient:
    await create_user_with(app, "viewer", ["server.read"])
    return await harness_of(app).login("viewer", USER_PASSWORD)


def assert_json_404(response: httpx.Response, asked: str) -> None:
    assert response.status_code == 404, (asked, response.status_code, response.text[:200])
    body = response.json()
    assert body["success"] is False, asked
    assert "s3cret" not in response.text, asked
    assert "import" not in response.text, asked


@pytest.fixture
async def ui_app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    folder = write_plugin(
        settings.plugins_dir,
        "ui",
        "SECRET = 'backend source'\n",
        frontend={"entry": "frontend/index.js"},
        config=SECRET_MANIFEST,
        files={
            "frontend/index.js": "export default {};\n",
            "frontend/chunks/a.js": "export const a = 1;\n",
            "frontend/.env": "TOKEN=s3cret\n",
            "frontend/.git/config": "[core]\n",
            "frontend/plugin.json": '{"copied": "s3cret"}\n',
            "frontend/helper.py": "import os\n",
            ".env": "TOKEN=s3cret\n",
        },
    )
    if hasattr(os, "symlink"):
        (folder / "frontend" / "innocent.js").symlink_to(folder / "frontend" / ".env")
        (folder / "frontend" / "up.js").symlink_to(folder / "plugin.json")
    return await app_factory(plugin_auto_enable=["ui"])


async def test_the_frontend_folder_is_served(ui_app: FastAPI) -> None:
    c = await viewer_client(ui_app)
    for path in ("index.js", "chunks/a.js", "./index.js", "chunks/../index.js"):
        r = await c.get(f"/api/plugins/ui/frontend/{path}")
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "path",
    [
        # traversal out of the frontend folder, however spelled
        "../plugin.json",
        "..%2Fplugin.json",
        "%2E%2E/plugin.json",
        "%2e%2e%2f.env",
        "../backend/plugin.py",
        "chunks/../../plugin.json",
        "..%5Cplugin.json",
        "%2Fetc%2Fpasswd",
        # hidden and private files inside the frontend folder
        ".env",
        ".git/config",
        "chunks/../.env",
        "plugin.json",
        "helper.py",
        # symlinks named like modules that point at hidden or private files
        "innocent.js",
        "up.js",
        "missing.js",
    ],
)
async def test_private_files_are_never_served(ui_app: FastAPI, path: str) -> None:
    c = await viewer_client(ui_app)
    assert_json_404(await c.get(f"/api/plugins/ui/frontend/{path}"), path)


@pytest.mark.parametrize("path", ["index.js%00", "%00", "chunks%00/a.js", "index.js%00.png"])
async def test_nul_in_the_path_is_a_404_json(ui_app: FastAPI, path: str) -> None:
    """NUL anywhere in the path (was a 500 from the path resolution): the input guard answers
    404 for every route, this one included (such a path names nothing)."""
    c = await viewer_client(ui_app)
    r = await c.get(f"/api/plugins/ui/frontend/{path}")
    assert (r.status_code, r.json()["success"]) == (404, False), path
    assert "NUL" in r.json()["error"]


async def test_an_entry_at_the_plugin_root_is_a_manifest_error_and_serves_nothing(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(
        settings.plugins_dir,
        "rooted",
        "SECRET = 'backend source'\n",
        frontend={"entry": "index.js"},
        config=SECRET_MANIFEST,
        files={"index.js": "export default {};\n", ".env": "TOKEN=s3cret\n"},
    )
    app = await app_factory(plugin_auto_enable=["rooted"])
    admin = await admin_client(app)
    plugin = (await admin.get("/api/plugins/rooted")).json()["data"]
    assert plugin["status"] == "error"
    (problem,) = plugin["errors"]
    assert problem["path"] == "frontend.entry"
    assert "'index.js' is at the plugin root" in problem["message"]
    assert "'frontend/index.js'" in problem["message"]
    c = await viewer_client(app)
    for path in ("plugin.json", "index.js", ".env", "backend/plugin.py"):
        assert_json_404(await c.get(f"/api/plugins/rooted/frontend/{path}"), path)


async def test_a_frontend_folder_shared_with_the_backend_is_a_manifest_error(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(
        settings.plugins_dir,
        "shared",
        "",
        frontend={"entry": "backend/ui.js"},
        files={"backend/ui.js": "export default {};\n"},
    )
    app = await app_factory()
    admin = await admin_client(app)
    plugin = (await admin.get("/api/plugins/shared")).json()["data"]
    assert [e["path"] for e in plugin["errors"]] == ["frontend.entry"]
    assert "also holds the backend entry" in plugin["errors"][0]["message"]


async def test_nul_in_the_plugin_name_is_a_404(ui_app: FastAPI) -> None:
    c = await viewer_client(ui_app)
    r = await c.get("/api/plugins/u%00i/frontend/index.js")
    assert r.status_code == 404
    assert json.loads(r.text)["success"] is False
