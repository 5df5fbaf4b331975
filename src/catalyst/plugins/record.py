"""What the host knows of one plugin across its generations: source, state, errors, grants."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.generation import Generation
from catalyst.plugins.logs import LogBuffer
from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.plugins.process.status import ExitInfo, RuntimeStatus
from catalyst.plugins.state import PluginState
from catalyst.plugins.watchdog import Stall

#: A loaded generation of either runtime.
AnyGeneration = Generation | ProcessGeneration


@dataclass(eq=False)
class PluginRecord:
    """One plugin. ``state`` is read-only here: only ``lifecycle.set_state`` writes it."""

    name: str
    source: PluginSource
    state: PluginState = PluginState.DISCOVERED
    error: str | None = None
    error_detail: str | None = None
    reload_error: dict[str, Any] | None = None
    #: Set while the plugin is held in ``error`` by an unmet dependency (the message).
    dependency_problem: str | None = None
    #: The last exit hook that failed although the move went on (``on_disable``): shown, kept
    #: until the next enable.
    hook_error: dict[str, Any] | None = None
    #: Sync hook threads still running after their timeout: ``{hook, since, timeoutS}``.
    overruns: list[dict[str, Any]] = field(default_factory=list)
    loaded_at: datetime | None = None
    #: The code version of the loaded generation: the hash of the folder it was imported from
    #: (:mod:`catalyst.plugins.codehash`); None while nothing is loaded.
    code_hash: str | None = None
    enabled_at: datetime | None = None
    installed_at: datetime | None = None
    wants_enabled: bool = False
    granted: frozenset[str] = frozenset()
    #: The loaded generation (None when unloaded, or for a plugin without a backend).
    instance: AnyGeneration | None = None
    logs: LogBuffer = field(default_factory=LogBuffer)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: The latest event-loop stalls the watchdog blamed on this plugin (newest last).
    stalls: deque[Stall] = field(default_factory=lambda: deque(maxlen=20))
    #: Process runtime: how often its child ended on its own (all, and recent monotonic times),
    #: how often it was restarted, the last exit, and the state a pending restart returns to.
    crashes: int = 0
    crash_times: deque[float] = field(default_factory=deque)
    restarts: int = 0
    last_exit: ExitInfo | None = None
    restart_target: PluginState | None = None
    _writable: bool = field(default=True, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_writable", False)

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "state" and not self._writable:
            raise AttributeError(
                "PluginRecord.state cannot be set directly; use lifecycle.set_state"
            )
        object.__setattr__(self, key, value)

    def runtime_status(self) -> RuntimeStatus:
        """The runtime, its child process, restarts and sandbox, for the admin API."""
        gen = self.instance
        if isinstance(gen, ProcessGeneration):
            rss, cpu = gen.link.usage()
            return RuntimeStatus(
                runtime="process",
                pid=gen.link.pid if gen.link.alive else None,
                memory_bytes=rss,
                cpu_seconds=cpu,
                memory_limit_mb=gen.memory_mb,
                restarts=self.restarts,
                crashes=self.crashes,
                last_exit=self.last_exit,
                sandbox=gen.sandbox_status(),
            )
        if isinstance(gen, Generation):
            return RuntimeStatus(runtime="inprocess", restarts=self.restarts, crashes=self.crashes)
        manifest = self.source.manifest
        return RuntimeStatus(
            runtime=manifest.runtime if manifest else "process",
            memory_limit_mb=manifest.limits.memory_mb if manifest else None,
            restarts=self.restarts,
            crashes=self.crashes,
            last_exit=self.last_exit,
        )

    @property
    def enabled(self) -> bool:
        return self.state is PluginState.ENABLED
