"""Whose ``CancelledError`` is it? The host's own cancellation must propagate; one raised by plugin
code (a stray ``raise CancelledError``, a handler cancelling itself) is that plugin's failure."""

from __future__ import annotations

import asyncio


def host_cancelled(exc: BaseException) -> bool:
    """True when ``exc`` is a ``CancelledError`` and the current task is being cancelled (by the
    host: shutdown, a timeout, a client leaving), not one plugin code raised by itself."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0
