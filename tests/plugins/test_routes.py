"""Plugin HTTP routes and middleware through the dispatcher."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalyst.sdk import RegistrationError
from catalyst.settings import Settings
from tests.conftest import ClientFactory, create_user_with, harness_of, login
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

ROUTES = """
from catalyst.sdk import HTTPError, JSONResponse

order = []

def on_load(ctx):
    @ctx.get("/items/{item_id:int}")
    async def item(request):
        return {"id": request.path_params["item_id"], "q": request.query.get("q")}

    @ctx.post("/items")
    async def create(request):
        body = await request.json()
        return {"created": body}, 201

    @ctx.put("/status/{code:int}")
    def status(request):  # sync handlers run in a worker thread
        code = request.path_params["code"]
        return JSONResponse({"code": code}, status_code=code)

    @ctx.delete("/nothing")
    async def nothing(request):
        return None

    @ctx.get("/text")
    async def text():
        return "plain words"

    @ctx.get("/teapot")
    async def teapot(request):
        raise HTTPError(418, "I am a teapot")

    @ctx.get("/boom")
    async def boom(request):
        raise RuntimeError("internal detail")

    @ctx.get("/me")
    async def me(request):
        return {"user": request.user.username, "plugin": request.plugin}

    ctx.register_route("GET", "/secret", lambda r: {"secret": True}, permission="server.write")
"""


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "routes", ROUTES)
    return await app_factory(plugin_auto_enable=["routes"])


async def test_params_query_body_status_and_return_types(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins/routes/items/7", params={"q": "x"})
    assert r.json() == {"id": 7, "q": "x"}
    r = await c.post("/api/plugins/routes/items", json={"a": 1})
    assert (r.status_code, r.json()) == (201, {"created": {"a": 1}})
    r = await c.put("/api/plugins/routes/status/202")
    assert (r.status_code, r.json()) == (202, {"code": 202})
    r = await c.delete("/api/plugins/routes/nothing")
    assert r.status_code == 204
    r = await c.get("/api/plugins/routes/text")
    assert (r.text, r.headers["content-type"].split(";")[0]) == ("plain words", "text/plain")
    r = await c.get("/api/plugins/routes/teapot")
    assert (r.status_code, r.json()) == (418, {"success": False, "error": "I am a teapot"})
    r = await c.get("/api/plugins/routes/me")
    assert r.json() == {"user": "admin", "plugin": "routes"}


async def test_bad_json_body_is_400(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.post(
        "/api/plugins/routes/items", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("Request body is not valid JSON")


async def test_unknown_path_method_and_plugin(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins/routes/nope")
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": "No route GET /nope in plugin 'routes'"}
    assert (await c.get("/api/plugins/routes/items/abc")).status_code == 404
    assert (await c.delete("/api/plugins/routes/items/1")).status_code == 405
    r = await c.get("/api/plugins/ghost/anything")
    assert (r.status_code, r.json()["error"]) == (404, "Plugin not found")


async def test_handler_exception_is_500_with_correlation_id(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins/routes/boom")
    assert r.status_code == 500
    assert "internal detail" not in r.text
    assert r.headers["X-Correlation-Id"] in r.json()["error"]
    assert (await c.get("/api/plugins/routes/items/1")).status_code == 200


async def test_login_and_route_permission(app: FastAPI, client_for: ClientFactory) -> None:
    anon = await client_for()
    r = await anon.get("/api/plugins/routes/items/1")
    assert r.status_code == 401
    reader = await client_for(permissions=["server.read"])
    assert (await reader.get("/api/plugins/routes/items/1")).status_code == 200
    r = await reader.get("/api/plugins/routes/secret")
    assert (r.status_code, r.json()["error"]) == (403, "Missing permission: server.write")
    writer = await client_for(permissions=["server.*"])
    assert (await writer.get("/api/plugins/routes/secret")).json() == {"secret": True}


async def test_disabled_plugin_answers_503_and_enable_brings_routes_back(app: FastAPI) -> None:
    c = await admin_client(app)
    await manager_of(app).disable("routes")
    r = await c.get("/api/plugins/routes/items/1")
    assert (r.status_code, r.json()) == (503, {"success": False, "error": "Plugin is disabled"})
    await manager_of(app).enable("routes")
    assert (await c.get("/api/plugins/routes/items/1")).status_code == 200


async def test_routes_added_and_removed_while_running(app: FastAPI) -> None:
    c = await admin_client(app)
    ctx = manager_of(app).get("routes").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    assert (await c.get("/api/plugins/routes/late")).status_code == 404
    remove = ctx.register_route("GET", "/late", lambda r: {"late": True})
    assert (await c.get("/api/plugins/routes/late")).json() == {"late": True}
    remove()
    assert (await c.get("/api/plugins/routes/late")).status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "message"),
    [
        ("FETCH", "/x", "is not one of"),
        ("GET", "x", "must start with '/'"),
        ("GET", "/../x", "must start with '/'"),
        ("GET", "/enable", "reserved for the admin API"),
        ("POST", "/config", "reserved for the admin API"),
        ("GET", "/items/{item_id:int}", "already registered"),
    ],
)
async def test_bad_routes_are_refused_at_registration(
    app: FastAPI, method: str, url: str, message: str
) -> None:
    ctx = manager_of(app).get("routes").instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    with pytest.raises(RegistrationError, match=message):
        ctx.register_route(method, url, lambda r: None)


PUBLIC = """
def on_load(ctx):
    ctx.register_route("GET", "/open", lambda r: {"user": r.user and r.user.username}, public=True)
