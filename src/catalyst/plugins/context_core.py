"""What a plugin's ``ctx`` does: every capability, each registration owned.

Plugin code never holds this object: :class:`catalyst.plugins.context.PluginContext` keeps it in a
hidden slot and forwards each call.

Each method that registers something pushes a disposer onto its generation's current scope (see
:mod:`catalyst.plugins.registrations`) and returns a callable that removes it early.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final

from catalyst.auth.permissions import has_permission
from catalyst.events.names import validate_event_name, validate_pattern
from catalyst.plugins import executor, watchdog
from catalyst.plugins.cron import CronSchedule
from catalyst.plugins.dbfacade import PluginDb
from catalyst.plugins.host import PluginHost, Sender
from catalyst.plugins.logcall import PluginLogAdapter
from catalyst.plugins.logs import PluginLogger
from catalyst.plugins.manifest import PluginManifest
from catalyst.plugins.registrations import Registrations, TaskSpec
from catalyst.plugins.routing import (
    Handler,
    Middleware,
    RouteSpec,
    check_timeout,
    validate_route,
)
from catalyst.plugins.ws_handlers import WsHandler, WsHandlerSpec
from catalyst.sdk.errors import PluginPermissionError, RegistrationError
from catalyst.types import Unregister

__all__ = ["BROADCAST", "ContextCore", "PluginHost", "Sender", "Unregister"]

#: ``ctx.send_websocket_message(BROADCAST, message)`` sends to every client.
BROADCAST = "*"
#: Core events carry what ``ctx.db`` gates: a listener hears them only with the same permission.
CORE_EVENT_PERMISSIONS: Final = {"server": "server.read", "user": "user.read"}


def _arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 2
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class ContextCore:
    """What a plugin's ctx does, with the host objects it needs. Never handed to plugin code:
    :class:`PluginContext` holds it in a hidden slot and forwards each call."""

    def __init__(
        self,
        instance: Registrations,
        manifest: PluginManifest,
        host: PluginHost,
        logger: PluginLogger,
    ) -> None:
        self._instance = instance
        self._host = host
        self.name: str = instance.name
        self.manifest = manifest
        self.version: str = manifest.version
        self.logger = PluginLogAdapter(logger)  # every call shape, never raising
        self._storage = host.storage(self.name)
        self._db: PluginDb | None = None

    # -- HTTP --------------------------------------------------------------------------------

    def register_route(
        self,
        method: str,
        url: str,
        handler: Handler,
        *,
        permission: str | None = None,
        public: bool = False,
        max_body_bytes: int | None = None,
        timeout: float | None = None,
    ) -> Unregister:
        """Serve ``handler`` at ``/api/plugins/<name><url>``; returns a function that removes it.

        ``timeout``: seconds before the request is answered 504 (default: the host's setting)."""
        inst = self._instance
        m = validate_route(self.name, method, url, handler)
        if max_body_bytes is not None and (
            not isinstance(max_body_bytes, int)
            or isinstance(max_body_bytes, bool)
            or max_body_bytes < 0
        ):
            raise RegistrationError(f"Plugin {self.name!r}: max_body_bytes must be an int >= 0")
        timeout = check_timeout(self.name, m, url, timeout)
        if public and "http.public" not in self.manifest.permissions:
            raise RegistrationError(
                f"Plugin {self.name!r}: public route {m} {url} needs 'http.public' declared "
                "in plugin.json permissions"
            )
        if any(r.method == m and r.url == url for r in inst.routes):
            raise RegistrationError(f"Plugin {self.name!r}: route {m} {url} is already registered")
        spec = RouteSpec(
            m, url, handler, permission, public, max_body_bytes=max_body_bytes, timeout=timeout
        )
        inst.routes.append(spec)
        inst.changed()

        def remove() -> None:
            if spec in inst.routes:
                inst.routes.remove(spec)
                inst.changed()

        inst.scope.push("route", f"{m} {url}", remove)
        return remove

    def register_middleware(self, middleware: Middleware) -> Unregister:
        """Wrap this plugin's own routes: ``async def mw(request, call_next) -> response``."""
        if not callable(middleware):
            raise RegistrationError(f"Plugin {self.name!r}: middleware is not callable")
        inst = self._instance
        inst.middleware.append(middleware)
        inst.changed()

        def remove() -> None:
            if middleware in inst.middleware:
                inst.middleware.remove(middleware)
                inst.changed()

        inst.scope.push("middleware", getattr(middleware, "__name__", "middleware"), remove)
        return remove

    # -- WebSocket ---------------------------------------------------------------------------

    def on_websocket_message(
        self, message_type: str, handler: WsHandler, *, permission: str | None = None
    ) -> Unregister:
        """Handle ``plugin:<name>:<message_type>`` as ``handler(data, client_id[, client])``.

        With ``permission``, a caller whose user lacks it gets an error message instead.
        """
        if not isinstance(message_type, str) or not message_type or ":" in message_type:
            raise RegistrationError(
                f"Plugin {self.name!r}: WebSocket message type {message_type!r} must be a "
                "non-empty string without ':'"
            )
        if not callable(handler):
            raise RegistrationError(f"Plugin {self.name!r}: WebSocket handler is not callable")
        if permission is not None and (
            not isinstance(permission, str) or not permission or permission != permission.strip()
        ):
            raise RegistrationError(
                f"Plugin {self.name!r}: WebSocket permission {permission!r} must be a "
                "permission name such as 'server.read'"
            )
        inst = self._instance
        if message_type in inst.ws_handlers:
            raise RegistrationError(
                f"Plugin {self.name!r}: WebSocket type {message_type!r} already has a handler"
            )
        spec = WsHandlerSpec(handler, permission)
        inst.ws_handlers[message_type] = spec
        inst.changed()

        def remove() -> None:
            if inst.ws_handlers.get(message_type) is spec:
                del inst.ws_handlers[message_type]
                inst.changed()

        inst.scope.push("ws", message_type, remove)
        return remove

    def send_websocket_message(self, client_id: str, message: Mapping[str, Any]) -> bool:
        """Queue ``message`` for one connected client; False when it is not connected.

        ``client_id == "*"`` (the original's broadcast idiom) queues it for every client: True
        when at least one client is connected.
        """
        if client_id == BROADCAST:
            return self._host.sender.broadcast(message) > 0
        return self._host.sender.send(client_id, message)

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int:
        """Queue ``message`` for every connection of a user; returns how many."""
        return self._host.sender.send_to_user(user_id, message)

    def broadcast(self, message: Mapping[str, Any], permission: str | None = None) -> int:
        """Queue ``message`` for every client (whose user holds ``permission``, when given)."""
        return self._host.sender.broadcast(message, permission)

    # -- tasks -------------------------------------------------------------------------------

    def schedule_task(
        self,
        cron: str,
        handler: Callable[[], Awaitable[None] | None],
        *,
        name: str | None = None,
    ) -> str:
        """Run ``handler`` on a cron schedule while the plugin is enabled; returns the task id."""
        try:
            CronSchedule(cron)  # the scheduler's own parser: seconds first, must ever fire
        except (TypeError, ValueError) as exc:
            raise RegistrationError(f"Plugin {self.name!r}: {exc}") from exc
        if not callable(handler):
            raise RegistrationError(f"Plugin {self.name!r}: task handler is not callable")
        inst = self._instance
        label: str = name or str(getattr(handler, "__name__", "task"))
        task_id = label
        n = 2
        while task_id in inst.tasks:
            if name is not None:
                raise RegistrationError(f"Plugin {self.name!r}: task name {name!r} is taken")
            task_id, n = f"{label}-{n}", n + 1
        spec = TaskSpec(task_id, label, cron, handler)
        inst.tasks[task_id] = spec
        if inst.live:
            inst.start_task(spec)

        def remove() -> None:
            if inst.tasks.get(task_id) is spec:
                del inst.tasks[task_id]
                inst.stop_task(spec)

        inst.scope.push("task", task_id, remove)
        return task_id

    # -- events ------------------------------------------------------------------------------

    def on(
        self, event: str, handler: Callable[..., Any], *, every_instance: bool = False
    ) -> Unregister:
        """Call ``handler(data)`` (or ``handler(data, event)``) for events matching ``event``:
        those emitted on this instance, and with ``every_instance`` on any instance."""
        try:
            validate_pattern(event)
        except ValueError as exc:
            raise RegistrationError(f"Plugin {self.name!r}: {exc}") from exc
        if not callable(handler):
            raise RegistrationError(f"Plugin {self.name!r}: listener is not callable")
        if not isinstance(every_instance, bool):
            raise RegistrationError(f"Plugin {self.name!r}: every_instance must be True or False")
        inst = self._instance
        two = _arity(handler) >= 2

        is_async = inspect.iscoroutinefunction(handler)

        async def gated(name: str, data: Any) -> None:
            if not inst.live:
                return
            need = CORE_EVENT_PERMISSIONS.get(name.partition(":")[0])
            if need is not None and not has_permission(self._host.granted(self.name), need):
                return  # a core event carrying data the plugin may not read
            args = (data, name) if two else (data,)
            if not is_async:  # a sync listener runs in the plugin's thread pool
                result = await executor.run_sync(self.name, handler, *args)
            else:
                with watchdog.doing(self.name, "listener", event):  # names it in a loop stall
                    result = await handler(*args)
            if inspect.isawaitable(result):
                await result

        sub = self._host.bus.subscribe(event, gated, owner=self.name, every_instance=every_instance)
        inst.listeners += 1
        disposed = False

        def remove() -> None:
            nonlocal disposed
            if not disposed:
                disposed = True
                sub.dispose()
                inst.listeners -= 1

        inst.scope.push("listener", event, remove)
        return remove

    async def emit(self, event: str, data: Any = None) -> None:
        """Emit ``<name>:<event>``; a plugin may only emit its own events."""
        full = event if ":" in event else f"{self.name}:{event}"
        if not full.startswith(self.name + ":"):
            raise PluginPermissionError(
                f"Plugin {self.name!r} may only emit its own events ('{self.name}:...'), "
                f"not {event!r}"
            )
        validate_event_name(full)
        await self._host.bus.emit(full, data, source=self.name)

    # -- config ------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """Every config value: saved values over the manifest defaults."""
        return self._host.config.effective(self.name)

    def get_config(self, key: str, default: Any = None) -> Any:
        """The saved value of ``key``, else its schema default, else ``default``."""
        value = self._host.config.effective(self.name).get(key)
        return default if value is None else value

    async def set_config(self, key: str, value: Any) -> None:
        """Validate against the schema and save; raises ConfigError when refused."""
        await self._host.config.update(self.name, {key: value})

    # -- storage -----------------------------------------------------------------------------

    async def get_storage(self, key: str, default: Any = None) -> Any:
        return await self._storage.get(key, default)

    async def set_storage(self, key: str, value: Any) -> None:
        await self._storage.set(key, value)

    async def delete_storage(self, key: str) -> bool:
        return await self._storage.delete(key)

    async def list_storage(self, prefix: str = "") -> dict[str, Any]:
        return await self._storage.list(prefix)

    async def increment_storage(self, key: str, by: int | float = 1) -> int | float:
        return await self._storage.increment(key, by)

    # -- files -------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The plugin's own folder for files, created on first use; kept across reloads and
        restarts. In the process runtime it is the only place the plugin may write."""
        folder = self._host.data_dir(self.name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- database ----------------------------------------------------------------------------

    @property
    def db(self) -> PluginDb:
        """Core data, gated by the plugin's granted permissions."""
        if self._db is None:
            self._db = self._host.db(self.name)
        return self._db
