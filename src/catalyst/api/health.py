"""Health probes. No login needed.

* ``/livez``: the process answers (no database, no Redis): restart the instance when it fails.
* ``/readyz``: the database answers ``SELECT 1`` within ``readiness_timeout``: send traffic only
  when it succeeds. It names the instance and reports the cluster's Redis subscription (``ok``,
  ``connecting``, ``down`` or ``disabled``) without failing on it: an instance without Redis
  still serves its own requests.
* ``/api/health``: a report for people and monitors: version, uptime, database and Redis. It is
  503 only when the database is unreachable; Redis is reported (``ok``, ``down`` or ``disabled``)
  but never fails the check, since nothing the host serves needs it yet.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from fastapi import APIRouter, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from catalyst.api.db_errors import MESSAGE as DB_DOWN
from catalyst.api.responses import JSONResponse, fail
from catalyst.api.schemas.base import Envelope
from catalyst.api.schemas.health import Health, Liveness, Readiness
from catalyst.auth.deps import get_services
from catalyst.services import Services

router = APIRouter(tags=["health"], default_response_class=JSONResponse)


@router.get("/livez")
async def livez() -> Envelope[Liveness]:
    """The process is alive and its event loop answers."""
    return Envelope(data=Liveness(status="alive"))


@router.get(
    "/readyz",
    response_model=Envelope[Readiness],
    responses={503: {"description": "The database did not answer in time"}},
)
async def readyz(request: Request) -> JSONResponse | Envelope[Readiness]:
    """Ready for traffic: the database answered within the readiness timeout."""
    services = get_services(request)
    if await _database_status(services) != "ok":
        return fail(DB_DOWN, 503, {"Retry-After": "5"})
    backplane = services.cluster.backplane
    return Envelope(
        data=Readiness(
            status="ready", database="ok", redis=backplane.status, instance=services.instance_id
        )
    )


@router.get(
    "/api/health",
    response_model=Envelope[Health],
    responses={503: {"description": "The database is unreachable", "model": Envelope[Health]}},
)
async def health(request: Request) -> JSONResponse:
    services = get_services(request)
    database, redis = await asyncio.gather(
        _database_status(services),
        _redis_status(services.cluster.backplane.redis, services.settings.readiness_timeout),
    )
    healthy = database == "ok"
    report = Health(
        status="ok" if healthy else "degraded",
        version=services.version,
        database=database,
        redis=redis,
        instance=services.instance_id,
        uptime=round(time.monotonic() - services.started_at, 3),
    )
    body = Envelope(success=healthy, data=report).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if healthy else 503)


async def _database_status(services: Services) -> Literal["ok", "unreachable"]:
    """``ok``, or ``unreachable`` when ``SELECT 1`` failed or took over the readiness timeout."""
    try:
        async with asyncio.timeout(services.settings.readiness_timeout):
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure to reach the database is reported, not raised
        return "unreachable"
    return "ok"


async def _redis_status(client: Redis | None, seconds: float) -> Literal["ok", "down", "disabled"]:
    """``disabled`` (single instance), ``ok`` or ``down``: a ping on the cluster backplane's
    client (its pool), within ``seconds``."""
    if client is None:
        return "disabled"
    try:
        async with asyncio.timeout(seconds):
            await client.ping()
    except (RedisError, OSError):  # TimeoutError is an OSError
        return "down"
    return "ok"
