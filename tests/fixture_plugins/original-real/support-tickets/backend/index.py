"""A port of a ticket plugin of the original system: its routes use Fastify's ':param' urls."""

from catalyst.sdk import PluginContext


def on_load(ctx: PluginContext) -> None:
    ctx.register_route("GET", "/tickets/:id", lambda r: {"id": r.path_params["id"]})
    ctx.register_route("GET", "/tickets/stats", lambda r: {"open": 0})
