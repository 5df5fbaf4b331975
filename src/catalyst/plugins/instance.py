"""One loaded generation of a plugin: its module, hooks, registrations and ledgers.

Registrations made during ``on_load`` live until the generation is released; those made during
``on_enable`` or while live go to the enable ledger and are released on disable, so re-enabling
never duplicates them. Everything a generation registered is *inactive* until :meth:`activate`:
routes are served only from a table the manager publishes, listeners and WebSocket handlers check
``active``, and tasks only exist in the scheduler while active. Two generations of one plugin can
therefore coexist during a reload, and the swap is one activate/deactivate pair.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from catalyst.plugins import executor
from catalyst.plugins.ledger import Ledger
from catalyst.plugins.loader import LoadedCode
from catalyst.plugins.routing import Middleware, RouteSpec
from catalyst.sdk.hooks import HOOKS

if TYPE_CHECKING:
    from catalyst.plugins.context import PluginContext
    from catalyst.plugins.scheduler import ScheduledTask, Scheduler

Phase = Literal["load", "enable"]
WsHandler = Callable[..., Any]


@dataclass(eq=False)
class TaskSpec:
    """A task a plugin scheduled; ``live`` is its scheduler task while the plugin is active."""

    id: str
    name: str
    cron: str
    handler: Callable[[], Awaitable[None] | None]
    live: ScheduledTask | None = None


def resolve_hooks(module: types.ModuleType) -> dict[str, Callable[..., Any]]:
    """Hooks from a ``plugin`` object (or class, instantiated) or from module-level functions."""
    source: Any = module
    obj = getattr(module, "plugin", None)
    if obj is not None:
        source = obj() if inspect.isclass(obj) else obj
    return {name: fn for name in HOOKS if callable(fn := getattr(source, name, None))}


@dataclass(eq=False)
class PluginInstance:
    name: str
    code: LoadedCode
    module: types.ModuleType
    hooks: dict[str, Callable[..., Any]]
    generation: int
    routes: list[RouteSpec] = field(default_factory=list)
    middleware: list[Middleware] = field(default_factory=list)
    ws_handlers: dict[str, WsHandler] = field(default_factory=dict)
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    listener_count: int = 0
    phase: Phase = "load"
    active: bool = False
    on_routes_changed: Callable[[PluginInstance], None] | None = None
    scheduler: Scheduler | None = None
    ctx: PluginContext | None = None

    def __post_init__(self) -> None:
        self.load_ledger = Ledger(self.name, "load")
        self.enable_ledger = Ledger(self.name, "enable")
        self.activation = Ledger(self.name, "activation")
        self._released = False
        executor.acquire(self.name)  # this generation's sync code runs in the plugin's pool

    def ledger(self) -> Ledger:
        return self.enable_ledger if self.phase == "enable" else self.load_ledger

    def routes_changed(self) -> None:
        if self.active and self.on_routes_changed is not None:
            self.on_routes_changed(self)

    # -- tasks -------------------------------------------------------------------------------

    def start_task(self, spec: TaskSpec) -> None:
        if self.scheduler is None or spec.live is not None:
            return
        sync, name = spec.handler, self.name

        async def threaded() -> None:  # a sync task runs in the plugin's pool, off the loop
            result = await executor.run_sync(name, sync)
            if inspect.isawaitable(result):
                await result

        handler = sync if inspect.iscoroutinefunction(sync) else threaded
        spec.live = self.scheduler.add(spec.cron, handler, name=spec.id, owner=self.name)

    @staticmethod
    def stop_task(spec: TaskSpec) -> None:
        if spec.live is not None:
            spec.live.dispose()
            spec.live = None

    # -- activation --------------------------------------------------------------------------

    def activate(self) -> None:
        """Go live: start tasks; the caller publishes the route table."""
        self.active = True
        for spec in self.tasks.values():
            self.start_task(spec)

    def deactivate(self) -> None:
        """Stop serving: stop tasks; listeners and WebSocket handlers check ``active``."""
        self.active = False
        for spec in self.tasks.values():
            self.stop_task(spec)

    async def release_enabled(self) -> list[str]:
        """Drop what was registered in ``on_enable`` or while live."""
        failed = await self.enable_ledger.dispose()
        self.phase = "load"
        return failed

    async def release_all(self) -> list[str]:
        """Drop everything and forget the code of this generation."""
        self.deactivate()
        failed = await self.enable_ledger.dispose()
        failed += await self.load_ledger.dispose()
        self.code.forget()
        if not self._released:
            self._released = True
            executor.release(self.name)
        return failed

    def counts(self) -> dict[str, int]:
        return {
            "routes": len(self.routes),
            "middleware": len(self.middleware),
            "wsHandlers": len(self.ws_handlers),
            "tasks": len(self.tasks),
            "listeners": self.listener_count,
        }
