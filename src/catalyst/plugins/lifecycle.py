"""Calling plugin hooks safely, and the single writer of a plugin's state.

A hook may be sync or async. Async hooks run on the event loop under a timeout; sync hooks run
in a worker thread under the same timeout, so neither can stall the host. Any exception or a
timeout becomes :class:`HookFailed`, which the manager turns into the ``error`` state; it never
reaches the host's request handling.
"""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

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


async def call_hook(
    plugin: str,
    hooks: dict[str, Callable[..., Any]],
    hook: str,
    *args: Any,
    timeout_s: float,
) -> None:
    """Run ``hook`` if the plugin defines it; raise :class:`HookFailed` on error or timeout."""
    fn = hooks.get(hook)
    if fn is None:
        return
    try:
        async with asyncio.timeout(timeout_s):
            if inspect.iscoroutinefunction(fn):
                await fn(*args)
            else:
                result = await executor.run_sync(plugin, fn, *args)
                if inspect.isawaitable(result):
                    await result
    except TimeoutError as exc:
        raise HookFailed(
            plugin, hook, f"timed out after {timeout_s:g} s", "".join(traceback.format_exc())
        ) from exc
    except Exception as exc:  # the boundary where plugin code runs: contain everything
        log.exception("hook_failed", plugin=plugin, hook=hook)
        raise HookFailed(
            plugin, hook, f"{type(exc).__name__}: {exc}", traceback.format_exc()
        ) from exc


async def set_state(
    record: PluginRecord,
    new: PluginState,
    listeners: list[StateListener],
    *,
    error: str | None = None,
    detail: str | None = None,
) -> None:
    """The one writer of ``record.state``: checks the table, records the reason, tells listeners.

    Raises :class:`catalyst.errors.InvalidTransition` (409) and changes nothing when the table
    does not allow the move.
    """
    old = record.state
    check_transition(record.name, old, new)
    object.__setattr__(record, "state", new)
    if new is PluginState.ERROR:
        record.error = error or "unknown error"
        record.error_detail = detail
    else:
        record.error = None
        record.error_detail = None
    for listener in listeners:
        try:
            result = listener(record, old, new)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a listener's failure must not undo or block a state change
            log.exception("state_listener_failed", plugin=record.name, state=new.value)
