"""The original README's quick-start backend/index.js, ported to Python line for line."""

from typing import Any

from catalyst.sdk import PluginContext, Request


async def on_load(ctx: PluginContext) -> None:
    # Register routes DURING on_load
    async def handler(request: Request) -> dict[str, Any]:
        return {"success": True, "message": "Hello from plugin!"}

    ctx.register_route("GET", "/test", handler)


async def on_enable(ctx: PluginContext) -> None:
    # Set up WebSocket handlers, cron jobs, etc.
    async def on_event(data: Any, client_id: str) -> None:
        ctx.logger.info("Received event", data=data)

    ctx.on_websocket_message("my_plugin_event", on_event)


async def on_disable(ctx: PluginContext) -> None:
    pass  # Cleanup resources
