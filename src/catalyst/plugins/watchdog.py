"""The loop-stall watchdog: notices when the event loop stops answering, and names the culprit.

A daemon thread schedules a no-op on the event loop every :data:`INTERVAL` seconds and waits for
it to run. When it has not run after ``threshold`` seconds, the loop is stalled: something running
on it is blocking (``time.sleep`` or heavy work in an ``async def``). The thread then looks at the
loop thread's current Python stack (``sys._current_frames``): the frames of plugin modules (they
live under ``_catalyst_plugins.<generation>``, see :mod:`catalyst.plugins.loader`) name the plugin
and the function, and the label the host keeps for the running asyncio task (:func:`doing`) says
what kind of callable it is (route, task, listener, ws, hook) and which one. When the loop answers
again, the stall and its duration are reported on the loop: host log, the plugin's log stream, and
the plugin's record (``stalls`` in the admin API's plugin detail).

This is an in-process safety net: it cannot stop a blocking handler, only report it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final

from catalyst.log import get_logger
from catalyst.plugins.loader import ROOT, plugin_of_module
from catalyst.plugins.logs import plugin_error
from catalyst.sdk.hooks import HOOKS

log = get_logger("plugins.watchdog")
INTERVAL: Final = 0.05  # seconds between two pings of a loop that answers
KEEP: Final = 20  # stalls kept per plugin

#: asyncio task → (plugin, kind, name) of the plugin callable it is running.
_doing: dict[asyncio.Task[Any], tuple[str, str, str]] = {}


class doing:
    """Label the current asyncio task as running ``plugin``'s ``kind`` callable ``name``
    (``with doing(plugin, kind, name): ...``); the label it had before comes back after."""

    __slots__ = ("_before", "_label", "_task")

    def __init__(self, plugin: str, kind: str, name: str) -> None:
        self._label = (plugin, kind, name)
        self._task: asyncio.Task[Any] | None = None
        self._before: tuple[str, str, str] | None = None

    def __enter__(self) -> None:
        task = self._task = asyncio.current_task()
        if task is not None:
            self._before = _doing.get(task)
            _doing[task] = self._label

    def __exit__(self, *_exc: object) -> None:
        task = self._task
        if task is None:
            return
        if self._before is None:
            _doing.pop(task, None)
        else:
            _doing[task] = self._before


@dataclass(frozen=True, slots=True)
class Stall:
    at: float  # wall-clock time the stall began
    duration: float  # seconds the loop did not answer
    plugin: str | None
    kind: str | None
    name: str | None
    function: str | None  # "handler (backend/plugin.py:12)": where the loop was blocked

    def describe(self) -> str:
        what = " ".join(x for x in (self.kind, repr(self.name) if self.name else None) if x)
        where = f" in {self.function}" if self.function else ""
        return f"{what or 'plugin code'}{where} blocked the event loop for {self.duration:.2f} s"


def _location(frame: FrameType) -> str:
    code = frame.f_code
    module = str(frame.f_globals.get("__name__", ""))
    parts = module.split(".", 2)
    file = parts[2].replace(".", "/") + ".py" if len(parts) == 3 else code.co_filename
    return f"{code.co_name} ({file}:{frame.f_lineno})"


def attribute(
    frame: FrameType | None, label: tuple[str, str, str] | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """(plugin, kind, name, function) for a loop blocked in ``frame``."""
    outermost: FrameType | None = None
    innermost: FrameType | None = None
    plugin: str | None = None
    top = frame
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(ROOT + "."):
            owner = plugin_of_module(module)
            if owner is not None and (plugin is None or owner == plugin):
                plugin = owner
                innermost = innermost or frame
                outermost = frame
        frame = frame.f_back
    if plugin is None:  # host code (or a plugin's label without its frames): say where
        where = None
        if top is not None:
            where = f"{top.f_globals.get('__name__', '?')}.{top.f_code.co_name}:{top.f_lineno}"
        if label is None:
            return None, None, None, where
        return (*label, where)
    assert innermost is not None
    assert outermost is not None
    function = _location(innermost)
    if outermost is not innermost:
        function = f"{outermost.f_code.co_name} → {function}"
    if label is not None and label[0] == plugin:
        return plugin, label[1], label[2], function
    handler = outermost.f_code.co_name
    return plugin, "hook" if handler in HOOKS else None, handler, function


class Watchdog:
    """Pings the running loop from a thread; reports stalls over ``threshold`` seconds."""

    def __init__(self, threshold: float, report: Callable[[Stall], None]) -> None:
        self.threshold: Final = threshold
        self._report = report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0

    def start(self) -> None:
        """Watch the running loop (call from the loop's thread)."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._thread = threading.Thread(target=self._run, name="loop-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread = None

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        while not self._stop.wait(INTERVAL):
            answered = threading.Event()
            sent, wall = time.monotonic(), time.time()
            try:
                loop.call_soon_threadsafe(answered.set)
            except RuntimeError:  # the loop is closed
                return
            if answered.wait(self.threshold):
                continue
            found = self._sample()
            while not answered.wait(INTERVAL):
                if self._stop.is_set():
                    return
                if found[0] is None:  # nothing named yet: look again
                    found = self._sample()
            stall = Stall(wall, time.monotonic() - sent, *found)
            try:
                loop.call_soon_threadsafe(self._report, stall)
            except RuntimeError:
                return

    def _sample(self) -> tuple[str | None, str | None, str | None, str | None]:
        loop = self._loop
        assert loop is not None
        frame = sys._current_frames().get(self._loop_thread)
        task = asyncio.current_task(loop)
        label = _doing.get(task) if task is not None else None
        return attribute(frame, label)


def reporter(records: Callable[[str], Any]) -> Callable[[Stall], None]:
    """Report a stall: host log, and the plugin's log stream and record (``records(name)``)."""

    def report(stall: Stall) -> None:
        if stall.plugin is None:
            log.warning(
                "event loop stalled",
                duration_ms=round(stall.duration * 1000),
                where=stall.function,
            )
            return
        record = records(stall.plugin)
        if record is not None:
            record.stalls.append(stall)
        plugin_error(
            stall.plugin,
            stall.describe(),
            level="warning",
            stall_ms=round(stall.duration * 1000),
            kind=stall.kind,
            name=stall.name,
            function=stall.function,
        )

    return report
