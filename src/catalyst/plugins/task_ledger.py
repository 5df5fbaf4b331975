"""The cluster's record of cron fires and task runs, kept in the database.

Several instances of the host run every plugin, so each schedules the same tasks. The
:class:`~catalyst.plugins.scheduler.Scheduler` asks the ledger before each cron fire
(:meth:`TaskLedger.claim`) and tells it about every run (:meth:`~TaskLedger.started`,
:meth:`~TaskLedger.finished`, :meth:`~TaskLedger.skipped`).

Claims
    A claim inserts ``(task_key, fire_time)`` into ``task_claims`` with ``ON CONFLICT DO NOTHING``:
    the primary key lets exactly one instance insert it, on SQLite and PostgreSQL alike. The
    instance that inserted the row decides the fire: it runs it, unless the task is still running
    on *another* instance that is alive, in which case the fire is skipped (``skipped_count``).
    Claim rows older than a day are deleted, by each instance at most once an hour.

Alive
    The instance named in ``task_status.running_on`` is alive while its ``cluster_instances`` row
    was seen within 3 × ``heartbeat_seconds``. An instance with no row there (one that writes no
    heartbeat, or has not written its first) counts as alive only while the run is younger than
    3 × ``heartbeat_seconds`` (``running_since``): a run of an instance without heartbeat blocks
    the others for at most three heartbeats, and a killed instance never blocks for longer than
    three heartbeats after its last one. An instance's own ``running_on`` never blocks it, and when
    a ledger starts it clears the ``running_on`` its instance id left behind (a restart with a
    fixed instance id). Instance ids must therefore be unique in the cluster.

Status
    ``task_status`` holds last run, duration, last error and the run, skipped and error counts of
    each task, the same from every instance and kept across restarts. Counters are incremented
    in SQL (``run_count = run_count + 1``), never read and written back.

Failures
    The database's failures are contained: a claim that fails means "do not run this fire" (the
    schedule goes on); a status write that fails is logged and the run goes on. Each kind of
    failure is logged once until the database answers again (see :mod:`catalyst.db.outage`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final, cast, final

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import ClusterInstance, TaskClaim, TaskState, utcnow
from catalyst.db.outage import is_database_outage
from catalyst.log import get_logger

#: Claim rows older than this are deleted…
CLAIMS_KEPT: Final = timedelta(days=1)
#: …by each instance at most this often (seconds).
CLEANUP_EVERY: Final = 3600.0
#: A heartbeat missed this many times: the instance is gone.
MISSED_HEARTBEATS: Final = 3

_ERROR_MAX: Final = 2000  # task_status.last_error
_NAME_MAX: Final = 255  # task_status.name
_PLUGIN_MAX: Final = 50  # task_status.plugin


def _split(task_key: str) -> tuple[str, str]:
    """``"<plugin>:<name>"`` back into its parts, cut to their columns' lengths."""
    plugin, _, name = task_key.partition(":")
    return plugin[:_PLUGIN_MAX], name[:_NAME_MAX]


