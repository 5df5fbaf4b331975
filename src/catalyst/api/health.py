"""``/api/health``: is the host up and can it reach its database. No login needed."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from catalyst.auth.deps import get_services

router = APIRouter(tags=["health"])


@router.get("/api/health")
async def health(request: Request) -> JSONResponse:
    services = get_services(request)
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure to reach the database is reported, not raised
        database = "unreachable"
    redis = await _redis_status(services.settings.redis_url)
    healthy = database == "ok" and redis != "unreachable"
    body = {
        "success": healthy,
        "data": {
            "status": "ok" if healthy else "degraded",
            "version": services.version,
            "database": database,
            "redis": redis,
            "uptime": round(time.monotonic() - services.started_at, 3),
        },
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


async def _redis_status(url: str | None) -> str:
    """``disabled`` (single instance), ``ok`` or ``unreachable``."""
    if not url:
        return "disabled"
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError):
        return "unreachable"
    finally:
        await client.aclose()
    return "ok"
