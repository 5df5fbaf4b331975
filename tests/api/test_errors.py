import httpx
import pytest
from fastapi import FastAPI


async def test_unknown_route_is_404_json(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/api/nope")
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": "Not found"}


async def test_wrong_method_is_405_json(anon: httpx.AsyncClient) -> None:
    r = await anon.put("/api/health")
    assert r.status_code == 405
    assert r.json() == {"success": False, "error": "Method not allowed"}


async def test_unhandled_exception_is_500_json_with_correlation_id(
    app: FastAPI, anon: httpx.AsyncClient
) -> None:
    @app.get("/api/test-boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    r = await anon.get("/api/test-boom")
    assert r.status_code == 500
    body = r.json()
    assert body["success"] is False
    assert "correlation id" in body["error"]
    assert "secret internals" not in body["error"]
    assert r.headers["X-Correlation-Id"] in body["error"]
    # The host keeps serving.
    assert (await anon.get("/api/health")).status_code == 200


def test_openapi_docs_are_served_and_list_the_api() -> None:
    from catalyst.app import create_app

    schema = create_app().openapi()
    assert "/api/servers" in schema["paths"]
    assert "/api/auth/login" in schema["paths"]


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
async def test_docs_endpoints(anon: httpx.AsyncClient, path: str) -> None:
    assert (await anon.get(path)).status_code == 200
