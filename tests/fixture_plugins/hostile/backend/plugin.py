"""A plugin that attacks its host: each route tries one thing the process runtime must stop."""

from __future__ import annotations

import ctypes
import os
import socket
import sys
import time
from typing import Any

from catalyst.sdk import HTMLResponse, PluginContext, Request

HOARD: list[bytearray] = []


def _try(fn: Any) -> dict[str, Any]:
    try:
        return {"ok": True, "value": fn()}
    except BaseException as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def on_load(ctx: PluginContext) -> None:
    @ctx.get("/read")
    async def read(request: Request) -> dict[str, Any]:
        path = request.query["path"]
        return _try(lambda: open(path, "rb").read(64).hex())

    @ctx.get("/env")
    async def env(request: Request) -> dict[str, Any]:
        return {"env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid()}

    @ctx.get("/fds")
    async def fds(request: Request) -> dict[str, Any]:
        links = {}
        for fd in os.listdir("/proc/self/fd"):
            try:
                links[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue  # the listing's own descriptor, closed by now
        return {"fds": links}

    @ctx.post("/patch")
    async def patch(request: Request) -> dict[str, Any]:
        import catalyst.auth.permissions as permissions

        permissions.has_permission = lambda *_a, **_k: True
        sys.modules["catalyst.auth.sessions"] = sys.modules["os"]
        return {"patched": True}

    @ctx.get("/exit")
    async def exit_now(request: Request) -> dict[str, Any]:
        os._exit(1)

    @ctx.get("/segfault")
    async def segfault(request: Request) -> dict[str, Any]:
        ctypes.string_at(0)
        return {}

    @ctx.get("/block")
    async def block(request: Request) -> dict[str, Any]:
        time.sleep(float(request.query.get("seconds", "3")))  # noqa: ASYNC251 - the attack
        return {"slept": True}

    @ctx.get("/hog")
    async def hog(request: Request) -> dict[str, Any]:
        while True:
            chunk = bytearray(8 * 1024 * 1024)
            chunk[::4096] = b"x" * len(chunk[::4096])  # touch every page
            HOARD.append(chunk)

    @ctx.get("/fork")
    async def fork(request: Request) -> dict[str, Any]:
        def attempt() -> int:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            return pid

        return _try(attempt)

    @ctx.get("/listen")
    async def listen(request: Request) -> dict[str, Any]:
        def attempt() -> int:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen()
            port: int = s.getsockname()[1]
            s.close()
            return port

        return _try(attempt)

    @ctx.get("/connect")
    async def connect(request: Request) -> dict[str, Any]:
        port = int(request.query["port"])

        def attempt() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return True

        return _try(attempt)

    @ctx.get("/unix")
    async def unix(request: Request) -> dict[str, Any]:
        path = request.query["path"]

        def attempt() -> bool:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                return True

        return _try(attempt)

    @ctx.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            "<script>fetch('/api/users')</script>",
            headers={
                "Set-Cookie": "catalyst_session=forged; Path=/",
                "Content-Security-Policy": "default-src *",
            },
        )

    @ctx.post("/spoof")
    async def spoof(request: Request) -> dict[str, Any]:
        ctx.broadcast({"type": "servers:updated", "data": {"server": {"name": "SPOOFED"}}})
        ctx.broadcast({"type": "plugin:example-plugin:pong", "data": "forged"})
        ctx.broadcast({"type": "plugin:hostile:fine", "data": "own"})
        return {"sent": True}

    @ctx.get("/threads")
    async def threads(request: Request) -> dict[str, Any]:
        def attempt() -> int:
            import threading

            started = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(32)]
            for thread in started:
                thread.start()
            for thread in started:
                thread.join()
            return len(started)

        return _try(attempt)

    @ctx.get("/ping")
    async def ping(request: Request) -> dict[str, Any]:
        return {"pid": os.getpid()}
