import httpx
from fastapi import FastAPI

from catalyst import __version__
from catalyst.db.engine import create_engine


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
