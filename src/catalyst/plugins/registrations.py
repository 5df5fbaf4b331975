"""What one generation of a plugin registered, in two scopes, and the table it publishes.

Registrations made during ``on_load`` go to the *load scope* and live until the generation
retires; those made during ``on_enable`` or while live go to the *enable scope* and are undone on
disable, so re-enabling never duplicates them. Each scope undoes its registrations last-in
first-out. Nothing registered serves until :meth:`Registrations.activate`: routes and WebSocket
handlers only through the table it returns (which the dispatcher publishes), listeners only while
:attr:`live`, tasks only exist in the scheduler while live. Two generations of one plugin can
therefore coexist during a reload, and the swap is one ``deactivate``/``activate`` pair.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from catalyst.log import get_logger
from catalyst.plugins import executor
from catalyst.plugins.routing import Middleware, PluginTable, RouteSpec, build_table
from catalyst.plugins.scheduler import ScheduledTask, Scheduler, settle
from catalyst.plugins.ws_handlers import WsHandlerSpec
from catalyst.types import Disposer

log = get_logger("plugins.scope")


class Publisher(Protocol):
    """Where a live generation re-publishes its table when it registers something new."""

    def publish(self, table: PluginTable) -> None: ...

    def table(self, plugin: str) -> PluginTable | None:
        """The table ``plugin`` serves now (a retired generation hands late requests to it)."""
        ...


class Scope:
    """A last-in first-out stack of the disposers of what one phase registered."""

    def __init__(self, owner: str, name: str) -> None:
        self.owner = owner
        self.name = name
        self._entries: list[tuple[str, str, Disposer]] = []

    def push(self, kind: str, label: str, disposer: Disposer) -> None:
        self._entries.append((kind, label, disposer))

    async def close(self, each_timeout: float = 5.0) -> list[str]:
        """Run every disposer, newest first, each on its own; returns those that failed."""
        failed: list[str] = []
        while self._entries:
            kind, label, disposer = self._entries.pop()
            try:
                result = disposer()
                if inspect.isawaitable(result):
                    await asyncio.wait_for(result, each_timeout)
            except Exception:
                log.exception("disposer_failed", plugin=self.owner, kind=kind, label=label)
                failed.append(f"{kind}:{label}")
        return failed


@dataclass(eq=False)
class TaskSpec:
    """A task a plugin scheduled; ``live`` is its scheduler task while the plugin is live."""

    id: str
    name: str
    cron: str
    handler: Callable[[], Awaitable[None] | None]
    live: ScheduledTask | None = None


class Registrations:
    """Routes, middleware, WebSocket handlers, tasks and listeners of one generation."""

    def __init__(self, name: str, scheduler: Scheduler, publisher: Publisher) -> None:
        self.name = name
        self.routes: list[RouteSpec] = []
        self.middleware: list[Middleware] = []
        self.ws_handlers: dict[str, WsHandlerSpec] = {}
        self.tasks: dict[str, TaskSpec] = {}
        self.listeners = 0
        self.load_scope = Scope(name, "load")
        self.enable_scope = Scope(name, "enable")
        #: Where registrations go now: the load scope until ``on_enable`` begins.
        self.scope = self.load_scope
        #: Whether the ``http.public`` grant lets its public routes answer without a login.
        self.public = False
        self._scheduler = scheduler
        self._publisher = publisher
        self._table: PluginTable | None = None
        self._halted: list[asyncio.Task[None]] = []

    @property
    def live(self) -> bool:
        """Serving: its table is the one published for the plugin."""
        return self._table is not None

    def table(self) -> PluginTable:
        return build_table(
            self.name, self.routes, self.middleware, self.public, dict(self.ws_handlers)
        )

    def changed(self) -> None:
        """A route, middleware or WebSocket handler came or went: re-publish while live."""
        if self._table is not None:
            self._table = self.table()
            self._publisher.publish(self._table)

    def set_public(self, public: bool) -> None:
        if public != self.public:
            self.public = public
            self.changed()

    def begin_enable(self) -> None:
        """``on_enable`` is about to run: from now on registrations go to the enable scope."""
        self.scope = self.enable_scope

    # -- going live and back -----------------------------------------------------------------

    def activate(self) -> PluginTable:
        """Go live: start the tasks; returns the table the host publishes (HTTP and WS)."""
        self._table = self.table()
        for spec in self.tasks.values():
            self.start_task(spec)
        return self._table

    def deactivate(self) -> None:
        """Stop serving: no table, listeners ignore events, tasks stop firing. Runs in progress
        go on until :meth:`drain_tasks`."""
        self._table = None
        for spec in self.tasks.values():
            self._halt(spec)

    async def drain_tasks(self, grace: float) -> None:
        """Give task runs still going ``grace`` seconds to finish, then cancel them."""
        runs, self._halted = self._halted, []
        await settle(runs, grace)

    async def undo_all(self) -> list[str]:
        """Stop serving, cancel task runs nobody drained, and undo both scopes (enable, then
        load); returns the disposers that failed. A retiring generation's first step."""
        self.deactivate()
        await self.drain_tasks(0)
        failed = await self.enable_scope.close()
        failed += await self.load_scope.close()
        return failed

    async def close_enable_scope(self) -> list[str]:
        """Undo what was registered in ``on_enable`` or while live."""
        failed = await self.enable_scope.close()
        self.scope = self.load_scope
        return failed

    # -- tasks -------------------------------------------------------------------------------

    def start_task(self, spec: TaskSpec) -> None:
        if spec.live is not None:
            return
        sync, name = spec.handler, self.name

        async def threaded() -> None:  # a sync task runs in the plugin's pool, off the loop
            result = await executor.run_sync(name, sync)
            if inspect.isawaitable(result):
                await result

        handler = sync if inspect.iscoroutinefunction(sync) else threaded
        spec.live = self._scheduler.add(spec.cron, handler, name=spec.id, owner=self.name)

    def stop_task(self, spec: TaskSpec) -> None:
        """The plugin removed the task: stop it now (a run in progress is cancelled)."""
        if spec.live is not None:
            spec.live.dispose()
            spec.live = None

    def _halt(self, spec: TaskSpec) -> None:
        if spec.live is not None:
            run = spec.live.halt()
            if run is not None:
                self._halted.append(run)
            spec.live = None

    def counts(self) -> dict[str, int]:
        return {
            "routes": len(self.routes),
            "middleware": len(self.middleware),
            "wsHandlers": len(self.ws_handlers),
            "tasks": len(self.tasks),
            "listeners": self.listeners,
        }
