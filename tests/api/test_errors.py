import httpx
import pytest
from fastapi import FastAPI

from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, write_plugin


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


def test_openapi_documents_400_with_the_envelope_never_422() -> None:
    from catalyst.app import create_app

    schema = create_app().openapi()
    schemas = schema["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    envelope = schemas["ErrorEnvelope"]
    assert envelope["required"] == ["success", "error"]
    validated = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert responses["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }
            if "400" in responses:
                validated += 1
    assert validated >= 5
    assert schema["paths"]["/api/servers"]["get"]["security"] == [
        {"bearerAuth": []},
        {"sessionCookie": []},
    ]
    assert "security" not in schema["paths"]["/api/health"]["get"]
    login = schema["paths"]["/api/auth/login"]["post"]["responses"]
    assert login["400"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
    # the success answer is documented with its real shape: the envelope around the login result
    ok_ref = login["200"]["content"]["application/json"]["schema"]["$ref"]
    ok_schema = schemas[ok_ref.rsplit("/", 1)[1]]
    assert ok_schema["required"][0] == "success"
    assert ok_schema["properties"]["data"]["$ref"].endswith("/LoginResult")
    assert schemas["LoginResult"]["required"] == ["token", "user"]


async def test_405_allow_lists_every_method_of_the_path(admin: httpx.AsyncClient) -> None:
    r = await admin.put("/api/servers")
    assert r.status_code == 405
    assert r.json() == {"success": False, "error": "Method not allowed"}
    assert r.headers["Allow"] == "GET, HEAD, POST"
    r = await admin.post("/api/servers/1")
    assert r.status_code == 405
    assert r.headers["Allow"] == "DELETE, GET, HEAD"


async def test_plugin_route_405_allow_lists_every_method(
    settings: Settings, app_factory: AppFactory
) -> None:
    code = """
def on_load(ctx):
    ctx.register_route("GET", "/things/{id}", lambda: {})
    ctx.register_route("DELETE", "/things/{id}", lambda: None)
    ctx.register_route("PATCH", "/things/{id:int}", lambda: None)
"""
    write_plugin(settings.plugins_dir, "things", code)
    app = await app_factory(plugin_auto_enable=["things"])
    client = await admin_client(app)
    r = await client.post("/api/plugins/things/things/7")
    assert r.status_code == 405
    assert r.json()["success"] is False
    assert r.headers["Allow"] == "DELETE, GET, HEAD, PATCH"
    await client.aclose()
