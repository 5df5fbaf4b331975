"""One loaded version of a plugin: its code and hooks, its ``ctx``, and all it registered.

A :class:`Generation` is born when the plugin's code is imported and dies when it retires
(disable and unload, a reload replacing it, or the plugin's removal). Everything it registered is
kept in its two scopes (see :mod:`catalyst.plugins.registrations`); :meth:`Generation.activate`
returns the one table the host publishes for the plugin, covering HTTP and WebSocket.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

from catalyst.plugins import executor
from catalyst.plugins.context import PluginContext
from catalyst.plugins.loader import LoadedCode
from catalyst.plugins.registrations import Publisher, Registrations
from catalyst.plugins.scheduler import Scheduler
from catalyst.sdk.hooks import HOOKS


def resolve_hooks(module: types.ModuleType) -> dict[str, Callable[..., Any]]:
    """Hooks from a ``plugin`` object (or class, instantiated) or from module-level functions."""
    source: Any = module
    obj = getattr(module, "plugin", None)
    if obj is not None:
        source = obj() if inspect.isclass(obj) else obj
    return {name: fn for name in HOOKS if callable(fn := getattr(source, name, None))}


class Generation(Registrations):
    """One imported version of a plugin and everything it registered."""

    def __init__(
        self,
        name: str,
        code: LoadedCode,
        module: types.ModuleType,
        hooks: dict[str, Callable[..., Any]],
        *,
        scheduler: Scheduler,
        publisher: Publisher,
    ) -> None:
        super().__init__(name, scheduler, publisher)
        self.code = code
        self.module = module
        self.hooks = hooks
        #: Set right after construction: the ctx's core registers into this generation.
        self.ctx: PluginContext | None = None
        self._retired = False
        executor.acquire(name)  # this generation's sync code runs in the plugin's pool

    async def retire(self) -> list[str]:
        """Undo everything (enable scope, then load scope) and forget this generation's code;
        returns the disposers that failed. Task runs nobody drained are cancelled."""
        failed = await self.undo_all()
        self.code.forget()
        if not self._retired:
            self._retired = True
            executor.release(self.name)
        return failed
