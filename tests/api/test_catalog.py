"""``GET /api/catalog``: the permission catalogue and the plugin states, for any signed-in user."""

from __future__ import annotations

import httpx

from catalyst.auth.permissions import CATALOG
from tests.conftest import ClientFactory


async def test_any_signed_in_user_gets_permissions_and_plugin_states(
    client_for: ClientFactory,
) -> None:
    nobody_special = await client_for(permissions=[])
    r = await nobody_special.get("/api/catalog")
    assert r.status_code == 200
    # the texts the UI showed from its own copy (frontend/src/lib/permissions.ts) until now
    described = {
        "admin.read": "See plugins, their configuration, logs and the audit log",
        "admin.write": "Install, enable, disable, reload and configure plugins",
        "server.read": "See game servers",
        "server.write": "Create, start, stop and delete game servers",
        "user.read": "See user accounts (never password hashes)",
        "user.write": "Create and change user accounts",
        "http.public": "Serve HTTP routes to callers who are not logged in",
        "net.outbound": "Open network connections to other hosts (process runtime: TCP connect)",
        "host.full": "Full access to the host: the plugin runs inside the Catalyst process"
        " (runtime 'inprocess'), where its code can read every secret and the database and act"
        " as any user",
    }
    assert r.json() == {
        "success": True,
        "data": {
            "permissions": [{"name": k, "description": v} for k, v in described.items()],
            "pluginStates": [
                "discovered",
                "loaded",
                "enabled",
                "disabled",
                "unloaded",
                "restarting",
                "error",
            ],
        },
    }
    assert [p["name"] for p in r.json()["data"]["permissions"]] == list(CATALOG)


async def test_refused_without_a_login(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/api/catalog")
    assert r.status_code == 401
    assert r.json()["success"] is False
