"""The ``ctx`` object each plugin receives: a sealed facade over its :class:`ContextCore`.

Each method that registers something pushes a disposer onto its generation's current scope (see
:mod:`catalyst.plugins.registrations`) and returns a callable that removes it early.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from catalyst.plugins.context_core import ContextCore, PluginHost, Sender, Unregister
from catalyst.plugins.dbfacade import PluginDb
from catalyst.plugins.logs import PluginLogger
from catalyst.plugins.manifest import PluginManifest
from catalyst.plugins.registrations import Registrations
from catalyst.plugins.routing import Handler, Middleware
from catalyst.plugins.sealing import HiddenSlot
from catalyst.plugins.ws_handlers import WsHandler

__all__ = ["ContextCore", "PluginContext", "PluginHost", "Sender", "Unregister"]


class PluginContext:
    """The plugin author's handle on the host (``docs/PLUGIN_DEVELOPMENT.md``). Sealed: besides
    name, version, manifest and logger, it holds its :class:`ContextCore` in a hidden slot
    (:mod:`catalyst.plugins.sealing`): no attribute path leads to the host or other plugins."""

    __slots__ = ("_core", "logger", "manifest", "name", "version")

    def __init__(
        self,
        instance: Registrations,
        manifest: PluginManifest,
        host: PluginHost,
        logger: PluginLogger,
    ) -> None:
        _CORE.set(self, ContextCore(instance, manifest, host, logger))
        self.name: str = instance.name
        self.version: str = manifest.version
        self.manifest = manifest
        self.logger = _CORE.get(self).logger

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
        return _CORE.get(self).register_route(
            method,
            url,
            handler,
            permission=permission,
            public=public,
            max_body_bytes=max_body_bytes,
            timeout=timeout,
        )

    def _decorator(self, method: str, url: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.register_route(method, url, handler, **options)
            return handler

        return register

    def get(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator: ``@ctx.get("/items/{id:int}")``."""
        return self._decorator("GET", url, **options)

    def post(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("POST", url, **options)

    def put(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("PUT", url, **options)

    def patch(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("PATCH", url, **options)

    def delete(self, url: str, **options: Any) -> Callable[[Handler], Handler]:
        return self._decorator("DELETE", url, **options)

    def register_middleware(self, middleware: Middleware) -> Unregister:
        return _CORE.get(self).register_middleware(middleware)

    def on_websocket_message(
        self, message_type: str, handler: WsHandler, *, permission: str | None = None
    ) -> Unregister:
        return _CORE.get(self).on_websocket_message(message_type, handler, permission=permission)

    def send_websocket_message(self, client_id: str, message: Mapping[str, Any]) -> bool:
        return _CORE.get(self).send_websocket_message(client_id, message)

    def send_to_user(self, user_id: int, message: Mapping[str, Any]) -> int:
        return _CORE.get(self).send_to_user(user_id, message)

    def broadcast(self, message: Mapping[str, Any], permission: str | None = None) -> int:
        return _CORE.get(self).broadcast(message, permission)

    def schedule_task(
        self,
        cron: str,
        handler: Callable[[], Awaitable[None] | None],
        *,
        name: str | None = None,
    ) -> str:
        return _CORE.get(self).schedule_task(cron, handler, name=name)

    def on(
        self, event: str, handler: Callable[..., Any], *, every_instance: bool = False
    ) -> Unregister:
        return _CORE.get(self).on(event, handler, every_instance=every_instance)

    async def emit(self, event: str, data: Any = None) -> None:
        await _CORE.get(self).emit(event, data)

    @property
    def config(self) -> dict[str, Any]:
        return _CORE.get(self).config

    def get_config(self, key: str, default: Any = None) -> Any:
        return _CORE.get(self).get_config(key, default)

    async def set_config(self, key: str, value: Any) -> None:
        await _CORE.get(self).set_config(key, value)

    async def get_storage(self, key: str, default: Any = None) -> Any:
        return await _CORE.get(self).get_storage(key, default)

    async def set_storage(self, key: str, value: Any) -> None:
        await _CORE.get(self).set_storage(key, value)

    async def delete_storage(self, key: str) -> bool:
        return await _CORE.get(self).delete_storage(key)

    async def list_storage(self, prefix: str = "") -> dict[str, Any]:
        return await _CORE.get(self).list_storage(prefix)

    async def increment_storage(self, key: str, by: int | float = 1) -> int | float:
        return await _CORE.get(self).increment_storage(key, by)

    @property
    def data_dir(self) -> Path:
        return _CORE.get(self).data_dir

    @property
    def db(self) -> PluginDb:
        return _CORE.get(self).db


_CORE: HiddenSlot[ContextCore] = HiddenSlot(PluginContext, "_core")
