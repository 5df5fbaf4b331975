"""Every admin API answer keeps its JSON shape: the keys (in order) and the JSON type of each
value, recursively, pinned in ``answer_shapes.json`` (recorded before the answers were built by
Pydantic models, so a model that renames, drops, adds or reorders a key fails here).

After a deliberate change of an answer: ``CATALYST_RECORD_SHAPES=1 pytest <this file>`` and
review the diff of ``answer_shapes.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import httpx

from catalyst.settings import Settings
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client

PINNED = Path(__file__).with_name("answer_shapes.json")
PLUGIN = "/api/plugins/example-plugin"


def shape(value: Any) -> Any:
    """Keys in order and value types; a list is shown by its distinct item shapes."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        shapes: list[Any] = []
        for item in value:
            if shape(item) not in shapes:
                shapes.append(shape(item))
        return shapes
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}[type(value)]


async def _answers(c: httpx.AsyncClient) -> dict[str, Any]:
    out: dict[str, Any] = {}

    async def call(label: str, method: str, url: str, **kwargs: Any) -> Any:
        response = await c.request(method, url, **kwargs)
        body = response.json()
        out[label] = {"status": response.status_code, "body": shape(body)}
        return body

    await call("livez", "GET", "/livez")
    await call("readyz", "GET", "/readyz")
    await call("health", "GET", "/api/health")
    await call("me", "GET", "/api/auth/me")
    await call("plugins", "GET", "/api/plugins")
    await call("ui plugins", "GET", "/api/ui/plugins")
    detail = await call("plugin", "GET", PLUGIN)
    await call("disable", "POST", f"{PLUGIN}/enable", json={"enabled": False})
    await call("plugin disabled", "GET", PLUGIN)
    await call("enable", "POST", f"{PLUGIN}/enable", json={"enabled": True})
    await call("reload", "POST", f"{PLUGIN}/reload")
    config = {"greeting": "Hi", "echoLimit": detail["data"]["config"]["echoLimit"]}
    await call("config", "PUT", f"{PLUGIN}/config", json={"config": config})
    await call("config refused", "PUT", f"{PLUGIN}/config", json={"config": {"echoLimit": 1}})
    await call("revoke", "POST", f"{PLUGIN}/permissions", json={"revoke": ["http.public"]})
    await call("task run", "POST", f"{PLUGIN}/tasks/five-minute/run")
    await call("plugin after", "GET", PLUGIN)
    await call("logs", "GET", f"{PLUGIN}/logs")
    await call("rescan", "POST", "/api/plugins/rescan")
    await call("plugin missing", "GET", "/api/plugins/nope")
    server = await call("server create", "POST", "/api/servers", json={"name": "a", "game": "g"})
    sid = server["data"]["id"]
    await call("servers", "GET", "/api/servers")
    await call("server", "GET", f"/api/servers/{sid}")
    await call("server start", "POST", f"/api/servers/{sid}/start")
    await call("server stop", "POST", f"/api/servers/{sid}/stop")
    await call("server delete", "DELETE", f"/api/servers/{sid}")
    await call("roles", "GET", "/api/roles")
    body = {"name": "ops", "description": "Ops", "permissions": ["server.read"]}
    await call("role create", "POST", "/api/roles", json=body)
    await call("role update", "PATCH", "/api/roles/ops", json={"description": "Operators"})
    user = await call("user create", "POST", "/api/users", json={"username": "u1", "role": "ops"})
    uid = user["data"]["user"]["id"]
    await call("users", "GET", "/api/users")
    await call("user", "GET", f"/api/users/{uid}")
    await call("user role", "PUT", f"/api/users/{uid}/role", json={"role": "viewer"})
    await call("user disable", "POST", f"/api/users/{uid}/disable")
    await call("user enable", "POST", f"/api/users/{uid}/enable")
    await call("user password", "POST", f"/api/users/{uid}/password", json={"password": "x" * 12})
    await call("audit", "GET", "/api/audit", params={"limit": 2})
    await call("invalid", "GET", "/api/audit", params={"limit": 0})
    await call("logout", "POST", "/api/auth/logout")
    await call("login", "POST", "/api/auth/login", json={"username": "u1", "password": "x" * 12})
    return out


async def test_every_answer_keeps_its_shape(settings: Settings, app_factory: AppFactory) -> None:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    app = await app_factory(plugin_auto_enable=["example-plugin"])
    answers = await _answers(await admin_client(app))
    if os.environ.get("CATALYST_RECORD_SHAPES"):
        PINNED.write_text(json.dumps(answers, indent=1) + "\n")
    pinned = json.loads(PINNED.read_text())
    for label, answer in answers.items():
        # json.loads keeps key order, so == on the dumps compares the order of keys too
        assert json.dumps(answer) == json.dumps(pinned[label]), label
    assert list(answers) == list(pinned)
