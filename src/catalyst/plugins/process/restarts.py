"""Bringing a process-runtime plugin back after its child ended without being asked to.

A crash (an exception at import aside: that is a load failure), an ``exit``, a signal, running out
of memory or being killed as unresponsive: the plugin goes to ``restarting``, its table is
withdrawn (requests answer 503 meanwhile; those in flight already got 502), everything the dead
generation registered is undone, and after a back-off (0.5 s, doubling, at most 30 s) a new child
is loaded and brought back to the state the plugin had. ``plugin_restart_max`` crashes within
``plugin_restart_window`` seconds put it in ``error`` instead, with the last exit's reason and
output. An admin may disable or unload it while it waits; the restart then does nothing.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from catalyst.log import get_logger
from catalyst.metrics import record_restart
from catalyst.plugins.codehash import code_hash_async
from catalyst.plugins.lifecycle import HookFailed
from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.plugins.process.status import ExitInfo
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.registry import PluginRegistry
from catalyst.plugins.state import PluginState

log = get_logger("plugins.process")
S = PluginState
FIRST_DELAY = 0.5
MAX_DELAY = 30.0


class Restarter:
    """Watches for children that end on their own and restarts their plugins."""

    def __init__(self, registry: PluginRegistry) -> None:
        self.registry = registry
        self._tasks: set[asyncio.Task[None]] = set()

    def exited(self, record: PluginRecord, gen: ProcessGeneration, info: ExitInfo) -> None:
        if record.instance is not gen or gen.retiring:
            return  # a generation being retired (reload, disable, unload): expected
        log.warning(
            "plugin_process_ended", plugin=record.name, reason=info.reason, tail=info.stderr_tail
        )
        task = asyncio.get_running_loop().create_task(self._restart(record, gen, info))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _restart(self, record: PluginRecord, gen: ProcessGeneration, info: ExitInfo) -> None:
        reg = self.registry
        async with record.lock:
            if record.instance is not gen or record.state not in (S.LOADED, S.ENABLED, S.DISABLED):
                return
            target = record.state
            record.crashes += 1
            record.last_exit = info
            now = time.monotonic()
            window = reg.runtime.restart_window
            record.crash_times.append(now)
            while record.crash_times and now - record.crash_times[0] > window:
                record.crash_times.popleft()
            recent = len(record.crash_times)
            reg.dispatcher.withdraw(record.name)
            record.instance = None
            await gen.retire()
            if recent >= reg.runtime.restart_max:
                await reg.set_state(
                    record,
                    S.ERROR,
                    error=(
                        f"its process ended {recent} times within {window:g} s; last: {info.reason}"
                    ),
                    detail=info.stderr_tail,
                )
                return
            record.restart_target = target
            await reg.set_state(record, S.RESTARTING)
        await asyncio.sleep(min(FIRST_DELAY * 2 ** (recent - 1), MAX_DELAY))
        async with record.lock:
            if _state(record) is not S.RESTARTING or record.instance is not None:
                return  # disabled, unloaded or brought back meanwhile
            record.restarts += 1
            record_restart(record.name)
            await self._bring_back(record, target)

    async def _bring_back(self, record: PluginRecord, target: PluginState) -> None:
        reg = self.registry
        digest = await code_hash_async(record.source.path)
        try:
            new = await reg.prepare(record)
        except HookFailed as exc:
            await reg.set_state(record, S.ERROR, error=exc.message, detail=exc.detail)
            return
        record.instance = new
        record.code_hash = digest
        if target is S.ENABLED:
            if not await reg.go_live(record, new):
                return
            record.enabled_at = datetime.now(UTC)
        record.loaded_at = datetime.now(UTC)
        await reg.set_state(record, target)
        log.info("plugin_process_restarted", plugin=record.name, state=target.value)


def _state(record: PluginRecord) -> PluginState:
    """The state now (it may have changed while we waited)."""
    return record.state
