"""The original README's quick-start backend/index.js, ported to Python line for line."""


async def on_load(ctx):
    # Register routes DURING on_load
    async def handler(request):
        return {"success": True, "message": "Hello from plugin!"}

    ctx.register_route("GET", "/test", handler)


async def on_enable(ctx):
    # Set up WebSocket handlers, cron jobs, etc.
    async def on_event(data, client_id):
        ctx.logger.info("Received event", data=data)

    ctx.on_websocket_message("my_plugin_event", on_event)


async def on_disable(ctx):
    pass  # Cleanup resources
