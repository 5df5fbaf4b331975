"""The ``ctx`` a plugin receives, as a Protocol: one method per capability, each documented.

The host's implementation is ``catalyst.plugins.context.PluginContext``; a test keeps the two in
step and checks that each method is documented in ``docs/PLUGIN_DEVELOPMENT.md`` and tested.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from catalyst.auth.permissions import has_permission
from catalyst.sdk.request import Request

Handler = Callable[..., Any]
Middleware = Callable[[Request, Callable[[Request], Awaitable[Any]]], Awaitable[Any]]
Unregister = Callable[[], None]


class Logger(Protocol):
    """``ctx.logger``: ``info("message", key=value)``, and the stdlib and pino call shapes:
    ``info("x=%s", x)``, ``info("Received event:", data)``, ``error({"error": e}, "msg")``,
    ``error("msg", exc_info=True)``, ``info("msg", extra={...})``. A log call never raises."""

    def trace(self, *args: Any, **fields: Any) -> None: ...
    def debug(self, *args: Any, **fields: Any) -> None: ...
    def info(self, *args: Any, **fields: Any) -> None: ...
    def warning(self, *args: Any, **fields: Any) -> None: ...
    def warn(self, *args: Any, **fields: Any) -> None: ...
    def error(self, *args: Any, **fields: Any) -> None: ...
    def exception(self, *args: Any, **fields: Any) -> None: ...
    def critical(self, *args: Any, **fields: Any) -> None: ...
    def fatal(self, *args: Any, **fields: Any) -> None: ...
    def log(self, level: int | str, *args: Any, **fields: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class WebSocketClient:
    """Who sent a WebSocket message: the connection and its logged-in user.

    A handler ``handler(data, client_id, client)`` (or with a keyword parameter ``client``)
    receives it; ``ctx.send_websocket_message(client.id, ...)`` answers that connection.
    """

    id: str
    user_id: int
    username: str
    roles: tuple[str, ...]
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        """True when the user holds ``permission`` (wildcard grants count)."""
        return has_permission(self.permissions, permission)


class ServersAccess(Protocol):
    async def find_many(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]: ...
    async def get(self, server_id: int) -> dict[str, Any] | None: ...
    async def count(self, *, status: str | None = None) -> int: ...
    async def start(self, server_id: int) -> dict[str, Any]: ...
    async def stop(self, server_id: int) -> dict[str, Any]: ...


class UsersAccess(Protocol):
    async def find_many(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]: ...
    async def get(self, user_id: int) -> dict[str, Any] | None: ...
    async def count(self) -> int: ...


class Database(Protocol):
    servers: ServersAccess
    users: UsersAccess


class PluginContext(Protocol):
    """Everything a plugin can do. Registrations are owned by the plugin (see the docs)."""

    name: str
    version: str
    logger: Logger

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
        """Serve ``handler`` at ``/api/plugins/<name><url>``; ``timeout`` in seconds (504 after)."""
        ...

    def get(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator for a GET route; options as for ``register_route``."""
        ...

    def post(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator for a POST route."""
        ...

    def put(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator for a PUT route."""
        ...

    def patch(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator for a PATCH route."""
        ...

    def delete(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator for a DELETE route."""
        ...

    def register_middleware(self, middleware: Middleware) -> Unregister:
        """Wrap this plugin's own routes with ``middleware(request, call_next)``."""
        ...

    def on_websocket_message(
        self, message_type: str, handler: Handler, *, permission: str | None = None
    ) -> Unregister:
        """Handle WebSocket messages of type ``plugin:<name>:<message_type>`` as
        ``handler(data, client_id)`` or ``handler(data, client_id, client)``; with
        ``permission``, callers lacking it get an error message instead."""
        ...

    def send_websocket_message(self, client_id: str, message: Mapping[str, Any]) -> bool:
        """Send ``message`` to one connected client; ``"*"`` sends it to every client."""
        ...

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int:
        """Send ``message`` to every connection of one user."""
        ...

    def broadcast(self, message: Mapping[str, Any], permission: str | None = None) -> int:
        """Send ``message`` to every client, or to those whose user holds ``permission``."""
        ...

    def schedule_task(
        self, cron: str, handler: Callable[[], Awaitable[None] | None], *, name: str | None = None
    ) -> str:
        """Run ``handler`` on a cron schedule while enabled; returns the task id."""
        ...

    def on(self, event: str, handler: Handler, *, every_instance: bool = False) -> Unregister:
        """Listen to events matching ``event`` (``server:started``, ``server:*``, ``*``).

        An event reaches a listener once in the cluster, on the instance where it was emitted;
        with ``every_instance=True`` it reaches this listener on every instance (for caches)."""
        ...

    async def emit(self, event: str, data: Any = None) -> None:
        """Emit this plugin's event ``<name>:<event>``."""
        ...

    @property
    def config(self) -> dict[str, Any]:
        """All config values (saved values over defaults)."""
        ...

    def get_config(self, key: str, default: Any = None) -> Any:
        """One config value: the saved value, else the schema default."""
        ...

    async def set_config(self, key: str, value: Any) -> None:
        """Validate and save one config value."""
        ...

    async def get_storage(self, key: str, default: Any = None) -> Any:
        """A stored JSON value, or ``default``."""
        ...

    async def set_storage(self, key: str, value: Any) -> None:
        """Store a JSON value (at most 1 MiB; the plugin's quota applies)."""
        ...

    async def delete_storage(self, key: str) -> bool:
        """Delete a key; True when it existed."""
        ...

    async def list_storage(self, prefix: str = "") -> dict[str, Any]:
        """Every key starting with ``prefix``, with its value."""
        ...

    async def increment_storage(self, key: str, by: int | float = 1) -> int | float:
        """Atomically add ``by`` to a numeric value (missing = 0); returns the new value."""
        ...

    @property
    def data_dir(self) -> Path:
        """The plugin's own folder for files (``data/plugins/<name>/``), kept across reloads;
        in the process runtime the only place it may write."""
        ...

    @property
    def db(self) -> Database:
        """Core data, gated by the plugin's granted permissions."""
        ...
