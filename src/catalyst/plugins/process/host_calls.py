"""The ``ctx`` calls a plugin's child makes, served by the host.

Each call goes through the host's own :class:`~catalyst.plugins.context_core.ContextCore` for the
plugin, so it meets exactly the checks an in-process plugin meets: registration rules, the
plugin's granted permissions (``ctx.db``), its storage quota, config validation, "emit only your
own events". Registrations and sends are applied at once, in the order they arrive (so what a hook
registered is in place before the hook's answer is read); calls that wait on the database run in
their own task and are answered when done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final

from catalyst.errors import CatalystError
from catalyst.log import get_logger
from catalyst.plugins.logs import plugin_error
from catalyst.plugins.process.protocol import Message, error_body
from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.sdk.errors import HTTPError, PluginError, PluginPermissionError

log = get_logger("plugins.process")
_MISSING: Final[Any] = object()
#: Calls being served (a reference keeps each task alive until it is done).
_RUNNING: set[asyncio.Task[None]] = set()
#: What ``ctx.db`` offers, by table: the operations a child may ask for.
DB_OPS: Final = {
    "servers": frozenset({"find_many", "get", "count", "start", "stop"}),
    "users": frozenset({"find_many", "get", "count"}),
}


def serve(gen: ProcessGeneration, message: Message) -> None:
    method = message.get("method")
    args = message.get("args")
    call_id = message.get("id")
    if not isinstance(method, str) or not isinstance(args, dict):
        _answer_error(gen, call_id, ValueError("a call needs a method and an args map"))
        return
    sync = _SYNC.get(method)
    if sync is not None:
        try:
            value = sync(gen, args)
        except Exception as exc:  # noqa: BLE001 - refused: answered to the child, never raised
            if method == "register":
                gen.refused(f"{args.get('kind')} {args.get('url') or args.get('type') or ''}", exc)
            _answer_error(gen, call_id, exc)
            return
        if call_id is not None:
            gen.link.notify({"t": "result", "id": call_id, "value": value})
        return
    handler = _ASYNC.get(method)
    if handler is None:
        _answer_error(gen, call_id, ValueError(f"unknown call {method!r}"))
        return
    task = asyncio.ensure_future(_run(gen, call_id, handler(gen, args)))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def _run(gen: ProcessGeneration, call_id: Any, work: Awaitable[Any]) -> None:
    try:
        value = await work
    except Exception as exc:  # noqa: BLE001 - refused or failed: answered to the child
        _answer_error(gen, call_id, exc)
        return
    if call_id is not None:
        gen.link.notify({"t": "result", "id": call_id, "value": value})


def _answer_error(gen: ProcessGeneration, call_id: Any, exc: BaseException) -> None:
    if call_id is None:  # a send: nobody waits for the answer, the plugin's log says why
        plugin_error(gen.logger, "call refused", exc, level="warning")
        return
    status: int | None = None
    message = str(exc)
    if isinstance(exc, HTTPError | CatalystError):
        status, message = exc.status_code, exc.message
    if not isinstance(exc, CatalystError | PluginError):  # the host's own trouble: logged here,
        log.warning("plugin_call_failed", plugin=gen.name, error=str(exc), exc_info=exc)
    # never the host's traceback: it would show the host's code to the plugin
    gen.link.notify(
        {"t": "error", "id": call_id, "error": error_body(type(exc).__name__, message, status)}
    )


# -- registrations (applied in arrival order) -------------------------------------------------


def _register(gen: ProcessGeneration, args: dict[str, Any]) -> None:
    rid = int(args["rid"])
    kind = args.get("kind")
    core = gen.core
    if kind == "route":
        gen.remote[rid] = core.register_route(
            str(args["method"]),
            str(args["url"]),
            gen.route_proxy(),
            permission=args.get("permission"),
            public=bool(args.get("public")),
            max_body_bytes=args.get("max_body_bytes"),
            timeout=args.get("timeout"),
        )
    elif kind == "middleware":  # runs in the child; the host keeps its name, owned here
        gen.remote[rid] = core.register_middleware(gen.middleware_stub(str(args.get("label"))))
    elif kind == "ws":
        gen.remote[rid] = core.on_websocket_message(
            str(args["type"]), gen.ws_proxy(rid), permission=args.get("permission")
        )
    elif kind == "task":
        label = str(args.get("label") or args["id"])
        task_id = core.schedule_task(
            str(args["cron"]), gen.task_proxy(rid, label), name=str(args["id"])
        )
        gen.tasks[task_id].name = label

        def unschedule() -> None:
            spec = gen.tasks.pop(task_id, None)
            if spec is not None:
                gen.stop_task(spec)

        gen.remote[rid] = unschedule
    elif kind == "listener":
        every = args.get("everyInstance") is True
        gen.remote[rid] = core.on(str(args["event"]), gen.listener_proxy(rid), every_instance=every)
    else:
        raise ValueError(f"unknown registration kind {kind!r}")


def _unregister(gen: ProcessGeneration, args: dict[str, Any]) -> None:
    remove = gen.remote.pop(int(args["rid"]), None)
    if remove is not None:
        remove()


#: The message types the host itself sends to WebSocket clients, which the admin UI trusts.
HOST_MESSAGE_TYPES: Final = frozenset(
    {"welcome", "error", "pong", "auth", "plugins:updated", "plugin:log", "servers:updated"}
)


def _message(gen: ProcessGeneration, args: dict[str, Any]) -> dict[str, Any]:
    """The message a plugin sends, refused when it would speak as the host (a host type) or
    as another plugin (``plugin:<other>:...``)."""
    message = args.get("message")
    if not isinstance(message, dict):
        raise ValueError("a WebSocket message must be a map")
    kind = message.get("type")
    if (
        isinstance(kind, str)
        and not kind.startswith(f"plugin:{gen.name}:")
        and (kind in HOST_MESSAGE_TYPES or kind.startswith("plugin:") or kind.endswith(":updated"))
    ):
        raise PluginPermissionError(
            f"Plugin {gen.name!r} may not send WebSocket messages of type {kind!r}: it is the "
            f"host's or another plugin's (use 'plugin:{gen.name}:...')"
        )
    return message


def _send(gen: ProcessGeneration, args: dict[str, Any]) -> bool:
    return gen.core.send_websocket_message(str(args["client_id"]), _message(gen, args))


def _send_to_user(gen: ProcessGeneration, args: dict[str, Any]) -> int:
    return gen.core.send_to_user(int(args["user_id"]), _message(gen, args))


def _broadcast(gen: ProcessGeneration, args: dict[str, Any]) -> int:
    permission = args.get("permission")
    return gen.core.broadcast(_message(gen, args), permission if permission else None)


_SYNC: Final[dict[str, Callable[[ProcessGeneration, dict[str, Any]], Any]]] = {
    "register": _register,
    "unregister": _unregister,
    "ws.send": _send,
    "ws.send_to_user": _send_to_user,
    "ws.broadcast": _broadcast,
}

# -- calls that wait (each in its own task) ---------------------------------------------------


async def _emit(gen: ProcessGeneration, args: dict[str, Any]) -> None:
    await gen.core.emit(str(args["event"]), args.get("data"))


async def _set_config(gen: ProcessGeneration, args: dict[str, Any]) -> dict[str, Any]:
    changes = args.get("changes")
    if not isinstance(changes, dict):
        raise ValueError("config.set needs a changes map")
    result: dict[str, Any] = await gen.host.config.update(gen.name, changes)
    return result


async def _storage_get(gen: ProcessGeneration, args: dict[str, Any]) -> list[Any]:
    value = await gen.core.get_storage(str(args["key"]), _MISSING)
    return [False, None] if value is _MISSING else [True, value]


async def _storage_set(gen: ProcessGeneration, args: dict[str, Any]) -> None:
    await gen.core.set_storage(str(args["key"]), args.get("value"))


async def _storage_delete(gen: ProcessGeneration, args: dict[str, Any]) -> bool:
    return await gen.core.delete_storage(str(args["key"]))


async def _storage_list(gen: ProcessGeneration, args: dict[str, Any]) -> dict[str, Any]:
    return await gen.core.list_storage(str(args.get("prefix") or ""))


async def _storage_increment(gen: ProcessGeneration, args: dict[str, Any]) -> int | float:
    by = args.get("by", 1)
    if isinstance(by, bool) or not isinstance(by, int | float):
        raise ValueError("increment 'by' must be a number")
    return await gen.core.increment_storage(str(args["key"]), by)


async def _db(gen: ProcessGeneration, args: dict[str, Any]) -> Any:
    table, op = args.get("table"), args.get("op")
    if table not in DB_OPS or op not in DB_OPS[table]:
        raise ValueError(f"ctx.db has no {table}.{op}")
    target = getattr(gen.core.db, table)
    call_args = args.get("args") or []
    kwargs = args.get("kwargs") or {}
    if not isinstance(call_args, list) or not isinstance(kwargs, dict):
        raise ValueError("ctx.db call arguments must be a list and a map")
    return await getattr(target, op)(*call_args, **{str(k): v for k, v in kwargs.items()})


_ASYNC: Final[dict[str, Callable[[ProcessGeneration, dict[str, Any]], Awaitable[Any]]]] = {
    "emit": _emit,
    "config.set": _set_config,
    "storage.get": _storage_get,
    "storage.set": _storage_set,
    "storage.delete": _storage_delete,
    "storage.list": _storage_list,
    "storage.increment": _storage_increment,
    "db": _db,
}
