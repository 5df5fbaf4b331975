"""A message to a plugin that is not enabled names its state in words ("is error" read badly)."""

from __future__ import annotations

import json

from catalyst.settings import Settings
from tests.live_server import LiveFactory, connect, receive_type
from tests.plugin_helpers import manager_of, write_plugin


async def test_a_plugin_in_error_says_it_is_not_enabled(
    settings: Settings, live_factory: LiveFactory
) -> None:
    write_plugin(
        settings.plugins_dir,
        "broken",
        """
        def on_load(ctx):
            ctx.on_websocket_message("ping", lambda data, client_id: None)

        def on_enable(ctx):
            raise RuntimeError("no")
        """,
    )
    live = await live_factory(plugin_auto_enable=["broken"])
    assert manager_of(live.app).get("broken").state.value == "error"
    ws = await connect(live, await live.token())
    await ws.send(json.dumps({"type": "plugin:broken:ping"}))
    message = (await receive_type(ws, "error"))["data"]["message"]
    assert (
        message
        == "Plugin 'broken' is not enabled (state: error): 'plugin:broken:ping' is not handled"
    )
    assert " is error" not in message
    await ws.close()
