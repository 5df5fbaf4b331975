"""``/livez`` and ``/readyz``: liveness needs nothing, readiness needs the database."""

from __future__ import annotations

import socket

import httpx
from fastapi import FastAPI

from catalyst.db.engine import create_engine
from tests.conftest import harness_of
from tests.plugin_helpers import AppFactory


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def client(app: FastAPI) -> httpx.AsyncClient:
    return harness_of(app).new_client()


async def test_probes_answer_without_login(anon: httpx.AsyncClient) -> None:
    live = await anon.get("/livez")
    assert live.status_code == 200
    assert live.json() == {"success": True, "data": {"status": "alive"}}
    ready = await anon.get("/readyz")
    assert ready.status_code == 200
    data = ready.json()["data"]
    assert ready.json()["success"] is True
    assert data == {
        "status": "ready",
        "database": "ok",
        "redis": "disabled",  # no CATALYST_REDIS_URL: one instance
        "instance": data["instance"],
    }
    assert data["instance"]


async def test_readyz_fails_and_livez_holds_when_the_database_is_gone(
    anon: httpx.AsyncClient, app: FastAPI
) -> None:
    services = app.state.services
    await services.engine.dispose()
    services.engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/x")
    ready = await anon.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["success"] is False
    assert "Database unavailable" in ready.json()["error"]
    assert (await anon.get("/livez")).status_code == 200


async def test_a_redis_outage_takes_no_healthy_instance_out(app_factory: AppFactory) -> None:
    app = await app_factory(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with client(app) as c:
        health = await c.get("/api/health")
        ready = await c.get("/readyz")
        live = await c.get("/livez")
    assert health.status_code == 200, health.text
    assert health.json()["data"]["redis"] == "down"
    assert health.json()["data"]["database"] == "ok"
    assert ready.status_code == 200
    assert live.status_code == 200
