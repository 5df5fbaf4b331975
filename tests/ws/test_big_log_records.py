"""A plugin that logs megabytes (a request body, a huge exception message) keeps its admins
connected and the host's memory bounded: each log record is cut to a bounded size (before the
fix 20 records of 2 MB pushed every admin client over its 16 MiB queue: all dropped with 4008,
and the plugin's log held 40 MB)."""

from __future__ import annotations

import json

import httpx

from catalyst.plugins.logs import MAX_MESSAGE, MAX_TEXT
from catalyst.settings import Settings
from tests.live_server import LiveFactory, connect, receive_type
from tests.plugin_helpers import write_plugin

CODE = """
def on_load(ctx):
    @ctx.get("/chatty")
    def chatty(request):
        for i in range(20):
            ctx.logger.info(f"payload {i} " + "x" * 2_000_000, body="y" * 2_000_000)
        return {"logged": 20}

    @ctx.get("/fail")
    def fail(request):
        raise ValueError("z" * 2_000_000)
"""


async def test_megabyte_log_records_are_cut_and_drop_no_admin(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(settings.plugins_dir, "chatty", CODE)
    live = await live_factory(plugin_auto_enable=["chatty"])
    token = await live.token()
    admins = [await connect(live, token) for _ in range(3)]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as http:
        assert (await http.get("/api/plugins/chatty/chatty")).json() == {"logged": 20}
        assert (await http.get("/api/plugins/chatty/fail")).status_code == 500
        records = (await http.get("/api/plugins/chatty/logs?limit=500")).json()["data"]
    assert len(records) == 21
    for record in records:
        assert len(record["message"]) <= MAX_MESSAGE + 40
        assert all(len(v) <= MAX_TEXT + 40 for v in record["fields"].values())
    assert records[0]["message"].endswith("more characters)")
    assert len(json.dumps(records)) < 21 * (MAX_MESSAGE + 3 * MAX_TEXT)
    for ws in admins:  # every admin got every push, and is still connected
        for _ in range(21):
            await receive_type(ws, "plugin:log", wait=10)
        await ws.send(json.dumps({"type": "ping", "data": "up"}))
        assert (await receive_type(ws, "pong"))["data"] == "up"
        await ws.close()
