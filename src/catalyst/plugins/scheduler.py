"""Cron-scheduled tasks: one asyncio loop per task, runs that never overlap, contained failures.

Cron expressions are described in :mod:`catalyst.plugins.cron` (five fields, or six with the
seconds first; UTC); a malformed one is a ``ValueError`` from ``Scheduler.add``.

Running
    - Each task has an id unique within its scheduler (``<owner or 'core'>:<name slug>:<n>``), so
      two tasks with the same expression never collide.
    - Each task's loop sleeps on the injected ``Clock`` until the next fire time, then starts the
      handler as its own asyncio task and goes straight back to sleep. A run never overlaps the
      previous one: a fire time (or ``run_now``) that finds the handler still running is skipped
      and counted in ``skipped_count``. Fire times missed while the process was suspended are not
      made up: one run happens, and the schedule continues from the current time.
    - A handler's exception is recorded (``last_error``, ``error_count``) and logged (for a
      plugin's task, into the plugin's own log stream too) with its traceback once per distinct
      error (type, message and place); the same error again is counted (``repeat_count``) and
      logged without traceback at its 2nd, 4th, 8th… time. The schedule goes on.
    - A sync handler runs inline on the event loop and must be quick. A plugin's sync task is
      handed over wrapped so that it runs in the plugin's thread pool (see
      :meth:`catalyst.plugins.registrations.Registrations.start_task`).
    - ``start_now()`` starts a run and returns it without waiting (409 when one is running).
    - ``ScheduledTask.dispose()`` cancels the loop and a running handler and removes the task;
      ``await task.aclose(grace)`` also waits up to ``grace`` seconds for them to finish and logs
      a handler that does not. ``halt()`` stops firing but lets a run in progress go on, and
      ``settle(runs, grace)`` then waits for it (a disabled plugin's tasks get that grace).
      ``Scheduler.stop(grace)`` stops every loop and lets running
      handlers finish for up to ``grace`` seconds before cancelling them; ``start()`` resumes.

Several instances (a cluster)
    Every instance runs every plugin, so each schedules the same tasks. With a ledger
    (:class:`~catalyst.plugins.task_ledger.TaskLedger`, which ``Services`` always gives), each
    fire time of each task runs on exactly one instance: before a fire the loop claims
    ``(task key, fire time)`` in the database (the key is ``"<owner or 'core'>:<name>"``, the
    same on every instance), and only the instance whose claim inserted the row runs it. A run
    never overlaps the previous one in the whole cluster: the winner skips the fire (and counts
    it) while the task still runs on another instance that is alive. If the instance holding a
    run is killed, the fires after its heartbeat stops run elsewhere (alive: seen within three
    heartbeats). Run-now runs on the instance that got the request, once; it is refused (409)
    while the task runs on another live instance. The status of every run (last run, duration,
    last error, run, skipped and error counts) is written to the database, the same from every
    instance and kept across restarts; ``TaskStatus`` keeps this process's view (``running``,
    ``next_run``, ``claimed_elsewhere``). Status writes run in the background, in order for each
    task; a run's asyncio task (``start_now()``) ends once its status is saved, the next run may
    start before that, and ``Scheduler.written(owner)`` waits for them (this instance reads its
    own runs). A database that does not answer means a fire is not run (the schedule goes on)
    and a status write is lost (the run goes on), each logged once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import itertools
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime
from time import perf_counter
from typing import Any, Final, TypeAlias, final

import structlog

from catalyst.cancellation import host_cancelled
from catalyst.clock import Clock, SystemClock
from catalyst.errors import InvalidTransition, describe
from catalyst.log import get_logger
from catalyst.metrics import record_task
from catalyst.plugins import watchdog
from catalyst.plugins.cron import CronSchedule
from catalyst.plugins.task_errors import DistinctErrors, report_failure
from catalyst.plugins.task_runs import Ledger, TaskStatus, task_key

TaskHandler: TypeAlias = Callable[[], Awaitable[None] | None]

_CANCEL_GRACE: Final = 1.0  # seconds a cancelled handler gets to finish before it is reported


@final
class ScheduledTask:
    """One scheduled handler. Made by ``Scheduler.add``."""

    def __init__(
        self,
        scheduler: Scheduler,
        task_id: str,
        schedule: CronSchedule,
        handler: TaskHandler,
        name: str,
        owner: str | None,
    ) -> None:
        self.id: Final = task_id
        self.name: Final = name
        self.owner: Final = owner
        self.key: Final = task_key(owner, name)
        self.schedule: Final = schedule
        self._handler = handler
        self._scheduler = scheduler
        self._log = scheduler._log.bind(task=task_id, owner=owner, cron=schedule.expr)
        self._status = TaskStatus(id=task_id, name=name, cron=schedule.expr, owner=owner)
        self._loop: asyncio.Task[None] | None = None
        self._run: asyncio.Task[None] | None = None
        self._disposed = False
        self._errors = DistinctErrors()
        self._last_write: asyncio.Task[None] | None = None

    @property
    def status(self) -> TaskStatus:
        """A copy of the current status."""
        return dataclasses.replace(self._status, running=self._run is not None)

    @property
    def disposed(self) -> bool:
        return self._disposed

    async def run_now(self) -> None:
        """Run the handler now and wait for it; if it is already running, count a skip instead.

        The handler's failure is recorded, not raised. If the caller is cancelled, the run goes on.
        """
        if self._disposed:
            raise InvalidTransition(f"task {self.id!r}", "run", "disposed", ["scheduled"])
        run = self._fire("manual")
        if run is not None:
            await asyncio.wait([run])

    def start_now(self) -> asyncio.Task[None]:
        """Start a run now and return it, without waiting for it to finish.

        Refused (409, naming the state) when the task is disposed or a run is still going."""
        if self._disposed:
            raise InvalidTransition(f"task {self.name!r}", "run", "disposed", ["scheduled"])
        if self._run is not None:
            raise InvalidTransition(f"task {self.name!r}", "run", "running", ["idle"])
        run = self._fire("manual")
        assert run is not None
        return run

    async def running_elsewhere(self) -> str | None:
        """The other live instance of the cluster running this task now, if any."""
        ledger = self._scheduler.ledger
        return await ledger.running_elsewhere(self.key) if ledger is not None else None

    def dispose(self) -> None:
        """Cancel the loop and a running handler and remove the task. Idempotent."""
        if self._disposed:
            return
        self._disposed = True
        self._scheduler._tasks.pop(self.id, None)
        self._stop_loop()
        if self._run is not None:
            self._run.cancel()

    def halt(self) -> asyncio.Task[None] | None:
        """Stop firing and remove the task, letting a run in progress go on; returns that run
        (see :func:`settle`)."""
        run = self._run
        self._disposed = True
        self._scheduler._tasks.pop(self.id, None)
        self._stop_loop()
        return run

    async def aclose(self, grace: float = 5.0) -> None:
        """``dispose()``, then give the cancelled handler ``grace`` seconds to finish, or log it."""
        pending = [t for t in (self._loop, self._run) if t is not None]
        self.dispose()
        await _reap(pending, grace, self._log)

    def __repr__(self) -> str:
        return f"<ScheduledTask {self.id} {self.schedule.expr!r}>"

    def _start_loop(self) -> None:
        if self._loop is None and not self._disposed:
            self._loop = asyncio.create_task(self._schedule(), name=f"schedule {self.id}")

    def _stop_loop(self) -> asyncio.Task[None] | None:
        loop, self._loop = self._loop, None
        self._status.next_run = None
        if loop is not None:
            loop.cancel()
        return loop

    async def _schedule(self) -> None:
        clock = self._scheduler.clock
        after = clock.now()
        try:
            while True:
                when = self._status.next_run = self.schedule.next_after(after)
                await clock.sleep_until(when)
                if await self._scheduler.claim(self.key, when):
                    self._fire("cron")
                else:
                    self._status.claimed_elsewhere += 1
                after = max(when, clock.now())
        except Exception:  # noqa: BLE001 - a broken clock: report it rather than die silently
            self._status.next_run = None
            self._log.exception("task schedule loop crashed; the task no longer runs")

    def _fire(self, trigger: str) -> asyncio.Task[None] | None:
        if self._run is not None:
            self._status.skipped_count += 1
            self._log.warning("task skipped: the previous run is still going", trigger=trigger)
            if (ledger := self._scheduler.ledger) is not None:
                self._write(ledger.skipped(self.key))
            return None
        self._status.last_run = self._scheduler.clock.now()
        self._run = asyncio.create_task(self._execute(trigger), name=f"run {self.id}")
        return self._run

    async def _execute(self, trigger: str) -> None:
        status, ledger = self._status, self._scheduler.ledger
        began, written = perf_counter(), None
        if ledger is not None and status.last_run is not None:
            owner = self.owner or "core"
            self._write(ledger.started(self.key, owner, self.name, status.last_run))
        try:
            try:
                with watchdog.doing(self.owner or "core", "task", self.name):
                    result = self._handler()
                    if inspect.isawaitable(result):
                        await result
            except BaseException as exc:  # plugin code: contain, log and record
                # sys.exit() or KeyboardInterrupt in a task must not stop the host (it did);
                # only the host's own cancellation of this run goes on.
                if host_cancelled(exc):
                    if ledger is not None:
                        self._write(ledger.aborted(self.key))
                    raise
                status.last_error = describe(exc)
                status.error_count += 1
                self._report(exc, trigger)
            else:
                status.last_error = None
            status.last_duration = perf_counter() - began
            status.run_count += 1
            record_task(self.owner, self.name, status.last_duration, status.last_error is not None)
            if ledger is not None:
                done = ledger.finished(self.key, status.last_duration, status.last_error)
                written = self._write(done)
        finally:
            if self._run is asyncio.current_task():
                self._run = None
        if written is not None:  # the next run may start; this one ends once its status is saved
            await asyncio.shield(written)

    def _write(self, write: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Write to the ledger in the background, after this task's previous write."""
        self._last_write = self._scheduler._record(_after(self._last_write, write))
        return self._last_write

    def _report(self, exc: BaseException, trigger: str) -> None:
        seen = self._errors.seen(exc)
        self._status.repeat_count = seen - 1
        report_failure(self.owner, self.name, exc, seen, self._log, trigger=trigger)


