"""Live pushes to connected clients, fed by core events and plugin logs.

- ``plugins:updated``: a plugin's state, reload or config changed. Users with ``admin.read`` get
  the full list item; everyone else the reduced one the UI needs to load plugin modules
  (``null`` unless the plugin is enabled and has a browser module).
  A ``plugins:updated`` still queued for a client is replaced by a newer one for the same plugin
  and reason (each carries the whole current item, so only the latest matters).
- ``plugin:log`` (to ``admin.read``): a plugin logged a record (from any thread).
- ``servers:updated`` (to ``server.read``): a game server was created, started, stopped, deleted.

In a cluster each push is made by the instance where it happened and reaches the clients of
every instance (``Hub.fanout``); an instance applying another's plugin change pushes nothing.
"""

from __future__ import annotations

from typing import Any

from catalyst.api.plugin_views import summary, ui_summary
from catalyst.services import Services

REASONS = {
    "plugin:loaded": "state",
    "plugin:enabled": "state",
    "plugin:disabled": "state",
    "plugin:error": "state",
    "plugin:unloaded": "state",
    "plugin:restarting": "state",
    "plugin:reloaded": "reload",
    "plugin:configured": "config",
    "plugin:removed": "rescan",
}


def install(services: Services) -> None:
    hub = services.hub
    manager = services.plugins

    async def on_plugin_event(event: str, data: Any) -> None:
        reason = REASONS.get(event)
        if reason is None or not isinstance(data, dict):
            return
        name = data.get("name")
        record = manager.records.get(name) if isinstance(name, str) else None
        live = record is not None and event != "plugin:removed"
        full = summary(record).model_dump(mode="json") if live and record else None
        shown = ui_summary(record) if live and record else None
        reduced = shown.model_dump(mode="json") if shown else None
        for plugin, audience in (
            (full, {"permission": "admin.read"}),
            (reduced, {"unless": "admin.read"}),
        ):
            data = {"name": name, "reason": reason, "plugin": plugin}
            message = {"type": "plugins:updated", "data": data}
            hub.broadcast(message, **audience, coalesce=f"plugins:updated:{reason}:{name}")

    async def on_server_event(event: str, data: Any) -> None:
        server = data.get("server") if isinstance(data, dict) else None
        hub.broadcast(
            {"type": "servers:updated", "data": {"event": event, "server": server}},
            permission="server.read",
        )

    def on_log(plugin: str, record: dict[str, Any]) -> None:
        if len(hub) or hub.fanout is not None:  # admins may be on another instance
            hub.broadcast(
                {"type": "plugin:log", "data": {"name": plugin, "record": record}},
                permission="admin.read",
            )

    services.bus.subscribe("plugin:*", on_plugin_event, owner="core")
    services.bus.subscribe("server:*", on_server_event, owner="core")
    manager.log_listeners.append(on_log)
