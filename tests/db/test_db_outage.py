"""Item 9: a database that hangs, refuses or is locked answers 503 JSON within the timeouts.

On PostgreSQL the host talks to the database through a TCP proxy this test controls; on SQLite
another connection holds the write lock. The timeouts are shortened in the settings, so a test
that passes also shows the bound: a request waiting on the full default timeouts of the driver
(or forever) would hang the test instead.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from catalyst.db.engine import DbTimeouts, create_engine
from catalyst.db.outage import is_database_outage
from catalyst.settings import Settings
from tests.conftest import harness_of
from tests.db.tcp_proxy import TcpProxy
from tests.plugin_helpers import AppFactory, admin_client, write_plugin

FAST = {  # short enough to keep the test quick, long enough for a loaded machine's healthy queries
    "db_connect_timeout": 0.8,
    "db_statement_timeout": 0.8,
    "db_pool_timeout": 0.8,
    "db_busy_timeout": 0.3,
    "readiness_timeout": 1.0,
}
PLUGIN = """
def on_load(ctx):
    ctx.get("/hello")(lambda request: {"hello": "world"})

    @ctx.post("/count")
    async def count(request):
        return {"count": await ctx.increment_storage("hits")}
"""


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["success"] is False
    assert "Database unavailable" in body["error"]


async def _through_proxy(settings: Settings) -> tuple[TcpProxy, Settings]:
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    return proxy, settings.model_copy(update={"database_url": proxied, **FAST})


async def _requests_during_outage(
    app_factory: AppFactory, custom: Settings
) -> tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]:
    write_plugin(custom.plugins_dir, "hello", PLUGIN)
    app = await app_factory(custom.model_copy(update={"plugin_auto_enable": ["hello"]}))
    used = await admin_client(app)  # its session is verified (and cached) before the outage
    assert (await used.get("/api/servers")).status_code == 200
    assert (await used.post("/api/plugins/hello/count")).status_code == 200
    fresh = await admin_client(app)  # its session is first looked up during the outage
    anon = harness_of(app).new_client()
    return used, fresh, anon


async def _check_outage(
    used: httpx.AsyncClient, fresh: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    assert_unavailable(await used.get("/api/servers"))
    assert_unavailable(await used.post("/api/servers", json={"name": "a", "game": "g"}))
    assert_unavailable(await fresh.get("/api/servers"))  # the auth dependency's lookup
    assert_unavailable(await fresh.get("/api/plugins/hello/hello"))  # in front of a plugin route
    assert_unavailable(await used.post("/api/plugins/hello/count"))  # plugin storage inside one
    health = await anon.get("/api/health")
    assert health.status_code == 503
    assert health.json()["data"]["database"] == "unreachable"
    assert_unavailable(await anon.get("/readyz"))
    live = await anon.get("/livez")
    assert live.status_code == 200
    assert live.json() == {"success": True, "data": {"status": "alive"}}


async def test_postgres_network_hang_answers_503(
    db_backend: str, settings: Settings, app_factory: AppFactory
) -> None:
    if db_backend != "postgresql":
        pytest.skip("the TCP proxy stands in front of PostgreSQL")
    proxy, custom = await _through_proxy(settings)
    try:
        used, fresh, anon = await _requests_during_outage(app_factory, custom)
        proxy.hang()
        await _check_outage(used, fresh, anon)
        await proxy.refuse()
        await proxy.resume()
        assert (await used.get("/api/servers")).status_code == 200  # and back when it answers
        assert (await anon.get("/readyz")).status_code == 200
    finally:
        await proxy.stop()


async def test_postgres_refusing_answers_503(
    db_backend: str, settings: Settings, app_factory: AppFactory
) -> None:
    if db_backend != "postgresql":
        pytest.skip("the TCP proxy stands in front of PostgreSQL")
    proxy, custom = await _through_proxy(settings)
    try:
        used, fresh, anon = await _requests_during_outage(app_factory, custom)
        await proxy.refuse()
        await _check_outage(used, fresh, anon)
    finally:
        await proxy.stop()


async def test_sqlite_locked_database_answers_503(
    db_backend: str, settings: Settings, app_factory: AppFactory
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock")
    app = await app_factory(settings.model_copy(update=FAST))
    client = await admin_client(app)
    path = make_url(settings.database_url).database
    assert path
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
        assert_unavailable(await client.post("/api/servers", json={"name": "a", "game": "g"}))
        assert (await client.get("/api/servers")).status_code == 200  # readers go on (WAL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    r = await client.post("/api/servers", json={"name": "a", "game": "g"})
    assert r.status_code == 201, r.text


async def test_statement_timeout_bounds_a_slow_query(db_backend: str, database_url: str) -> None:
    """PostgreSQL cancels a statement over the limit; the error is recognised as an outage."""
    if db_backend != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")
    engine = create_engine(database_url, DbTimeouts(statement=0.2))
    try:
        with pytest.raises((DBAPIError, TimeoutError)) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_sleep(5)"))
        assert is_database_outage(caught.value)
    finally:
        await engine.dispose()


async def test_an_exhausted_pool_answers_503(settings: Settings, app_factory: AppFactory) -> None:
    """Every pooled connection is busy: a request waits ``db_pool_timeout``, then 503."""
    app = await app_factory(settings.model_copy(update=FAST))
    client = await admin_client(app)
    assert (await client.get("/api/servers")).status_code == 200
    engine = app.state.services.engine
    held = []
    try:
        size = engine.pool.size() + engine.pool._max_overflow
        for _ in range(size):
            held.append(await engine.connect())
        assert_unavailable(await client.get("/api/servers"))
    finally:
        for conn in held:
            await conn.close()
    assert (await client.get("/api/servers")).status_code == 200
