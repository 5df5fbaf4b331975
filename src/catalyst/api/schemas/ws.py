"""The messages ``/ws`` pushes to the admin UI (:mod:`catalyst.ws.pushes`). Not part of an HTTP
answer, so ``/openapi.json`` does not list them; ``scripts/gen_types.py`` adds them to the
document it generates ``frontend/src/lib/types.ts`` from."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from catalyst.api.schemas.base import WireModel, omitted
from catalyst.api.schemas.plugins import LogRecord, PluginSummary
from catalyst.api.schemas.servers import Server


class SocketMessage(WireModel):
    """What the host pushes over ``/ws``: a type and its data."""

    type: str
    data: Any = omitted()


class PluginsUpdated(WireModel):
    """``plugins:updated``: ``plugin`` is null when it is gone (or, for a user without
    ``admin.read``, not enabled with a browser module)."""

    name: str
    reason: str = Field(description="state, reload, config or rescan")
    plugin: PluginSummary | None


class PluginLogPush(WireModel):
    """``plugin:log``: a plugin logged a record."""

    name: str
    record: LogRecord


class ServersUpdated(WireModel):
    """``servers:updated``: a game server was created, started, stopped or deleted."""

    event: str
    server: Server


#: Every push payload, in the order the generated types list them.
PUSHES: tuple[type[WireModel], ...] = (SocketMessage, PluginsUpdated, PluginLogPush, ServersUpdated)