"""


async def test_public_routes_need_declared_and_granted_http_public(
    settings: Settings, app_factory: AppFactory, client_for: ClientFactory
) -> None:
    write_plugin(settings.plugins_dir, "open", PUBLIC, permissions=["http.public"])
    write_plugin(settings.plugins_dir, "sneaky", PUBLIC)  # not declared: on_load fails
    app = await app_factory()
    manager = manager_of(app)
    assert "needs 'http.public' declared" in (manager.get("sneaky").error or "")
    await manager.enable("open")  # enabling grants what the manifest declares
    c = await admin_client(app)
    detail = (await c.get("/api/plugins/open")).json()["data"]
    assert detail["permissions"] == ["http.public"]
    assert detail["grantedPermissions"] == ["http.public"]
    anon = harness_of(app).new_client()
    r = await anon.get("/api/plugins/open/open")
    assert (r.status_code, r.json()) == (200, {"user": None})
    # Without the grant the same route needs a login again.
    await manager.change_permissions("open", [], ["http.public"], "admin")
    assert (await anon.get("/api/plugins/open/open")).status_code == 401
    await anon.aclose()


MIDDLEWARE = """
from catalyst.sdk import JSONResponse

seen = []

def on_load(ctx):
    async def outer(request, call_next):
        seen.append("outer-in")
        if request.headers.get("x-block"):
            return JSONResponse({"blocked": True}, status_code=451)
        response = await call_next(request)
        response.headers["x-outer"] = "1"
        seen.append("outer-out")
        return response

    ctx.register_middleware(outer)

    @ctx.get("/hello")
    async def hello(request):
        seen.append("handler")
        return {"tag": request.scope.get("tag")}

def on_enable(ctx):
    async def inner(request, call_next):  # registered in on_enable: only while enabled
        seen.append("inner-in")
        request.scope["tag"] = "set-by-inner"
        return await call_next(request)

    ctx.register_middleware(inner)
"""


@pytest.mark.runtime(
    "inprocess", reason="reads what the middleware saw from the plugin module's globals"
)
async def test_middleware_order_scope_early_answer_and_lifetime(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(settings.plugins_dir, "mw", MIDDLEWARE)
    write_plugin(
        settings.plugins_dir, "other", "def on_load(ctx):\n    ctx.get('/x')(lambda r: {})\n"
    )
    app = await app_factory(plugin_auto_enable=["mw", "other"])
    c = await admin_client(app)
    module = manager_of(app).get("mw").instance.module  # type: ignore[union-attr]
    r = await c.get("/api/plugins/mw/hello")
    assert r.json() == {"tag": "set-by-inner"}
    assert r.headers["x-outer"] == "1"
    assert module.seen == ["outer-in", "inner-in", "handler", "outer-out"]
    module.seen.clear()
    blocked = await c.get("/api/plugins/mw/hello", headers={"x-block": "1"})
    assert (blocked.status_code, blocked.json()) == (451, {"blocked": True})
    assert module.seen == ["outer-in"]
    module.seen.clear()
    # Another plugin's routes are not wrapped.
    other = await c.get("/api/plugins/other/x")
    assert "x-outer" not in other.headers
    assert module.seen == []
    # After disable + enable, the on_enable middleware is there once, not twice.
    await manager_of(app).disable("mw")
    await manager_of(app).enable("mw")
    await c.get("/api/plugins/mw/hello")
    assert module.seen == ["outer-in", "inner-in", "handler", "outer-out"]


async def test_admin_paths_are_not_shadowed_by_the_dispatcher(app: FastAPI) -> None:
    c = await admin_client(app)
    assert (await c.get("/api/plugins/routes")).json()["data"]["name"] == "routes"
    assert (await c.get("/api/plugins/routes/logs")).status_code == 200


async def test_user_without_admin_rights_cannot_use_admin_api(
    app: FastAPI, client_for: ClientFactory
) -> None:
    await create_user_with(app, "plain", ["server.read"])
    c = await client_for()
    await login(c, "plain", "user-password-for-tests")
    assert (await c.get("/api/plugins")).status_code == 403
    assert (await c.post("/api/plugins/routes/enable", json={"enabled": False})).status_code == 403
