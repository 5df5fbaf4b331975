"""What the scheduler keeps and reports about runs: this process's :class:`TaskStatus`, the
task's key in the cluster, and the :class:`Ledger` that claims fires and records runs for the
whole cluster (see :mod:`catalyst.plugins.scheduler` and :mod:`catalyst.plugins.task_ledger`)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Any, Final, Protocol

_KEY_MAX: Final = 300  # task_status.task_key


def task_key(owner: str | None, name: str) -> str:
    """The task's key in the cluster: ``"<owner or 'core'>:<name>"``, the same on every instance
    (a name too long for the database column ends in a hash of the whole key)."""
    key = f"{owner or 'core'}:{name}"
    if len(key) <= _KEY_MAX:
        return key
    return f"{key[: _KEY_MAX - 17]}~{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class Ledger(Protocol):
    """Where fires are claimed and runs recorded for the whole cluster: the
    :class:`~catalyst.plugins.task_ledger.TaskLedger`. Its methods contain their failures."""

    async def claim(self, task_key: str, fire_time: datetime) -> bool: ...
    async def started(self, task_key: str, plugin: str, name: str, at: datetime) -> None: ...
    async def finished(self, task_key: str, duration: float, error: str | None) -> None: ...
    async def aborted(self, task_key: str) -> None: ...
    async def skipped(self, task_key: str) -> None: ...
    async def running_elsewhere(self, task_key: str) -> str | None: ...
    async def forget_own_runs(self) -> None: ...
    async def statuses(self, plugin: str) -> dict[str, dict[str, Any]]: ...


@dataclasses.dataclass(slots=True)
class TaskStatus:
    """A snapshot of one task's state, as shown by the admin API."""

    id: str
    name: str
    cron: str
    owner: str | None
    next_run: datetime | None = None
    """The next fire time; None while the task is not scheduled (scheduler not started)."""
    last_run: datetime | None = None
    """When the latest run started."""
    last_duration: float | None = None
    """Seconds the latest finished run took (measured with a monotonic clock)."""
    last_error: str | None = None
    """``"Type: message"`` of the latest finished run's failure; None when it succeeded."""
    run_count: int = 0
    """Runs that finished, failed ones included."""
    skipped_count: int = 0
    claimed_elsewhere: int = 0
    """Cron fires this process did not run: another instance claimed them, the task was still
    running on another live instance (a skip, counted in the cluster's ``skipped_count``), or the
    database did not answer the claim."""
    error_count: int = 0
    repeat_count: int = 0
    """How many times the latest failure's error (same type, message, place) came before."""
    running: bool = False
