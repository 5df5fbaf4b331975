"""GET /v answers {"v": V} from version.py: tests edit version.py and watch the reload."""

from typing import Any

from catalyst.sdk import PluginContext, Request

from .version import V


def on_load(ctx: PluginContext) -> None:
    def version(request: Request) -> dict[str, Any]:
        return {"v": V}

    ctx.get("/v")(version)
