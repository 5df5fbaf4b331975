"""The host as a plugin's child process sees it: the same ``ctx``, with every capability a
message to the real host.

The child builds the very :class:`catalyst.plugins.context.PluginContext` an in-process plugin
gets, over a :class:`ChildRegistrations` and a :class:`PluginHost` whose parts are proxies. So
validation, error messages, task ids and handler shapes are the in-process runtime's own; what
changes is where a registration ends up: each one is announced to the host (``register``), which
validates it again, owns it, and calls back into the child when it fires.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from catalyst.plugins.logs import LogBuffer, PluginLogger
from catalyst.plugins.process.protocol import Message, RemoteError
from catalyst.plugins.registrations import Registrations, TaskSpec
from catalyst.plugins.routing import PluginTable, RouteSpec
from catalyst.plugins.storage import StorageError
from catalyst.plugins.ws_handlers import WsHandlerSpec
from catalyst.sdk.errors import ConfigError, HTTPError, PluginPermissionError, RegistrationError

Send = Callable[[Message], None]


class Peer:
    """The child's end of the connection: notifications, and calls awaiting the host's reply."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}

    def notify(self, method: str, args: Mapping[str, Any]) -> None:
        self.send({"t": "call", "method": method, "args": args})

    async def call(self, method: str, args: Mapping[str, Any]) -> Any:
        call_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = fut
        try:
            self.send({"t": "call", "id": call_id, "method": method, "args": args})
            return await fut
        finally:
            self._pending.pop(call_id, None)

    def answered(self, message: Message) -> None:
        fut = self._pending.get(message.get("id", -1))
        if fut is None or fut.done():
            return
        if message["t"] == "result":
            fut.set_result(message.get("value"))
        else:
            fut.set_exception(local_error(message.get("error") or {}))

    def closed(self) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("the host closed the connection"))


def local_error(body: Mapping[str, Any]) -> Exception:
    """The host's refusal of a ctx call, as the exception an in-process plugin would get."""
    kind, message = str(body.get("type") or "Error"), str(body.get("message") or "")
    status = body.get("status")
    if kind == "HTTPError" and isinstance(status, int):
        return HTTPError(status, message)
    known: dict[str, Callable[[str], Exception]] = {
        "ConfigError": ConfigError,
        "ConfigValidationError": ConfigError,
        "PluginPermissionError": PluginPermissionError,
        "RegistrationError": RegistrationError,
        "StorageError": StorageError,
    }
    if kind in known:
        return known[kind](message)
    return RemoteError(kind, message, status=status if isinstance(status, int) else None)


class ChildRegistrations(Registrations):
    """What the plugin registered, kept in the child (to call it) and announced to the host
    (which owns it). Always "live" here: the host decides when anything fires."""

    def __init__(self, name: str, peer: Peer) -> None:
        super().__init__(name, None, None)  # type: ignore[arg-type]  # never scheduled here
        self._peer = peer
        self._rids = itertools.count(1)
        #: id(object) → (object, rid) for each route, middleware and WS handler announced.
        self._sent: dict[int, tuple[object, int]] = {}
        #: The same for tasks, announced as they are scheduled (not by :meth:`changed`).
        self._tasks_sent: dict[int, tuple[object, int]] = {}
        self.local: PluginTable = self.table()
        self.handlers: dict[int, Callable[..., Any]] = {}
        self.ws_by_rid: dict[int, WsHandlerSpec] = {}

    @property
    def live(self) -> bool:
        return True

    def changed(self) -> None:
        """Announce what came and went since the last change; rebuild the local table."""
        current: dict[int, object] = {id(r): r for r in self.routes}
        current.update({id(m): m for m in self.middleware})
        current.update({id(s): s for s in self.ws_handlers.values()})
        for key in [k for k in self._sent if k not in current]:
            _obj, rid = self._sent.pop(key)
            self.ws_by_rid.pop(rid, None)
            self._peer.notify("unregister", {"rid": rid})
        for route in self.routes:
            if id(route) not in self._sent:
                self._announce(route, "route", _route_args(route))
        for mw in self.middleware:
            if id(mw) not in self._sent:
                label = str(getattr(mw, "__name__", "middleware"))
                self._announce(mw, "middleware", {"label": label})
        for kind, spec in self.ws_handlers.items():
            if id(spec) not in self._sent:
                rid = self._announce(spec, "ws", {"type": kind, "permission": spec.permission})
                self.ws_by_rid[rid] = spec
        self.local = self.table()

    def _announce(self, obj: object, kind: str, args: dict[str, Any]) -> int:
        rid = next(self._rids)
        self._sent[id(obj)] = (obj, rid)
        self._peer.notify("register", {"rid": rid, "kind": kind, **args})
        return rid

    def start_task(self, spec: TaskSpec) -> None:
        rid = next(self._rids)
        self._tasks_sent[id(spec)] = (spec, rid)
        self.handlers[rid] = spec.handler
        args = {"rid": rid, "kind": "task", "cron": spec.cron, "id": spec.id, "label": spec.name}
        self._peer.notify("register", args)

    def stop_task(self, spec: TaskSpec) -> None:
        entry = self._tasks_sent.pop(id(spec), None)
        if entry is not None:
            self.handlers.pop(entry[1], None)
            self._peer.notify("unregister", {"rid": entry[1]})

    def listen(
        self, event: str, handler: Callable[[str, Any], Awaitable[None]], every_instance: bool
    ) -> Callable[[], None]:
        rid = next(self._rids)
        self.handlers[rid] = handler
        args: dict[str, Any] = {"rid": rid, "kind": "listener", "event": event}
        if every_instance:
            args["everyInstance"] = True
        self._peer.notify("register", args)

        def dispose() -> None:
            if self.handlers.pop(rid, None) is not None:
                self._peer.notify("unregister", {"rid": rid})

        return dispose