async def _reap(
    tasks: Iterable[asyncio.Task[None]], grace: float, log: structlog.stdlib.BoundLogger
) -> None:
    """Wait up to ``grace`` seconds for ``tasks``; log the ones still going."""
    waiting = [t for t in tasks if not t.done()]
    if not waiting:
        return
    _, pending = await asyncio.wait(waiting, timeout=grace)
    for task in pending:
        log.warning("task did not stop in time", asyncio_task=task.get_name(), grace=grace)


async def settle(runs: Iterable[asyncio.Task[None]], grace: float) -> None:
    """Give task ``runs`` ``grace`` seconds to finish, then cancel those still going."""
    waiting = [run for run in runs if not run.done()]
    if not waiting:
        return
    _, pending = await asyncio.wait(waiting, timeout=grace)
    for run in pending:
        run.cancel()
    await _reap(pending, _CANCEL_GRACE, get_logger("scheduler"))


#: ``claim(task_key, fire_time) -> bool``: may this instance run this fire?
Claim = Callable[[str, datetime], Awaitable[bool]]


async def _always(_key: str, _when: datetime) -> bool:
    return True


async def _after(first: asyncio.Task[None] | None, then: Awaitable[None]) -> None:
    """Await ``then`` once ``first`` is done: a task's status writes land in order."""
    if first is not None:
        await asyncio.wait([first])
    await then


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "task"


