"""A value the database cannot hold that got past the API's bounds is a 400 JSON, not a 500.

A safety net for routes that forgot a bound: the middleware recognises the driver's refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from catalyst.api.db_errors import DatabaseOutageMiddleware
from catalyst.db.engine import create_engine


@pytest.fixture
async def raw_app(database_url: str) -> AsyncIterator[FastAPI]:
    engine = create_engine(database_url)
    app = FastAPI()
    app.add_middleware(DatabaseOutageMiddleware)

    @app.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        # deliberately unbounded: the body goes to the database as it came
        cast = "bigint" if isinstance(body["v"], int) else "text"
        async with engine.connect() as conn:
            value = await conn.scalar(text(f"SELECT CAST(:v AS {cast})"), {"v": body["v"]})
        return {"v": value}

    yield app
    await engine.dispose()


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**80])
async def test_an_integer_the_database_cannot_hold_is_400(raw_app: FastAPI, value: int) -> None:
    transport = httpx.ASGITransport(app=raw_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", json={"v": 2**62})).json() == {"v": 2**62}
        r = await client.post("/echo", json={"v": value})
    assert r.status_code == 400, r.text
    assert r.json()["success"] is False
    assert "Invalid request" in r.json()["error"]


async def test_nul_text_postgresql_refuses_is_400(raw_app: FastAPI, db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("SQLite stores NUL characters")
    transport = httpx.ASGITransport(app=raw_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.post("/echo", json={"v": "a\x00b"})
    assert r.status_code == 400, r.text
    assert "Invalid request" in r.json()["error"]
