"""``GET /api/plugins/{name}`` lists the live instances that run the plugin and the code version
each loaded (a hash of the plugin folder), and flags instances that run different code."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from catalyst.cluster.instances import InstanceRegistry
from catalyst.db.models import ClusterInstance, utcnow
from catalyst.plugins.codehash import code_hash
from catalyst.settings import Settings
from tests.conftest import ClientFactory
from tests.db.tcp_proxy import TcpProxy
from tests.db.test_db_outage import FAST
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client, write_plugin

PLUGIN = "/api/plugins/example-plugin"


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    return await app_factory(plugin_auto_enable=["example-plugin"], instance_id="self-one")


def registry_of(app: FastAPI) -> InstanceRegistry:
    registry: InstanceRegistry = app.state.services.instances
    return registry


async def add_row(app: FastAPI, instance_id: str, age: float, **plugins: Any) -> None:
    """Another instance's row, as it would write it, last seen ``age`` seconds ago."""
    async with registry_of(app).db() as db, db.begin():
        db.add(
            ClusterInstance(
                id=instance_id,
                host="other-host",
                pid=4242,
                version="9.9.9",
                seen_at=utcnow() - timedelta(seconds=age),
                plugins=plugins,
            )
        )


async def detail(c: httpx.AsyncClient) -> dict[str, Any]:
    r = await c.get(PLUGIN)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def test_this_instance_first_with_the_hash_of_its_folder(
    app: FastAPI, settings: Settings
) -> None:
    c = await admin_client(app)
    d = await detail(c)
    expected = code_hash(settings.plugins_dir / "example-plugin")
    assert d["codeHash"] == expected
    assert d["codeMismatch"] is False
    [mine] = d["instances"]
    assert mine["self"] is True
    assert mine["id"] == "self-one"
    assert mine["codeHash"] == expected
    assert mine["state"] == "enabled"
    assert mine["pid"] > 0
    assert mine["host"]
    assert mine["loadedAt"] == d["loadedAt"]
    # its own row in the database says the same (written at start)
    async with registry_of(app).db() as db:
        row = await db.get(ClusterInstance, "self-one")
    assert row is not None
    assert row.plugins["example-plugin"]["hash"] == expected


async def test_another_instance_with_other_code_is_a_mismatch(
    app: FastAPI, settings: Settings
) -> None:
    c = await admin_client(app)
    mine = code_hash(settings.plugins_dir / "example-plugin")
    loaded = utcnow().isoformat()
    await add_row(app, "b-same", 1, **{"example-plugin": {"hash": mine, "state": "enabled"}})
    await add_row(app, "c-other-plugins", 1, **{"something-else": {"hash": "f" * 16}})
    await add_row(app, "d-stale", 600, **{"example-plugin": {"hash": "0" * 16}})
    d = await detail(c)
    assert [i["id"] for i in d["instances"]] == ["self-one", "b-same"]
    assert d["codeMismatch"] is False

    entry = {"hash": "1" * 16, "state": "loaded", "loadedAt": loaded}
    await add_row(app, "a-other", 2, **{"example-plugin": entry})
    d = await detail(c)
    assert [i["id"] for i in d["instances"]] == ["self-one", "a-other", "b-same"]
    assert d["codeMismatch"] is True
    other = d["instances"][1]
    assert other == {
        "id": "a-other",
        "host": "other-host",
        "pid": 4242,
        "codeHash": "1" * 16,
        "state": "loaded",
        "loadedAt": loaded,
        "seenAt": other["seenAt"],
        "self": False,
    }
    assert [i["self"] for i in d["instances"]] == [True, False, False]


async def test_instances_are_for_admins_only(app: FastAPI, client_for: ClientFactory) -> None:
    viewer = await client_for(permissions=["servers.read"])
    assert (await viewer.get(PLUGIN)).status_code == 403
    listed = (await viewer.get("/api/ui/plugins")).json()["data"]
    assert all("instances" not in p and "codeHash" not in p for p in listed)


