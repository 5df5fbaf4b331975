"""More of two in-process instances on one database and Redis: grants, accounts, an admin's
reload, and a change made while Redis was down (repaired by the reconcile once it is back)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.backplane.conftest import OwnRedis
from tests.backplane.twins import TWIN, Pair, status_of, within
from tests.conftest import HarnessFactory
from tests.live_server import LiveFactory
from tests.plugin_helpers import write_plugin


async def test_a_permission_grant_on_a_is_seen_on_b(settings: Settings, pair: Pair) -> None:
    write_plugin(settings.plugins_dir, "asker", TWIN.replace("twin", "asker"))
    manifest = settings.plugins_dir / "asker" / "plugin.json"
    manifest.write_text(
        manifest.read_text().replace('"permissions": []', '"permissions": ["server.read"]')
    )
    for client in (pair.admin_a, pair.admin_b):
        assert (await client.post("/api/plugins/rescan")).status_code == 200
    await pair.admin_a.post("/api/plugins/asker/enable", json={"enabled": True})
    r = await pair.admin_a.post("/api/plugins/asker/permissions", json={"revoke": ["server.read"]})
    assert r.status_code == 200, r.text

    async def b_sees_revoke() -> bool:
        data = (await pair.admin_b.get("/api/plugins/asker")).json()["data"]
        return "server.read" not in data["grantedPermissions"]

    await within(1.0, b_sees_revoke)


async def test_disabling_a_user_or_changing_its_role_on_a_applies_on_b(pair: Pair) -> None:
    username, password = await pair.a.add_user(["server.read"])
    token = await pair.a.token(username, password)
    on_b = pair.b.new_client(token)
    assert (await on_b.get("/api/servers")).status_code == 200  # cached on B now
    me = (await on_b.get("/api/auth/me")).json()["data"]
    r = await pair.admin_a.put(f"/api/users/{me['id']}/role", json={"role": "viewer"})
    assert r.status_code == 200, r.text

    async def role_changed() -> bool:
        roles: list[str] = (await on_b.get("/api/auth/me")).json()["data"]["roles"]
        return roles == ["viewer"]

    await within(1.0, role_changed)
    assert (await pair.admin_a.post(f"/api/users/{me['id']}/disable")).status_code == 200

    async def refused() -> bool:
        return (await on_b.get("/api/auth/me")).status_code == 401

    await within(1.0, refused)


async def test_an_admin_reload_on_a_reloads_b(settings: Settings, pair: Pair) -> None:
    await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": True})

    async def b_serves() -> bool:
        return await status_of(pair.admin_b, "/api/plugins/twin/greeting") == 200

    await within(1.0, b_serves)
    code = settings.plugins_dir / "twin" / "backend" / "plugin.py"
    code.write_text(code.read_text().replace('{"greeting": ctx', '{"v": 2, "greeting": ctx'))
    assert (await pair.admin_a.post("/api/plugins/twin/reload")).status_code == 200

    async def b_new_code() -> bool:
        r = await pair.admin_b.get("/api/plugins/twin/greeting")
        return r.status_code == 200 and r.json().get("v") == 2

    await within(5.0, b_new_code)


async def test_a_change_made_while_redis_was_down_reaches_b_once_it_is_back(
    settings: Settings, live_factory: LiveFactory, own_redis: OwnRedis, cluster_name: str
) -> None:
    write_plugin(settings.plugins_dir, "twin", TWIN, config={"greeting": {"type": "string"}})
    common: dict[str, Any] = {"redis_url": own_redis.url, "cluster_name": cluster_name}
    a = await live_factory(instance_id="a", data_dir=settings.data_dir / "a", **common)
    b = await live_factory(instance_id="b", data_dir=settings.data_dir / "b", **common)
    admin_a, admin_b = await a.as_admin(), await b.as_admin()
    own_redis.stop()
    await until_redis(b, "down")
    await until_redis(a, "down")
    r = await admin_a.post("/api/plugins/twin/enable", json={"enabled": True})
    assert r.status_code == 200, r.text  # A goes on serving its own requests
    for client in (admin_a, admin_b):
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text  # Redis down never takes an instance out
        assert ready.json()["data"]["redis"] == "down"
        assert (await client.get("/api/health")).status_code == 200
    assert await status_of(admin_b, "/api/plugins/twin/greeting") == 503  # B missed it
    own_redis.start()

    async def b_serves() -> bool:
        return await status_of(admin_b, "/api/plugins/twin/greeting") == 200

    await within(20.0, b_serves)  # reconnect back-off (≤ 5 s) + the reconcile


async def until_redis(harness: PluginHarness, status: str) -> None:
    client: httpx.AsyncClient = harness.new_client()
    async with asyncio.timeout(20):
        while (await client.get("/readyz")).json()["data"]["redis"] != status:
            await asyncio.sleep(0.05)


async def test_instances_starting_together_both_take_a_new_plugin(
    settings: Settings, harness_factory: HarnessFactory, redis_url: str, cluster_name: str
) -> None:
    """Both find the new folder at once and both try to insert its row: neither fails."""
    for n in range(5):
        write_plugin(settings.plugins_dir, f"twin{n}", TWIN.replace("twin", f"twin{n}"))
    common: dict[str, Any] = {"redis_url": redis_url, "cluster_name": cluster_name}
    a, b = await asyncio.gather(
        harness_factory(instance_id="a", data_dir=settings.data_dir / "a", **common),
        harness_factory(instance_id="b", data_dir=settings.data_dir / "b", **common),
    )
    for harness in (a, b):
        states = {n: harness.plugin(f"twin{n}").state.value for n in range(5)}
        assert states == dict.fromkeys(range(5), "loaded"), harness.plugin("twin0").error


async def test_the_reconcile_catches_up_with_code_another_instance_reloaded(
    settings: Settings, pair: Pair
) -> None:
    """B missed A's reload: its reconcile reloads B to the code A runs, and only that (a file
    that merely changed on disk waits for the watcher or the admin)."""
    await pair.admin_a.post("/api/plugins/twin/enable", json={"enabled": True})

    async def b_serves() -> bool:
        return await status_of(pair.admin_b, "/api/plugins/twin/greeting") == 200

    await within(1.0, b_serves)
    code = settings.plugins_dir / "twin" / "backend" / "plugin.py"
    code.write_text(code.read_text().replace('{"greeting": ctx', '{"v": 3, "greeting": ctx'))
    cluster_b = pair.b.services.cluster
    await cluster_b.reconcile()  # changed on disk only: nobody runs it yet
    assert "v" not in (await pair.admin_b.get("/api/plugins/twin/greeting")).json()
    await pair.a.services.plugins.reload("twin")  # A alone (as if B missed the message)
    await pair.a.services.instances._write()  # A's row now shows the new code
    await cluster_b.reconcile()
    assert (await pair.admin_b.get("/api/plugins/twin/greeting")).json()["v"] == 3
