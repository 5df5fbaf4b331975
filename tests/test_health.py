import os

import httpx
import pytest
from fastapi import FastAPI

from catalyst import __version__
from catalyst.db.engine import create_engine
from tests.conftest import IN_CI, harness_of
from tests.plugin_helpers import AppFactory


async def test_health_reports_version_database_and_uptime(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    assert body["data"]["version"] == __version__
    assert body["data"]["database"] == "ok"
    assert body["data"]["uptime"] >= 0


async def test_health_reports_unreachable_database(anon: httpx.AsyncClient, app: FastAPI) -> None:
    services = app.state.services
    await services.engine.dispose()
    # Nothing listens on port 1: the connection is refused at once.
    services.engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    r = await anon.get("/api/health")
    assert r.status_code == 503
    assert r.json()["data"]["database"] == "unreachable"
    assert r.json()["success"] is False


REDIS_URL = os.environ.get("CATALYST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def test_health_reports_redis_when_configured(app_factory: AppFactory) -> None:
    """Against the real Redis: required under CI=true, skipped elsewhere when it is down."""
    app = await app_factory(redis_url=REDIS_URL)
    async with harness_of(app).new_client() as c:
        data = (await c.get("/api/health")).json()["data"]
    if data["redis"] != "ok":
        message = f"Redis at {REDIS_URL} is unreachable"
        if IN_CI:
            pytest.fail(message + " (CI=true: Redis is required)", pytrace=False)
        pytest.skip(message)
    assert data["status"] == "ok"


async def test_health_stays_ok_when_redis_is_down(app_factory: AppFactory) -> None:
    """Nothing needs Redis yet: its outage is reported, and no probe takes the instance out."""
    app = await app_factory(redis_url="redis://127.0.0.1:1/0")
    async with harness_of(app).new_client() as c:
        r = await c.get("/api/health")
        ready = await c.get("/readyz")
    assert r.status_code == 200
    assert r.json()["data"]["redis"] == "down"
    assert r.json()["data"]["status"] == "ok"
    assert ready.status_code == 200


async def test_single_instance_reports_redis_disabled(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/api/health")).json()["data"]["redis"] == "disabled"
