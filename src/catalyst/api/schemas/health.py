"""What the health probes answer."""

from __future__ import annotations

from typing import Literal

from catalyst.api.schemas.base import Number, WireModel


class Liveness(WireModel):
    status: Literal["alive"]


class Readiness(WireModel):
    """Ready once the database answers. Redis is reported, never a reason to take the instance
    out of the balancer: without it the instance serves its own requests."""

    status: Literal["ready"]
    database: Literal["ok"]
    redis: Literal["ok", "down", "connecting", "disabled"]
    #: This instance's id in the cluster.
    instance: str


class Health(WireModel):
    """``degraded`` (answered 503) when the database is unreachable."""

    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unreachable"]
    redis: Literal["ok", "down", "disabled"]
    #: This instance's id in the cluster.
    instance: str
    #: Seconds since the host started.
    uptime: Number
