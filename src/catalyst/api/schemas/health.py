"""What the health probes answer."""

from __future__ import annotations

from typing import Literal

from catalyst.api.schemas.base import Number, WireModel


class Liveness(WireModel):
    status: Literal["alive"]


class Readiness(WireModel):
    status: Literal["ready"]
    database: Literal["ok"]


class Health(WireModel):
    """``degraded`` (answered 503) when the database is unreachable."""

    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unreachable"]
    redis: Literal["ok", "down", "disabled"]
    #: Seconds since the host started.
    uptime: Number