async def test_reload_updates_the_version_here_and_in_the_row_within_a_second(
    settings: Settings, app_factory: AppFactory
) -> None:
    folder = write_plugin(settings.plugins_dir, "hashed", "def on_load(ctx):\n    pass\n")
    app = await app_factory(instance_id="reloader")
    c = await admin_client(app)
    before = (await c.get("/api/plugins/hashed")).json()["data"]["codeHash"]
    assert before == code_hash(folder)

    (folder / "backend" / "plugin.py").write_text("def on_load(ctx):\n    return None\n")
    after = code_hash(folder)
    assert after != before
    assert (await c.post("/api/plugins/hashed/reload")).status_code == 200
    assert (await c.get("/api/plugins/hashed")).json()["data"]["codeHash"] == after

    async def row_hash() -> Any:
        async with registry_of(app).db() as db:
            row = await db.scalar(select(ClusterInstance).where(ClusterInstance.id == "reloader"))
        return row.plugins["hashed"]["hash"] if row else None

    started = time.monotonic()
    while await row_hash() != after:
        assert time.monotonic() - started < 1.0, "the row was not written again within 1 s"
        await asyncio.sleep(0.02)

    # a failed reload keeps the old generation, and its version
    (folder / "backend" / "plugin.py").write_text("def on_load(ctx):\n    raise RuntimeError\n")
    assert (await c.post("/api/plugins/hashed/reload")).status_code == 400
    assert (await c.get("/api/plugins/hashed")).json()["data"]["codeHash"] == after


async def test_unload_forgets_the_version(settings: Settings, app_factory: AppFactory) -> None:
    write_plugin(settings.plugins_dir, "gone", "")
    app = await app_factory()
    c = await admin_client(app)
    assert (await c.get("/api/plugins/gone")).json()["data"]["codeHash"] is not None
    manager = app.state.services.plugins
    record = manager.get("gone")
    async with record.lock:
        await manager.unload(record, persist=False)
    d = (await c.get("/api/plugins/gone")).json()["data"]
    assert d["codeHash"] is None
    assert d["instances"][0]["codeHash"] is None
    assert d["codeMismatch"] is False


async def test_without_the_database_the_page_shows_this_instance(
    db_backend: str, settings: Settings, app_factory: AppFactory
) -> None:
    """The instances come from the database; when it does not answer, the plugin's page still
    answers, with this instance only, and the heartbeat logs the outage once."""
    if db_backend != "postgresql":
        pytest.skip("the TCP proxy stands in front of PostgreSQL")
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
        custom = settings.model_copy(update={"database_url": proxied, **FAST})
        app = await app_factory(custom, instance_id="me", cluster_heartbeat_seconds=2.0)
        c = await admin_client(app)
        await add_row(app, "other", 0, **{"example-plugin": {"hash": "2" * 16}})
        d = await detail(c)
        assert [i["id"] for i in d["instances"]] == ["me", "other"]
        assert d["codeMismatch"] is True
        registry = registry_of(app)
        with capture_logs() as logs:
            await proxy.refuse()
            d = await detail(c)
            assert [i["id"] for i in d["instances"]] == ["me"]
            assert d["codeMismatch"] is False
            assert d["codeHash"] == code_hash(settings.plugins_dir / "example-plugin")
            for _ in range(4):  # writes (at most one per 200 ms) that fail
                registry.touch()
                await asyncio.sleep(0.25)
            await proxy.resume()
            written = registry.writes
            started = time.monotonic()
            while registry.writes == written:  # the heartbeat goes on once it answers
                assert time.monotonic() - started < 5.0
                registry.touch()
                await asyncio.sleep(0.05)
        events = [e["event"] for e in logs]
        assert events.count("cluster_instance_write_failed") == 1
        assert events.count("cluster_instance_write_recovered") == 1
        assert [i["id"] for i in (await detail(c))["instances"]] == ["me", "other"]
    finally:
        await proxy.stop()
