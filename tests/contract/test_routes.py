"""Routes, their options and answer shapes, the verb decorators and middleware, registered by
plugin code in each runtime and called over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.contract.conftest import Host, Plugin, contract_host

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROUTES = """
import asyncio
import time

from catalyst.sdk import HTTPError, JSONResponse, PlainTextResponse, Response


def on_load(ctx):
    ctx.register_route("GET", "/guarded", lambda r: {"ok": True}, permission="server.write")
    ctx.register_route("GET", "/open", lambda r: {"user": r.user is not None}, public=True)
    ctx.register_route("GET", "/closed", lambda r: {"ok": True})
    ctx.register_route("POST", "/small", small, max_body_bytes=32)

    async def slow(request):
        await asyncio.sleep(30)
        return {"late": True}

    ctx.register_route("GET", "/slow", slow, timeout=0.3)
    ctx.register_route("GET", "/slow-sync", lambda r: time.sleep(30), timeout=0.3)
    ctx.register_route("GET", "/items/{item_id:int}", item)
    ctx.register_route("GET", "/users/:user/posts/:post", post)
    ctx.register_route("GET", "/pages/:page?", page)
    ctx.register_route("GET", "/files/{rest:path}", lambda r: {"rest": r.path_params["rest"]})
    ctx.register_route("GET", "/shape/{kind}", shape)
    ctx.register_route("GET", "/async-shape/{kind}", async_shape)
    ctx.register_route("GET", "/teapot", teapot)
    ctx.register_route("GET", "/crash", crash)
    ctx.register_route("GET", "/crash-async", crash_async)
    ctx.register_route("GET", "/no-request", lambda: {"took": "nothing"})
    ctx.register_route("GET", "/request", describe)

    for verb, decorator in (
        ("GET", ctx.get), ("POST", ctx.post), ("PUT", ctx.put),
        ("PATCH", ctx.patch), ("DELETE", ctx.delete),
    ):
        decorator("/verb")(make_verb(verb))

    @ctx.post("/verb/body", max_body_bytes=16, timeout=5)
    async def verb_body(request):
        return {"echo": await request.json()}, 201

    async def outer(request, call_next):
        if request.headers.get("x-block") == "yes":
            return JSONResponse({"blocked": True}, status_code=418)
        if request.headers.get("x-block") == "dict":
            return {"blocked": "with a dict"}
        response = await call_next(request)
        response.headers["x-order"] = "outer," + response.headers.get("x-order", "")
        return response

    async def inner(request, call_next):
        response = await call_next(request)
        response.headers["x-order"] = "inner"
        return response

    ctx.register_middleware(outer)
    ctx.register_middleware(inner)


def make_verb(verb):
    def handler(request):
        return {"verb": request.method, "expected": verb}

    return handler


async def describe(request):
    return {
        "query": request.query,
        "user": request.user.username if request.user else None,
        "plugin": request.plugin,
        "header": request.headers.get("x-custom"),
        "method": request.method,
    }


async def small(request):
    return {"read": len(await request.body())}


def item(request):
    return {"item_id": request.path_params["item_id"]}


def post(request):
    return dict(request.path_params)


def page(request):
    return {"page": request.path_params.get("page")}


SHAPES = {
    "dict": lambda: {"a": 1},
    "list": lambda: [1, "two"],
    "str": lambda: "plain text",
    "bytes": lambda: b"\\x00raw",
    "none": lambda: None,
    "tuple2": lambda: ({"created": True}, 201),
    "tuple3": lambda: ("accepted", 202, {"x-extra": "yes"}),
    "response": lambda: Response(b"custom", status_code=203, headers={"x-resp": "1"}),
    "json": lambda: JSONResponse({"j": 1}, status_code=207),
    "text": lambda: PlainTextResponse("t", status_code=200),
}


def shape(request):
    return SHAPES[request.path_params["kind"]]()


async def async_shape(request):
    await asyncio.sleep(0)
    return SHAPES[request.path_params["kind"]]()


def teapot(request):
    raise HTTPError(418, "I am a teapot")


def crash(request):
    raise ZeroDivisionError("sync handler crashed")


async def crash_async(request):
    raise KeyError("async handler crashed")
"""

OTHER = """
def on_load(ctx):
    ctx.get("/plain")(lambda r: {"other": True})
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(runtime: str) -> AsyncIterator[Host]:
    plugins = {
        "routes": Plugin(ROUTES, manifest={"permissions": ["http.public"]}),
        "other": Plugin(OTHER),
    }
    async with contract_host(runtime, plugins) as host:
        yield host


def url(path: str) -> str:
    return f"/api/plugins/routes{path}"


async def test_permission_403_without_it_200_with_it(host: Host) -> None:
    viewer = await host.h.as_user(["server.read"])
    denied = await viewer.get(url("/guarded"))
    assert denied.status_code == 403
    assert denied.json()["success"] is False
    writer = await host.h.as_user(["server.write"])
    assert (await writer.get(url("/guarded"))).json() == {"ok": True}


async def test_public_route_needs_no_login_others_do(host: Host) -> None:
    anon = host.h.new_client()
    assert (await anon.get(url("/open"))).json() == {"user": False}
    assert (await host.client.get(url("/open"))).json() == {"user": True}
    assert (await anon.get(url("/closed"))).status_code == 401


async def test_max_body_bytes_413(host: Host) -> None:
    assert (await host.client.post(url("/small"), content=b"x" * 16)).json() == {"read": 16}
    r = await host.client.post(url("/small"), content=b"x" * 100)
    assert r.status_code == 413
    assert "too large" in r.json()["error"]


