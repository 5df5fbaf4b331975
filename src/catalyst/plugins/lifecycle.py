"""Calling plugin hooks safely, and the single writer of a plugin's state.

A hook may be sync or async. Async hooks run on the event loop under a timeout; sync hooks run
in a worker thread under the same timeout, so neither can stall the host. Any exception or a
timeout becomes :class:`HookFailed`, which the manager turns into the ``error`` state; it never
reaches the host's request handling.

"Any exception" includes ``BaseException``: a hook calling ``sys.exit()``, raising
``KeyboardInterrupt`` or a stray ``asyncio.CancelledError`` fails like any other hook. Only the
host's own cancellation (the current task is being cancelled) propagates.

A sync hook that times out keeps running in its thread (Python cannot stop a thread). Such a
thread is reported on the plugin (``overruns``) and logged, and logged again when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from catalyst.cancellation import host_cancelled
from catalyst.errors import describe, traceback_of
from catalyst.log import get_logger
from catalyst.plugins import executor
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.state import PluginState, check_transition

log = get_logger("plugins.lifecycle")
StateListener = Callable[[PluginRecord, PluginState, PluginState], Awaitable[None] | None]


class HookFailed(Exception):
    """A plugin hook raised or timed out. ``detail`` holds the traceback."""

    def __init__(self, plugin: str, hook: str, message: str, detail: str) -> None:
        super().__init__(f"{hook} failed: {message}")
        self.plugin = plugin
        self.hook = hook
        self.message = f"{hook} failed: {message}"
        self.detail = detail


class ThreadWatch:
    """Runs a sync callable and tells, after a timeout, whether its thread still runs.

    When a watched thread outlives its timeout, an entry is added to ``overruns`` (the plugin
    record's list) and removed when the thread finally ends; both moments are logged.
    """

    def __init__(self, plugin: str, what: str, fn: Callable[..., Any]) -> None:
        self.plugin = plugin
        self.what = what
        self.fn = fn
        self._lock = threading.Lock()
        self._done = False
        self._late: tuple[asyncio.AbstractEventLoop, list[dict[str, Any]], dict[str, Any]] | None
        self._late = None

    def __call__(self, *args: Any) -> Any:
        try:
            return self.fn(*args)
        finally:
            with self._lock:
                self._done = True
                late = self._late
            if late is not None:
                loop, overruns, entry = late
                with contextlib.suppress(RuntimeError):  # a closed loop: the host has stopped
                    loop.call_soon_threadsafe(self._ended, overruns, entry)

    def timed_out(self, overruns: list[dict[str, Any]] | None, timeout_s: float) -> None:
        """Called on timeout: report the thread if it has not ended."""
        entry = {"hook": self.what, "since": datetime.now(UTC).isoformat(), "timeoutS": timeout_s}
        with self._lock:
            if self._done:
                return
            self._late = (
                asyncio.get_running_loop(),
                overruns if overruns is not None else [],
                entry,
            )
        if overruns is not None:
            overruns.append(entry)
        log.warning(
            "hook thread still running after timeout",
            plugin=self.plugin,
            hook=self.what,
            timeout_s=timeout_s,
        )

    def _ended(self, overruns: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        if entry in overruns:
            overruns.remove(entry)
        log.warning("hook thread ended after its timeout", plugin=self.plugin, hook=self.what)


async def call_hook(
    plugin: str,
    hooks: dict[str, Callable[..., Any]],
    hook: str,
    *args: Any,
    timeout_s: float,
    overruns: list[dict[str, Any]] | None = None,
) -> None:
    """Run ``hook`` if the plugin defines it; raise :class:`HookFailed` on error or timeout.

    ``overruns`` is the plugin record's list of hook threads still running after their timeout.
    """
    fn = hooks.get(hook)
    if fn is None:
        return
    watch: ThreadWatch | None = None
    try:
        async with asyncio.timeout(timeout_s):
            if inspect.iscoroutinefunction(fn):
                await fn(*args)
            else:
                watch = ThreadWatch(plugin, hook, fn)
                result = await executor.run_hook(plugin, watch, *args)
                if inspect.isawaitable(result):
                    await result
    except TimeoutError as exc:
        if watch is not None:
            watch.timed_out(overruns, timeout_s)
        raise HookFailed(
            plugin, hook, f"timed out after {timeout_s:g} s", "".join(traceback.format_exc())
        ) from exc
    except BaseException as exc:  # the boundary where plugin code runs: contain everything
        if host_cancelled(exc):
            raise
        log.error("hook_failed", plugin=plugin, hook=hook, exc_info=exc)
        raise HookFailed(plugin, hook, describe(exc), traceback_of(exc)) from exc


async def set_state(
    record: PluginRecord,
    new: PluginState,
    listeners: list[StateListener],
    *,
    error: str | None = None,
    detail: str | None = None,
    dependency: bool = False,
) -> None:
    """The one writer of ``record.state``: checks the table, records the reason, tells listeners.

    Raises :class:`catalyst.errors.InvalidTransition` (409) and changes nothing when the table
    does not allow the move. ``dependency`` marks an error caused by an unmet dependency, which
    :mod:`catalyst.plugins.dependency_recheck` lifts again once the dependency is met.
    """
    old = record.state
    check_transition(record.name, old, new)
    object.__setattr__(record, "state", new)
    if new is PluginState.ERROR:
        record.error = error or "unknown error"
        record.error_detail = detail
        record.dependency_problem = record.error if dependency else None
    else:
        record.error = None
        record.error_detail = None
        record.dependency_problem = None
    for listener in listeners:
        try:
            result = listener(record, old, new)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a listener's failure must not undo or block a state change
            log.exception("state_listener_failed", plugin=record.name, state=new.value)
