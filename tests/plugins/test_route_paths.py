"""Routes as the original system wrote them (issue 9, item 21): Fastify ``:param`` urls, a route at
the plugin's root, and static segments winning over parameters whatever the registration order."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalyst.plugins.route_paths import compile_url, specificity
from catalyst.plugins.routing import validate_route
from catalyst.sdk import RegistrationError
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

# Parameters first on purpose: registration order must not decide which route wins.
ROUTES = """
def on_load(ctx):
    ctx.register_route("GET", "/tickets/:id", lambda r: {"ticket": r.path_params["id"]})
    ctx.register_route("GET", "/tickets/:id/comments/:cid", lambda r: dict(r.path_params))
    ctx.register_route("GET", "/files/{rest:path}", lambda r: {"rest": r.path_params["rest"]})
    ctx.register_route("GET", "/files/:name/meta", lambda r: {"meta": r.path_params["name"]})
    ctx.register_route("GET", "/files/readme", lambda r: {"static": "readme"})
    ctx.register_route("GET", "/tickets/new", lambda r: {"static": "new"})
    ctx.register_route("POST", "/tickets/:id", lambda r: {"posted": r.path_params["id"]})
    ctx.register_route("GET", "/near/:lat-:lng", lambda r: dict(r.path_params))
    ctx.register_route("GET", "/v1.0/:x", lambda r: {"v": r.path_params["x"]})
    ctx.register_route("GET", "/pages/:page?", lambda r: {"page": r.path_params.get("page")})
    ctx.register_route("GET", "/", lambda r: {"root": True})
    ctx.register_route("POST", "/", lambda r: {"root": "post"})
"""


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "fast", ROUTES)
    return await app_factory(plugin_auto_enable=["fast"])


async def test_fastify_params_match_like_braces(app: FastAPI) -> None:
    c = await admin_client(app)
    base = "/api/plugins/fast"
    assert (await c.get(f"{base}/tickets/42")).json() == {"ticket": "42"}
    assert (await c.post(f"{base}/tickets/42")).json() == {"posted": "42"}
    r = await c.get(f"{base}/tickets/7/comments/9")
    assert r.json() == {"id": "7", "cid": "9"}
    assert (await c.get(f"{base}/near/1.5-2")).json() == {"lat": "1.5", "lng": "2"}
    # The literal text ":id" is no longer what matches.
    assert (await c.get(f"{base}/tickets/:id")).json() == {"ticket": ":id"}


async def test_static_segments_win_over_parameters_in_any_order(app: FastAPI) -> None:
    c = await admin_client(app)
    base = "/api/plugins/fast"
    assert (await c.get(f"{base}/tickets/new")).json() == {"static": "new"}
    assert (await c.get(f"{base}/files/readme")).json() == {"static": "readme"}
    assert (await c.get(f"{base}/files/a.txt/meta")).json() == {"meta": "a.txt"}
    assert (await c.get(f"{base}/files/a/b/c")).json() == {"rest": "a/b/c"}
    # A POST to the static path still finds the parametric POST route.
    assert (await c.post(f"{base}/tickets/new")).json() == {"posted": "new"}


async def test_optional_last_parameter_and_literal_dots(app: FastAPI) -> None:
    c = await admin_client(app)
    base = "/api/plugins/fast"
    assert (await c.get(f"{base}/pages")).json() == {"page": None}
    assert (await c.get(f"{base}/pages/3")).json() == {"page": "3"}
    assert (await c.get(f"{base}/v1.0/a")).json() == {"v": "a"}
    assert (await c.get(f"{base}/v1x0/a")).status_code == 404  # '.' is not a regex wildcard


async def test_a_route_at_the_root_is_served_and_the_admin_detail_stays(app: FastAPI) -> None:
    c = await admin_client(app)
    r = await c.get("/api/plugins/fast/")
    assert r.status_code == 200
    assert r.json() == {"root": True}
    assert (await c.post("/api/plugins/fast/")).json() == {"root": "post"}
    detail = await c.get("/api/plugins/fast")
    assert detail.status_code == 200
    assert detail.json()["data"]["name"] == "fast"
    assert {"method": "GET", "url": "/"} in [
        {"method": x["method"], "url": x["url"]} for x in detail.json()["data"]["routes"]
    ]


@pytest.mark.parametrize(
    "url",
    ["/a/:id?/b", "/a:", "/a:1", "/x?", "/t/:id/:id", "/t/{id}/:id"],
)
def test_bad_fastify_urls_are_refused(url: str) -> None:
    with pytest.raises(RegistrationError):
        validate_route("p", "GET", url, lambda r: None)


def test_reserved_admin_paths_stay_refused_but_root_is_allowed() -> None:
    assert validate_route("p", "GET", "/", lambda r: None) == "GET"
    with pytest.raises(RegistrationError, match="reserved"):
        validate_route("p", "GET", "/enable", lambda r: None)


def test_specificity_orders_static_before_partial_before_param_before_rest() -> None:
    urls = ["/f/{p:path}", "/f/:id", "/f/:id.json", "/f/x", "/f/:id/meta", "/"]
    ordered = sorted(urls, key=specificity)
    assert ordered == ["/f/x", "/f/:id.json", "/f/:id/meta", "/f/:id", "/f/{p:path}", "/"]


def test_colons_inside_braces_stay_convertors() -> None:
    regex, convertors = compile_url("/items/{id:int}/:name")
    assert regex.match("/items/5/x")
    assert not regex.match("/items/x/x")
    assert set(convertors) == {"id", "name"}
