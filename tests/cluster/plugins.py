"""The small plugins the cluster tests (and bench/cluster.py) install in the shared folder.

Every plugin runs in the default (process) runtime. It learns which instance runs it from its data
folder, ``<CATALYST_DATA_DIR>/plugins/<name>``: the harness names each instance's data folder after
its id, so ``ctx.data_dir.parent.parent.name`` is "a", "b"… (``--workers`` share one data folder;
the process id tells them apart).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any


def plugin(
    name: str,
    code: str,
    *,
    config: Mapping[str, Any] | None = None,
    permissions: list[str] | None = None,
) -> dict[str, str]:
    """A plugin's files: its manifest and ``backend/plugin.py`` (``code``, dedented)."""
    manifest = {
        "name": name,
        "version": "1.0.0",
        "displayName": name.title(),
        "description": f"Cluster test plugin {name}",
        "author": "Catalyst tests",
        "catalystVersion": ">=1.0.0",
        "permissions": permissions or [],
        "backend": {"entry": "backend/plugin.py"},
        "config": dict(config or {}),
    }
    return {
        "plugin.json": json.dumps(manifest, indent=2),
        "backend/plugin.py": textwrap.dedent(code).lstrip(),
    }


_WHERE = """
import os
import time


def where(ctx):
    return {"instance": ctx.data_dir.parent.parent.name, "pid": os.getpid()}
"""

#: ``/whoami``, ``/setting`` (its ``value`` config), ``/servers`` (needs its server.read grant).
PROBE = plugin(
    "probe",
    _WHERE
    + """

def on_load(ctx):
    @ctx.get("/whoami")
    def whoami(request):
        return where(ctx)

    @ctx.get("/setting")
    def config(request):
        return {"value": ctx.get_config("value"), **where(ctx)}

    @ctx.get("/servers")
    async def servers(request):
        return {"count": await ctx.db.servers.count(), **where(ctx)}
""",
    config={"value": {"type": "string", "default": "initial", "max": 100}},
    permissions=["server.read"],
)

#: Not auto-enabled: tests enable and disable it. ``/ping`` says who answered.
TOGGLE = plugin(
    "toggle",
    _WHERE
    + """

def on_load(ctx):
    @ctx.get("/ping")
    def ping(request):
        return {"pong": True, **where(ctx)}
""",
)

#: A task every second (6 fields, seconds first). Each run adds 1 to ``runs`` and stores a key
#: ``run:<time.time()>:<instance>:<pid>``; ``/runs`` lists them.
TICK = plugin(
    "tick",
    _WHERE
    + """

def on_load(ctx):
    async def tick():
        me = where(ctx)
        await ctx.increment_storage("runs")
        await ctx.set_storage(f"run:{time.time():.3f}:{me['instance']}:{me['pid']}", 1)

    ctx.schedule_task("* * * * * *", tick, name="tick")

    @ctx.get("/runs")
    async def runs(request):
        keys = sorted(await ctx.list_storage("run:"))
        return {"total": await ctx.get_storage("runs", 0), "runs": keys}
""",
)

#: ``POST /emit {"nonce", ...}`` emits ``evt:ping``. A default listener counts
#: ``default:<nonce>`` (and who ran it); an ``every_instance`` one counts
#: ``every:<nonce>:<instance>`` and, with ``push``, broadcasts ``plugin:evt:heard`` at once.
#: Listeners of the core event ``plugin:configured`` (its own config) count per instance.
EVT = plugin(
    "evt",
    _WHERE
    + """

def on_load(ctx):
    me = where(ctx)["instance"]

    async def once(data):
        await ctx.increment_storage(f"default:{data['nonce']}")
        await ctx.set_storage(f"default-on:{data['nonce']}:{me}", 1)

    async def everywhere(data):
        if data.get("push"):
            ctx.broadcast({"type": "plugin:evt:heard", "data": {**data, "instance": me}})
        await ctx.increment_storage(f"every:{data['nonce']}:{me}")

    async def configured_once(data):
        if data.get("name") == ctx.name:
            await ctx.increment_storage(f"core-default:{me}")

    async def configured_everywhere(data):
        if data.get("name") == ctx.name:
            await ctx.increment_storage(f"core-every:{me}")

    ctx.on("evt:ping", once)
    ctx.on("evt:ping", everywhere, every_instance=True)
    ctx.on("plugin:configured", configured_once)
    ctx.on("plugin:configured", configured_everywhere, every_instance=True)

    @ctx.post("/emit")
    async def emit(request):
        body = await request.json()
        await ctx.emit("ping", {**body, "sent": time.time()})
        return {"instance": me}

    @ctx.get("/counts")
    async def counts(request):
        return await ctx.list_storage("")
""",
    config={"value": {"type": "string", "default": "initial", "max": 100}},
)

#: Sends WebSocket messages from a route: ``/send {"clientId"}``, ``/send-user {"userId"}``,
#: ``/broadcast {"permission"?}``; each message carries the body, ``sent`` (time.time() just
#: before sending) and ``from`` (the instance). ``/log`` writes a line to the plugin's log.
WS = plugin(
    "ws",
    _WHERE
    + """

def message(ctx, kind, body):
    data = {**body, "from": where(ctx)["instance"], "sent": time.time()}
    return {"type": f"plugin:ws:{kind}", "data": data}


def on_load(ctx):
    @ctx.post("/send")
    async def send(request):
        body = await request.json()
        return {"sent": ctx.send_websocket_message(body["clientId"], message(ctx, "direct", body))}

    @ctx.post("/send-user")
    async def send_user(request):
        body = await request.json()
        return {"sent": ctx.send_to_user(int(body["userId"]), message(ctx, "user", body))}

    @ctx.post("/broadcast")
    async def broadcast(request):
        body = await request.json()
        permission = body.get("permission")
        return {"sent": ctx.broadcast(message(ctx, "all", body), permission=permission)}

    @ctx.post("/log")
    async def log(request):
        body = await request.json()
        ctx.logger.info("cluster log line", nonce=body["nonce"])
        return {"logged": True}
""",
)