@final
class Scheduler:
    """Runs cron-scheduled handlers on an injectable clock; see the module docstring."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        logger: structlog.stdlib.BoundLogger | None = None,
        claim: Claim | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.clock: Final[Clock] = clock if clock is not None else SystemClock()
        #: Claims fires and records runs for the cluster (see the module docstring); None: this
        #: process alone, its status in memory only.
        self.ledger: Final = ledger
        #: Asked before each cron fire whether this instance runs it (several instances share
        #: the schedule; the ledger's claim answers True on exactly one). Run-now is never asked.
        self.claim: Claim = (
            claim if claim is not None else ledger.claim if ledger is not None else _always
        )
        self._log = logger if logger is not None else get_logger("scheduler")
        self._tasks: dict[str, ScheduledTask] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        self._started = False

    @property
    def started(self) -> bool:
        return self._started

    def add(
        self,
        cron: str,
        handler: TaskHandler,
        *,
        name: str | None = None,
        owner: str | None = None,
    ) -> ScheduledTask:
        """Schedule ``handler()`` on ``cron``; it first runs after ``start()`` if not started."""
        schedule = CronSchedule(cron)
        if not callable(handler):
            raise TypeError(f"handler for cron {cron!r} must be callable, not {handler!r}")
        label = name if name is not None else schedule.expr
        task_id = f"{owner or 'core'}:{_slug(name or '')}:{next(self._numbers)}"
        task = ScheduledTask(self, task_id, schedule, handler, label, owner)
        self._tasks[task_id] = task
        if self._started:
            task._start_loop()
        return task

    async def start(self) -> None:
        """Start the loops of every task (and of tasks added later)."""
        self._started = True
        if self.ledger is not None:
            await self.ledger.forget_own_runs()
        for task in self._tasks.values():
            task._start_loop()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the loops; give running handlers ``grace`` seconds to finish, then cancel them."""
        self._started = False
        loops = [loop for task in self._tasks.values() if (loop := task._stop_loop())]
        if loops:
            await asyncio.wait(loops)
        await settle([task._run for task in self._tasks.values() if task._run is not None], grace)
        if self._writes:  # the status of the runs that just ended (bounded: the database may hang)
            await asyncio.wait(list(self._writes), timeout=grace + _CANCEL_GRACE)

    async def written(self, owner: str | None = None, grace: float = 2.0) -> None:
        """Wait up to ``grace`` seconds for the ledger writes made so far by ``owner``'s tasks
        (every task's when None), so that this instance reads its own runs' status."""
        writes = [t._last_write for t in self.tasks(owner) if t._last_write is not None]
        if pending := [w for w in writes if not w.done()]:
            await asyncio.wait(pending, timeout=grace)

    def _record(self, write: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a ledger write in the background; :meth:`stop` waits for it."""
        task = asyncio.create_task(write, name="task ledger write")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return task

    def tasks(self, owner: str | None = None) -> list[ScheduledTask]:
        """Tasks in the order they were added; only ``owner``'s when given."""
        return [t for t in self._tasks.values() if owner is None or t.owner == owner]

    def get(self, task_id: str) -> ScheduledTask | None:
        return self._tasks.get(task_id)
