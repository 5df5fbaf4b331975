"""The plugin list for manifests that are invalid: a title and the requested permissions."""

from __future__ import annotations

from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client, write_plugin


async def test_invalid_manifests_still_show_a_title_and_what_they_request(
    settings: Settings, app_factory: AppFactory
) -> None:
    write_plugin(
        settings.plugins_dir,
        "blank-title",
        "",
        displayName="",
        permissions=["server.read", "http.public", "server.read", 7],
    )
    write_plugin(settings.plugins_dir, "spaces", "", displayName="   ", permissions="server.read")
    write_plugin(settings.plugins_dir, "bad-permission", "", permissions=["nope.read"])
    app = await app_factory()
    c = await admin_client(app)
    by_name = {p["name"]: p for p in (await c.get("/api/plugins")).json()["data"]}
    blank = by_name["blank-title"]
    assert blank["status"] == "error"
    assert blank["displayName"] == "blank-title"
    assert blank["permissions"] == ["server.read", "http.public"]
    assert blank["grantedPermissions"] == []
    assert (by_name["spaces"]["displayName"], by_name["spaces"]["permissions"]) == ("spaces", [])
    # an unknown permission is ignored with a warning (the original's manifests carry some)
    bad = by_name["bad-permission"]
    assert (bad["status"], bad["permissions"]) == ("loaded", [])
    assert any("nope.read" in w["message"] for w in bad["warnings"]), bad["warnings"]
    detail = (await c.get("/api/plugins/blank-title")).json()["data"]
    assert (detail["displayName"], detail["permissions"]) == (
        "blank-title",
        ["server.read", "http.public"],
    )
