"""Failing tasks log each distinct error once with its traceback, then only count it.

Two failures are the same error when type, message and the place it was raised match. The first
is logged with its traceback; repeats are counted and logged briefly (no traceback) at their 2nd,
4th, 8th… occurrence, so a task failing every ten seconds does not flood its log.
"""

from __future__ import annotations

import traceback
from typing import Final

import structlog

from catalyst.errors import describe
from catalyst.plugins.logs import plugin_error

KEPT: Final = 64  # distinct errors remembered per task


class DistinctErrors:
    """How many times each distinct error of one task was seen."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], int] = {}

    def seen(self, exc: BaseException) -> int:
        """Count ``exc``; returns how many times its error has now been seen."""
        frames = traceback.extract_tb(exc.__traceback__)
        place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        key = (type(exc).__name__, str(exc), place)
        if key not in self._seen and len(self._seen) >= KEPT:
            self._seen.clear()
        count = self._seen[key] = self._seen.get(key, 0) + 1
        return count


def report_failure(
    owner: str | None,
    task: str,
    exc: BaseException,
    seen: int,
    log: structlog.stdlib.BoundLogger,
    **fields: str,
) -> None:
    """Log the ``seen``-th occurrence of ``exc`` from ``task`` (see the module docstring)."""
    if seen & (seen - 1):  # not a power of two: counted only
        return
    first = seen == 1
    message = "task failed" if first else f"task failed again (the same error {seen} times)"
    log.error(message, exc_info=exc if first else None, times=seen, **fields)
    if owner is not None:  # and in the plugin's own log stream
        error = describe(exc)
        extra = {} if first else {"error": error}
        plugin_error(
            owner,
            f"task {task!r} " + message.removeprefix("task "),
            exc if first else None,
            host=False,
            task=task,
            times=seen,
            **extra,
            **fields,
        )
