"""``mount_ui``: the built UI at ``/``; client routes fall back to index.html, never the API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from catalyst.api.exception_handlers import install_exception_handlers
from catalyst.api.ui import mount_ui

INDEX = "<!doctype html><title>Catalyst UI</title>"


def make_app(dist: Path) -> FastAPI:
    app = FastAPI()
    install_exception_handlers(app)

    @app.get("/api/health")
    async def health() -> dict[str, bool]:
        return {"success": True}

    mount_ui(app, dist)
    mount_ui(app, dist)  # a second call changes nothing
    return app


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    return root


async def get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
        return await client.request(method, path)


async def test_serves_index_and_files(dist: Path) -> None:
    app = make_app(dist)
    root = await get(app, "/")
    assert root.status_code == 200
    assert root.text == INDEX
    assert root.headers["cache-control"] == "no-cache"
    asset = await get(app, "/assets/index-abc123.js")
    assert asset.text == "console.log(1)"
    assert asset.headers["content-type"].startswith("text/javascript")
    assert "immutable" in asset.headers["cache-control"]
    icon = await get(app, "/favicon.svg")
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/plugins", "/plugins/example-plugin", "/ext/p/tab", "/login"])
async def test_client_routes_fall_back_to_index(dist: Path, path: str) -> None:
    answer = await get(make_app(dist), path)
    assert answer.status_code == 200
    assert answer.text == INDEX


@pytest.mark.parametrize("path", ["/api/nothing", "/api", "/ws", "/ws/x", "/redoc/x"])
async def test_never_answers_for_the_api(dist: Path, path: str) -> None:
    answer = await get(make_app(dist), path)
    assert answer.status_code == 404
    assert answer.json() == {"success": False, "error": "Not found"}


async def test_the_openapi_pages_stay_fastapis(dist: Path) -> None:
    app = make_app(dist)
    assert (await get(app, "/openapi.json")).json()["openapi"]
    assert "swagger" in (await get(app, "/docs")).text.lower()


async def test_the_api_still_answers(dist: Path) -> None:
    answer = await get(make_app(dist), "/api/health")
    assert answer.json() == {"success": True}


async def test_a_missing_asset_is_a_404_not_html(dist: Path) -> None:
    answer = await get(make_app(dist), "/assets/index-old.js")
    assert answer.status_code == 404
    assert "html" not in answer.headers["content-type"]


async def test_no_file_outside_dist(dist: Path) -> None:
    answer = await get(make_app(dist), "/..%2Fsecret.txt")
    assert "outside" not in answer.text
    answer = await get(make_app(dist), "/assets/..%2F..%2Fsecret.txt")
    assert "outside" not in answer.text


async def test_only_get_and_head(dist: Path) -> None:
    app = make_app(dist)
    assert (await get(app, "/plugins", "POST")).status_code == 405
    head = await get(app, "/plugins", "HEAD")
    assert head.status_code == 200
    assert head.text == ""


async def test_without_a_build_it_says_how_to_get_one(tmp_path: Path) -> None:
    app = make_app(tmp_path / "missing")
    answer = await get(app, "/")
    assert answer.status_code == 200
    assert "make run" in answer.text
    assert (await get(app, "/api/nothing")).status_code == 404


async def test_a_build_made_while_serving_is_picked_up(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    app = make_app(dist)
    assert "make run" in (await get(app, "/")).text
    dist.mkdir()
    (dist / "index.html").write_text(INDEX)
    assert (await get(app, "/")).text == INDEX