@final
class TaskLedger:
    """Claims of cron fires and the shared task status of one instance (see the module doc)."""

    def __init__(
        self, db: async_sessionmaker[AsyncSession], instance_id: str, heartbeat_seconds: float
    ) -> None:
        self.instance_id: Final = instance_id
        self.heartbeat_seconds: Final = heartbeat_seconds
        self._db = db
        self._log = get_logger("task_ledger").bind(instance=instance_id)
        self._failing: set[str] = set()
        self._next_cleanup = 0.0  # time.monotonic() of the next claim cleanup
        self._forgot = False

    # -- cron fires ---------------------------------------------------------------------------

    async def claim(self, task_key: str, fire_time: datetime) -> bool:
        """May this instance run this fire of this task? True for exactly one instance, and only
        if the previous run is not still going on another live instance (then False, and the
        skip is counted). False, too, when the database does not answer."""
        now = utcnow()
        try:
            async with self._db() as s, s.begin():
                row = {"task_key": task_key, "fire_time": fire_time, "instance": self.instance_id}
                insert = _insert(s, TaskClaim).values(**row, claimed_at=now)
                inserted = await s.execute(insert.on_conflict_do_nothing())
                won = cast(CursorResult[Any], inserted).rowcount == 1
                holder = await self._holder(s, task_key, now) if won else None
                if holder is not None:
                    await s.execute(
                        update(TaskState)
                        .where(TaskState.task_key == task_key)
                        .values(skipped_count=TaskState.skipped_count + 1)
                    )
        except Exception as exc:  # noqa: BLE001 - contained: this fire does not run here
            self._failed("claim", "cron fire not run: could not claim it in the database", exc)
            return False
        self._recovered("claim")
        if holder is not None:
            self._log.warning(
                "task skipped: the previous run is still going on another instance",
                task_key=task_key,
                running_on=holder,
            )
        await self._cleanup()
        return won and holder is None

    async def running_elsewhere(self, task_key: str) -> str | None:
        """The other live instance running this task now, if any (None when the database does
        not answer: run-now then goes ahead)."""
        try:
            async with self._db() as s:
                holder = await self._holder(s, task_key, utcnow())
        except Exception as exc:  # noqa: BLE001 - contained: the status is unknown
            self._failed("read", "could not read the task status", exc)
            return None
        self._recovered("read")
        return holder

    # -- runs ---------------------------------------------------------------------------------

    async def started(self, task_key: str, plugin: str, name: str, at: datetime) -> None:
        """A run of the task started here at ``at`` (the schedule's clock)."""
        now = utcnow()
        mine = {"running_on": self.instance_id, "running_since": now, "updated_at": now}
        plugin, name = plugin[:_PLUGIN_MAX], name[:_NAME_MAX]
        await self._upsert(
            "started",
            {"task_key": task_key, "plugin": plugin, "name": name, "last_run": at, **mine},
            {"plugin": plugin, "name": name, "last_run": at, **mine},
        )

    async def finished(self, task_key: str, duration: float, error: str | None) -> None:
        """A run finished (``error``: its failure as ``"Type: message"``, or None)."""
        failed = 1 if error is not None else 0
        error = error[:_ERROR_MAX] if error is not None else None
        plugin, name = _split(task_key)
        done = {"last_duration": duration, "last_error": error, "updated_at": utcnow()}
        await self._upsert(
            "finished",
            {"task_key": task_key, "plugin": plugin, "name": name, **done}
            | {"run_count": 1, "error_count": failed},
            {
                **done,
                "run_count": TaskState.run_count + 1,
                "error_count": TaskState.error_count + failed,
                **self._release(),
            },
        )

    async def aborted(self, task_key: str) -> None:
        """A run was cancelled by the host (shutdown, plugin disabled): it no longer runs."""
        stop = update(TaskState).where(TaskState.task_key == task_key).values(**self._release())
        await self._write("aborted", lambda _s: stop)

    async def skipped(self, task_key: str) -> None:
        """A fire (or run-now) this instance decided was skipped: its previous run goes on."""
        plugin, name = _split(task_key)
        row = {"task_key": task_key, "plugin": plugin, "name": name, "updated_at": utcnow()}
        await self._upsert(
            "skipped",
            {**row, "skipped_count": 1},
            {"skipped_count": TaskState.skipped_count + 1, "updated_at": row["updated_at"]},
        )

    async def forget_own_runs(self) -> None:
        """Once per ledger: clear the ``running_on`` a previous process with this instance id left
        (it was killed mid-run); nothing runs here yet."""
        if self._forgot:
            return
        self._forgot = True
        mine = update(TaskState).where(TaskState.running_on == self.instance_id)
        await self._write("forget", lambda _s: mine.values(running_on=None, running_since=None))

    # -- reading ------------------------------------------------------------------------------

    async def statuses(self, plugin: str) -> dict[str, dict[str, Any]]:
        """``task_status`` rows of ``plugin`` by task key, as dicts of their columns;
        ``running_on`` only while that instance is alive. Empty when the database fails."""
        now = utcnow()
        query = (
            select(TaskState, ClusterInstance.seen_at)
            .outerjoin(ClusterInstance, ClusterInstance.id == TaskState.running_on)
            .where(TaskState.plugin == plugin)
        )
        try:
            async with self._db() as s:
                rows = (await s.execute(query)).all()
        except Exception as exc:  # noqa: BLE001 - contained: the API falls back to this process
            self._failed("read", "could not read the task status", exc)
            return {}
        self._recovered("read")
        found: dict[str, dict[str, Any]] = {}
        for state, seen_at in rows:
            row = {c.key: getattr(state, c.key) for c in TaskState.__table__.columns}
            if not self._alive(state.running_on, state.running_since, seen_at, now):
                row["running_on"] = None
            found[state.task_key] = row
        return found

    # -- internals ----------------------------------------------------------------------------

    def _alive(
        self, running_on: str | None, since: datetime | None, seen: datetime | None, now: datetime
    ) -> bool:
        if running_on is None:
            return False
        cutoff = now - timedelta(seconds=MISSED_HEARTBEATS * self.heartbeat_seconds)
        if seen is not None:
            return seen >= cutoff
        return since is not None and since >= cutoff

    async def _holder(self, s: AsyncSession, task_key: str, now: datetime) -> str | None:
        """Another live instance running ``task_key`` now, or None."""
        query = (
            select(TaskState.running_on, TaskState.running_since, ClusterInstance.seen_at)
            .outerjoin(ClusterInstance, ClusterInstance.id == TaskState.running_on)
            .where(TaskState.task_key == task_key)
        )
        found = (await s.execute(query)).first()
        if found is None or found.running_on in (None, self.instance_id):
            return None
        alive = self._alive(found.running_on, found.running_since, found.seen_at, now)
        return found.running_on if alive else None

    def _release(self) -> dict[str, Any]:
        """Clear ``running_on``/``running_since`` if they still name this instance."""
        mine = TaskState.running_on == self.instance_id
        return {
            "running_on": case((mine, None), else_=TaskState.running_on),
            "running_since": case((mine, None), else_=TaskState.running_since),
        }

    async def _upsert(self, what: str, values: dict[str, Any], changes: dict[str, Any]) -> None:
        def build(s: AsyncSession) -> Any:
            insert = _insert(s, TaskState).values(**values)
            return insert.on_conflict_do_update(index_elements=["task_key"], set_=changes)

        await self._write(what, build)

    async def _write(self, what: str, build: Callable[[AsyncSession], Any]) -> None:
        """Run ``build(session)``'s statement in a transaction; a failure is logged (once per
        outage) and swallowed."""
        try:
            async with self._db() as s, s.begin():
                await s.execute(build(s))
        except Exception as exc:  # noqa: BLE001 - contained: the run goes on
            self._failed("write", f"could not write the task status ({what})", exc)
            return
        self._recovered("write")

    async def _cleanup(self) -> None:
        if time.monotonic() < self._next_cleanup:
            return
        self._next_cleanup = time.monotonic() + CLEANUP_EVERY
        old = delete(TaskClaim).where(TaskClaim.claimed_at < utcnow() - CLAIMS_KEPT)
        await self._write("cleanup", lambda _s: old)

    def _failed(self, what: str, message: str, exc: Exception) -> None:
        if what in self._failing:
            return
        self._failing.add(what)
        outage = is_database_outage(exc)
        self._log.error(
            message + " (logged once until the database answers again)",
            kind=what,
            outage=outage,
            error=str(exc)[:300],
            exc_info=None if outage else exc,
        )

    def _recovered(self, what: str) -> None:
        if what in self._failing:
            self._failing.discard(what)
            self._log.info("the database answers the task ledger again", kind=what)


def _insert(s: AsyncSession, table: type[Any]) -> Any:
    """The dialect's INSERT, which knows ``ON CONFLICT``."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