@pytest.mark.parametrize("path", ["/slow", "/slow-sync"])
async def test_timeout_504(host: Host, path: str) -> None:
    r = await host.client.get(url(path))
    assert r.status_code == 504
    assert r.json() == {"success": False, "error": "Plugin 'routes' did not answer within 0.3 s"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/42", {"item_id": 42}),
        ("/users/ann/posts/7", {"user": "ann", "post": "7"}),
        ("/pages/3", {"page": "3"}),
        ("/pages", {"page": None}),
        ("/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        ("/no-request", {"took": "nothing"}),
    ],
)
async def test_path_params(host: Host, path: str, expected: object) -> None:
    r = await host.client.get(url(path))
    assert r.status_code == 200, r.text
    assert r.json() == expected


async def test_path_param_type_mismatch_is_404(host: Host) -> None:
    assert (await host.client.get(url("/items/abc"))).status_code == 404


SHAPES: list[tuple[str, int, bytes, dict[str, str]]] = [
    ("dict", 200, b'{"a":1}', {"content-type": "application/json"}),
    ("list", 200, b'[1,"two"]', {"content-type": "application/json"}),
    ("str", 200, b"plain text", {"content-type": "text/plain; charset=utf-8"}),
    ("bytes", 200, b"\x00raw", {}),
    ("none", 204, b"", {}),
    ("tuple2", 201, b'{"created":true}', {}),
    ("tuple3", 202, b"accepted", {"x-extra": "yes"}),
    ("response", 203, b"custom", {"x-resp": "1"}),
    ("json", 207, b'{"j":1}', {}),
    ("text", 200, b"t", {}),
]


@pytest.mark.parametrize("prefix", ["/shape", "/async-shape"])
@pytest.mark.parametrize(("kind", "status", "body", "headers"), SHAPES, ids=[s[0] for s in SHAPES])
async def test_answer_shapes_sync_and_async(
    host: Host, prefix: str, kind: str, status: int, body: bytes, headers: dict[str, str]
) -> None:
    r = await host.client.get(url(f"{prefix}/{kind}"))
    assert (r.status_code, r.content) == (status, body)
    for name, value in headers.items():
        assert r.headers[name] == value


async def test_http_error_answers_its_status(host: Host) -> None:
    r = await host.client.get(url("/teapot"))
    assert r.status_code == 418
    assert r.json() == {"success": False, "error": "I am a teapot"}


@pytest.mark.parametrize(
    ("path", "error"),
    [("/crash", "ZeroDivisionError: sync handler crashed"), ("/crash-async", "KeyError")],
)
async def test_exception_is_500_with_correlation_id_and_traceback_in_the_log(
    host: Host, path: str, error: str
) -> None:
    mark = await host.log_mark("routes")
    r = await host.client.get(url(path))
    assert r.status_code == 500
    cid = r.headers["x-correlation-id"]
    assert r.json() == {
        "success": False,
        "error": f"Plugin 'routes' failed to handle the request (correlation id {cid})",
    }
    (record,) = [x for x in await host.logs("routes", mark) if x["level"] == "error"]
    assert record["fields"]["correlation_id"] == cid
    assert record["fields"]["error"].startswith(error)
    assert "backend/plugin.py" in record["fields"]["traceback"]  # the plugin's own frame
    assert "handler crashed" in record["fields"]["traceback"]


@pytest.mark.parametrize("verb", ["GET", "POST", "PUT", "PATCH", "DELETE"])
async def test_verb_decorators(host: Host, verb: str) -> None:
    r = await host.client.request(verb, url("/verb"))
    assert r.json() == {"verb": verb, "expected": verb}


async def test_decorator_options(host: Host) -> None:
    r = await host.client.post(url("/verb/body"), json={"a": 1})
    assert (r.status_code, r.json()) == (201, {"echo": {"a": 1}})
    assert (await host.client.post(url("/verb/body"), json={"a": "x" * 40})).status_code == 413


async def test_middleware_order_first_registered_outermost(host: Host) -> None:
    r = await host.client.get(url("/closed"))
    assert r.headers["x-order"] == "outer,inner"


async def test_middleware_can_short_circuit(host: Host) -> None:
    r = await host.client.get(url("/crash"), headers={"x-block": "yes"})
    assert (r.status_code, r.json()) == (418, {"blocked": True})


async def test_middleware_wraps_only_the_plugins_own_routes(host: Host) -> None:
    other = await host.client.get("/api/plugins/other/plain", headers={"x-block": "yes"})
    assert (other.status_code, other.json()) == (200, {"other": True})
    assert "x-order" not in other.headers
    admin_api: httpx.Response = await host.client.get(url(""), headers={"x-block": "yes"})
    assert admin_api.status_code == 200
    assert "x-order" not in admin_api.headers
    health = await host.client.get("/api/health", headers={"x-block": "yes"})
    assert "x-order" not in health.headers


async def test_middleware_can_short_circuit_with_a_dict(host: Host) -> None:
    r = await host.client.get(url("/crash"), headers={"x-block": "dict"})
    assert (r.status_code, r.json()) == (200, {"blocked": "with a dict"})


async def test_the_request_a_handler_gets(host: Host) -> None:
    r = await host.client.get(url("/request?a=1&b=two&b=last"), headers={"x-custom": "custom-ok"})
    assert r.json() == {
        "query": {"a": "1", "b": "last"},
        "user": "admin",
        "plugin": "routes",
        "header": "custom-ok",
        "method": "GET",
    }