def _route_args(route: RouteSpec) -> dict[str, Any]:
    return {
        "method": route.method,
        "url": route.url,
        "permission": route.permission,
        "public": route.public,
        "max_body_bytes": route.max_body_bytes,
        "timeout": route.timeout,
    }


class _Subscription:
    def __init__(self, dispose: Callable[[], None]) -> None:
        self.dispose = dispose


class RemoteBus:
    """``host.bus`` for :class:`ContextCore`: subscriptions and emits go to the host."""

    def __init__(self, regs: ChildRegistrations, peer: Peer) -> None:
        self._regs, self._peer = regs, peer

    def subscribe(
        self,
        pattern: str,
        handler: Callable[[str, Any], Awaitable[None]],
        owner: str,
        every_instance: bool = False,
    ) -> _Subscription:
        return _Subscription(self._regs.listen(pattern, handler, every_instance))

    async def emit(self, event: str, data: Any = None, source: str = "") -> None:
        await self._peer.call("emit", {"event": event, "data": data})


class RemoteSender:
    """``host.sender``: messages are handed to the host, which delivers them. The answer is
    what can be known without waiting: True (or 1) once handed over."""

    def __init__(self, peer: Peer) -> None:
        self._peer = peer

    def send(self, client_id: str, message: Mapping[str, Any]) -> bool:
        self._peer.notify("ws.send", {"client_id": client_id, "message": message})
        return True

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int:
        self._peer.notify("ws.send_to_user", {"user_id": user_id, "message": message})
        return 1

    def broadcast(self, message: Mapping[str, Any], permission: str | None = None) -> int:
        self._peer.notify("ws.broadcast", {"message": message, "permission": permission})
        return 1


class RemoteConfig:
    """``host.config``: effective values cached from the host's pushes; saves go to the host."""

    def __init__(self, peer: Peer, values: dict[str, Any]) -> None:
        self._peer = peer
        self.values = values

    def effective(self, name: str) -> dict[str, Any]:
        return dict(self.values)

    async def update(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._peer.call("config.set", {"changes": changes})
        return result


class RemoteStorage:
    """``ctx`` storage calls, each one served by the host."""

    def __init__(self, peer: Peer) -> None:
        self._peer = peer

    async def get(self, key: str, default: Any = None) -> Any:
        found, value = await self._peer.call("storage.get", {"key": key})
        return value if found else default

    async def set(self, key: str, value: Any) -> None:
        await self._peer.call("storage.set", {"key": key, "value": value})

    async def delete(self, key: str) -> bool:
        return bool(await self._peer.call("storage.delete", {"key": key}))

    async def list(self, prefix: str = "") -> dict[str, Any]:
        result: dict[str, Any] = await self._peer.call("storage.list", {"prefix": prefix})
        return result

    async def increment(self, key: str, by: int | float = 1) -> int | float:
        result: int | float = await self._peer.call("storage.increment", {"key": key, "by": by})
        return result


class _RemoteTable:
    def __init__(self, peer: Peer, table: str) -> None:
        self._peer, self._table = peer, table

    def __getattr__(self, op: str) -> Callable[..., Awaitable[Any]]:
        if op.startswith("_"):
            raise AttributeError(op)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._peer.call(
                "db", {"table": self._table, "op": op, "args": list(args), "kwargs": kwargs}
            )

        return call


class RemoteDb:
    """``ctx.db``: each call is made by the host after its permission check."""

    def __init__(self, peer: Peer) -> None:
        self.servers = _RemoteTable(peer, "servers")
        self.users = _RemoteTable(peer, "users")


class ChildLogger(PluginLogger):
    """``ctx.logger`` in the child: every record goes to the host, which keeps and shows it."""

    def __init__(self, plugin: str, peer: Peer) -> None:
        super().__init__(plugin, LogBuffer(keep=1))
        self._peer = peer

    def _emit(self, level: str, message: str, fields: dict[str, Any]) -> None:
        record = self.buffer.add(level, str(message), fields)  # clipped and made JSON-able
        self._peer.send(
            {"t": "log", "level": level, "message": record["message"], "fields": record["fields"]}
        )
