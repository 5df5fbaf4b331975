"""A route whose streamed answer fails after it began (the connection is cut) reports the
failure in the plugin's own log, like any route failure (it reached only the host's log)."""

from __future__ import annotations

import contextlib

import httpx

from catalyst.settings import Settings
from tests.live_server import LiveFactory
from tests.plugin_helpers import write_plugin

CODE = """
from starlette.responses import StreamingResponse

def on_load(ctx):
    @ctx.get("/stream")
    async def stream(request):
        async def body():
            yield b"first "
            raise ValueError("broke mid-stream")
        return StreamingResponse(body())
"""


async def test_a_failure_while_streaming_is_in_the_plugins_log(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, "streamer", CODE)
    live = await live_factory(plugin_auto_enable=["streamer"])
    headers = {"Authorization": f"Bearer {await live.token()}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as http:
        with contextlib.suppress(httpx.HTTPError):  # cut: its status line was already sent
            await http.get("/api/plugins/streamer/stream")
        params = {"level": "error"}
        records = (await http.get("/api/plugins/streamer/logs", params=params)).json()["data"]
    (record,) = records
    assert record["message"] == "route GET /stream failed while streaming its answer"
    assert record["fields"]["error"] == "ValueError: broke mid-stream"
    assert "broke mid-stream" in record["fields"]["traceback"]
