"""A plugin's child process: the Python SDK's side of the plugin protocol.

After the handshake the child waits for the host's requests (``load``, ``hook``, ``http``,
``ws``, ``event``, ``task``...) and serves each in its own task, so a slow handler never holds up
another, nor the liveness ``ping``. Plugin code runs exactly as in-process: the same loader, the
same ``ctx`` class, the same route table and middleware chain; sync code runs in a thread pool.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any, cast

from starlette.responses import Response, StreamingResponse

from catalyst.auth.sessions import Principal
from catalyst.errors import CatalystError
from catalyst.plugins import executor
from catalyst.plugins.context import PluginContext, PluginHost
from catalyst.plugins.generation import resolve_hooks
from catalyst.plugins.loader import import_plugin
from catalyst.plugins.manifest import PluginManifest
from catalyst.plugins.process import protocol
from catalyst.plugins.process.child_host import (
    ChildLogger,
    ChildRegistrations,
    Peer,
    RemoteBus,
    RemoteConfig,
    RemoteDb,
    RemoteSender,
    RemoteStorage,
)
from catalyst.plugins.process.protocol import PROTOCOL_VERSION, Message, error_body
from catalyst.plugins.process.status import SandboxStatus
from catalyst.plugins.ws_handlers import client_of
from catalyst.sdk.errors import ConfigError, HTTPError, PluginPermissionError
from catalyst.sdk.request import Request


def refusal_status(exc: BaseException) -> int | None:
    """The HTTP status of an error the plugin (or the host on its behalf) meant as a refusal."""
    if isinstance(exc, HTTPError):
        return exc.status_code
    if isinstance(exc, CatalystError):
        return exc.status_code
    if isinstance(exc, PluginPermissionError):
        return 403
    if isinstance(exc, ConfigError):
        return 400
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def error_of(exc: BaseException) -> Message:
    message = exc.message if isinstance(exc, HTTPError | CatalystError) else str(exc)
    kind = getattr(exc, "kind", None) or type(exc).__name__
    return error_body(kind, message, refusal_status(exc), traceback.format_exc())


def principal_of(user: dict[str, Any] | None) -> Principal | None:
    if user is None:
        return None
    return Principal(
        user_id=int(user["id"]),
        username=str(user["username"]),
        roles=tuple(user.get("roles") or ()),
        permissions=frozenset(user.get("permissions") or ()),
    )


class Child:
    """One plugin in this process: its module, ctx and registrations."""

    def __init__(
        self, writer: protocol.FrameProtocol, hello: Message, sandbox: SandboxStatus
    ) -> None:
        self.writer = writer
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.name: str = hello["plugin"]
        self.folder: str = hello["folder"]
        self.entry: str = hello["entry"]
        self.peer = Peer(self.send)
        self.regs = ChildRegistrations(self.name, self.peer)
        self.config = RemoteConfig(self.peer, dict(hello.get("config") or {}))
        self.manifest = PluginManifest.model_validate(hello["manifest"])
        self.hooks: dict[str, Callable[..., Any]] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.cancelled: set[Any] = set()
        self.sandbox = sandbox
        host = PluginHost(
            bus=cast(Any, RemoteBus(self.regs, self.peer)),
            sender=RemoteSender(self.peer),
            config=cast(Any, self.config),
            storage=lambda _name: cast(Any, RemoteStorage(self.peer)),
            db=lambda _name: cast(Any, RemoteDb(self.peer)),
            data_dir=lambda _name: Path(hello["data_folder"]),
            granted=lambda _name: frozenset(hello.get("granted") or ()),
        )
        self.ctx = PluginContext(self.regs, self.manifest, host, ChildLogger(self.name, self.peer))
        executor.acquire(self.name)

    def send(self, message: Message) -> None:
        """Write one message; safe from the worker threads sync plugin code runs in (their
        writes are queued to the loop in order, ahead of the answer of the call that made them)."""
        transport = self.writer.transport
        if transport is None:
            return
        frame = protocol.encode(message)
        if threading.get_ident() == self._loop_thread:
            transport.write(frame)
        else:
            self._loop.call_soon_threadsafe(transport.write, frame)

    # -- requests from the host --------------------------------------------------------------

    def handle(self, message: Message) -> bool:
        """Dispatch one message; False when the host asked us to stop."""
        kind = message["t"]
        if kind in ("result", "error"):
            self.peer.answered(message)
        elif kind == "ping":
            self.send({"t": "pong", "id": message.get("id")})
        elif kind == "config":
            self.config.values = dict(message.get("values") or {})
        elif kind == "cancel":
            task = self.tasks.get(message.get("id", -1))
            if task is not None:
                self.cancelled.add(message.get("id"))
                task.cancel()
        elif kind == "shutdown":
            return False
        else:
            work = getattr(self, "_on_" + kind.replace(".", "_"), None)
            if work is None:
                self.reply_error(message.get("id"), protocol.RemoteError("ProtocolError", kind))
            else:
                request_id = message.get("id", 0)
                task = asyncio.ensure_future(self._run(work, message))
                self.tasks[request_id] = task
                task.add_done_callback(lambda _t: self.tasks.pop(request_id, None))
        return True

    async def _run(self, work: Callable[[Message], Any], message: Message) -> None:
        try:
            value = await work(message)
        except MemoryError:
            os._exit(66)
        except BaseException as exc:  # noqa: BLE001 - the boundary where plugin code runs
            if isinstance(exc, asyncio.CancelledError) and message.get("id") in self.cancelled:
                self.cancelled.discard(message.get("id"))
                return  # the host stopped waiting: nobody reads an answer
            self.send({"t": "error", "id": message.get("id"), "error": error_of(exc)})
            return
        if value is not _SENT:
            self.send({"t": "result", "id": message.get("id"), "value": value})

    def reply_error(self, request_id: Any, exc: BaseException) -> None:
        self.send({"t": "error", "id": request_id, "error": error_of(exc)})

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        if inspect.iscoroutinefunction(fn):
            result = await fn(*args)
        else:
            result = await executor.run_sync(self.name, fn, *args)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _on_load(self, message: Message) -> Any:
        _code, module = import_plugin(self.name, Path(self.folder), self.entry)
        self.hooks = resolve_hooks(module)
        return {"hooks": sorted(self.hooks)}

    async def _on_hook(self, message: Message) -> Any:
        hook = message["hook"]
        if hook == "on_enable":
            self.regs.begin_enable()
        fn = self.hooks.get(hook)
        if fn is not None:
            await self._call(fn, self.ctx, *(message.get("args") or ()))
        return None

    async def _on_release(self, message: Message) -> Any:
        """The host dropped what the enable scope registered (disable, or a failed enable)."""
        await self.regs.close_enable_scope()
        return None

    async def _on_ws(self, message: Message) -> Any:
        spec = self.regs.ws_by_rid.get(message["rid"])
        if spec is None:
            raise LookupError("that WebSocket handler is gone")
        user = message["client"]
        principal = principal_of(user)
        assert principal is not None
        args, kwargs = spec.arguments(message.get("data"), client_of(user["client_id"], principal))
        if spec.is_async:
            result = await spec.handler(*args, **kwargs)
        else:
            result = await executor.run_sync(self.name, lambda: spec.handler(*args, **kwargs))
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _on_event(self, message: Message) -> Any:
        handler = self.regs.handlers.get(message["rid"])
        if handler is not None:
            await handler(message["event"], message.get("data"))
        return None

    async def _on_task(self, message: Message) -> Any:
        handler = self.regs.handlers.get(message["rid"])
        if handler is None:
            raise LookupError("that task is gone")
        await self._call(handler)
        return None

    async def _on_http(self, message: Message) -> Any:
        request_id = message["id"]
        route, params, _other = self.regs.local.find(message["method"], message["path"])
        if route is None:
            raise HTTPError(404, f"No route {message['method']} {message['path']}")
        body: bytes = message.get("body") or b""
        delivered = False
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        scope = _scope(message, params, self.name)
        request = Request(scope, receive)
        response = await route.call(request)
        if not isinstance(response, StreamingResponse) and hasattr(response, "body"):
            self.send(_whole(request_id, response))
            return _SENT

        async def send(event: MutableMapping[str, Any]) -> None:
            if event["type"] == "http.response.start":
                headers = [list(h) for h in event.get("headers", [])]
                self.send(
                    {
                        "t": "http.start",
                        "id": request_id,
                        "status": event["status"],
                        "headers": headers,
                    }
                )
            elif event["type"] == "http.response.body":
                more = bool(event.get("more_body"))
                self.send(
                    {
                        "t": "http.body",
                        "id": request_id,
                        "body": event.get("body", b""),
                        "more": more,
                    }
                )
                await self.writer.drain()

        try:
            await response(scope, receive, send)
        finally:
            gone.set()
        return _SENT


_SENT: Any = object()


def _whole(request_id: int, response: Response) -> Message:
    return {
        "t": "http.response",
        "id": request_id,
        "status": response.status_code,
        "headers": [list(h) for h in response.raw_headers],
        "body": bytes(response.body),
    }


def _scope(message: Message, params: dict[str, Any], plugin: str) -> dict[str, Any]:
    client = message.get("client")
    server = message.get("server")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": message.get("http_version", "1.1"),
        "method": message["method"],
        "scheme": message.get("scheme", "http"),
        "path": message["full_path"],
        "raw_path": message["full_path"].encode(),
        "root_path": "",
        "query_string": message.get("query_string", b""),
        "headers": [(bytes(k), bytes(v)) for k, v in message.get("headers", [])],
        "client": tuple(client) if client else None,
        "server": tuple(server) if server else None,
        "path_params": params,
        "catalyst.plugin": plugin,
        "catalyst.principal": principal_of(message.get("user")),
    }


async def main(fd: int, sandbox: SandboxStatus) -> int:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Message | None] = asyncio.Queue()
    child: Child | None = None
    stopped: asyncio.Future[int] = loop.create_future()

    def on_message(message: Message) -> None:
        if child is None:  # the host's hello, awaited below
            inbox.put_nowait(message)
        elif not child.handle(message) and not stopped.done():
            stopped.set_result(0)

    def on_closed(exc: BaseException | None) -> None:
        inbox.put_nowait(None)
        if not stopped.done():
            stopped.set_result(EXIT_PROTOCOL if isinstance(exc, protocol.ProtocolError) else 0)

    _transport, link = await loop.create_unix_connection(
        lambda: protocol.FrameProtocol(on_message, on_closed), sock=socket.socket(fileno=fd)
    )
    hello = await inbox.get()
    if hello is None or hello.get("t") != "hello" or hello.get("protocol") != PROTOCOL_VERSION:
        return EXIT_PROTOCOL
    child = Child(link, hello, sandbox)
    child.send(
        {
            "t": "hello",
            "protocol": PROTOCOL_VERSION,
            "runtime": f"python/{sys.version_info.major}.{sys.version_info.minor}",
            "pid": os.getpid(),
            "sandbox": {
                "level": sandbox.level,
                "layers": sandbox.layers,
                "missing": sandbox.missing,
                "landlockAbi": sandbox.landlock_abi,
            },
        }
    )
    try:
        return await stopped
    finally:
        child.peer.closed()
        for task in list(child.tasks.values()):
            task.cancel()
        link.close()


#: Exit code of a child whose host broke the protocol (or spoke another version).
EXIT_PROTOCOL = 65
