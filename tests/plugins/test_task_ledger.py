"""Cron exactly once across instances: schedulers of several "instances" (each with its own
engine and instance id) on ONE database, driven by a FakeClock; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from structlog.testing import capture_logs

from catalyst.clock import FakeClock
from catalyst.db.engine import create_engine, is_sqlite, session_factory
from catalyst.db.models import ClusterInstance, TaskClaim, TaskState, utcnow
from catalyst.plugins.scheduler import Scheduler
from catalyst.plugins.task_ledger import TaskLedger

START = datetime(2024, 1, 1, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def connect(database_url: str) -> AsyncIterator[Callable[[], Sessions]]:
    """``connect()``: a new engine on the test's database, as a separate instance has."""
    engines = []

    def make() -> Sessions:
        engines.append(engine := create_engine(database_url))
        return session_factory(engine)

    yield make
    for engine in engines:
        await engine.dispose()


class Watched:
    """A ledger that tells a shared condition what it did, so tests wait on that, not on time."""

    def __init__(self, ledger: TaskLedger, changed: asyncio.Condition) -> None:
        self.ledger = ledger
        self.changed = changed
        self.claims: list[tuple[datetime, bool]] = []
        self.finishes = 0

    async def _poke(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def claim(self, task_key: str, fire_time: datetime) -> bool:
        won = await self.ledger.claim(task_key, fire_time)
        self.claims.append((fire_time, won))
        await self._poke()
        return won

    async def started(self, task_key: str, plugin: str, name: str, at: datetime) -> None:
        await self.ledger.started(task_key, plugin, name, at)

    async def finished(self, task_key: str, duration: float, error: str | None) -> None:
        await self.ledger.finished(task_key, duration, error)
        self.finishes += 1
        await self._poke()

    async def aborted(self, task_key: str) -> None:
        await self.ledger.aborted(task_key)

    async def skipped(self, task_key: str) -> None:
        await self.ledger.skipped(task_key)

    async def running_elsewhere(self, task_key: str) -> str | None:
        return await self.ledger.running_elsewhere(task_key)

    async def forget_own_runs(self) -> None:
        await self.ledger.forget_own_runs()

    async def statuses(self, plugin: str) -> dict[str, dict[str, Any]]:
        return await self.ledger.statuses(plugin)


async def until(changed: asyncio.Condition, check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10), changed:
        await changed.wait_for(check)


async def status_row(db: Sessions, key: str) -> TaskState | None:
    async with db() as s:
        return await s.get(TaskState, key)


async def test_two_instances_run_each_of_ten_fires_exactly_once(
    connect: Callable[[], Sessions],
) -> None:
    clock, changed = FakeClock(START), asyncio.Condition()
    runs: list[tuple[str, datetime]] = []
    ledgers: list[Watched] = []
    schedulers: list[Scheduler] = []
    for instance in ("a", "b"):
        ledger = Watched(TaskLedger(connect(), instance, 5.0), changed)
        scheduler = Scheduler(clock, ledger=ledger)
        scheduler.add(
            "* * * * * *",
            lambda instance=instance: runs.append((instance, clock.now())),  # type: ignore[misc]
            name="tick",
            owner="p",
        )
        ledgers.append(ledger)
        schedulers.append(scheduler)
        await scheduler.start()
    try:
        for n in range(1, 11):
            await clock.advance(1)
            await until(
                changed,
                lambda n=n: (
                    sum(len(x.claims) for x in ledgers) == 2 * n  # type: ignore[misc]
                    and sum(x.finishes for x in ledgers) == n
                ),
            )
    finally:
        for scheduler in schedulers:
            await scheduler.stop()
    fires = [START + timedelta(seconds=s) for s in range(1, 11)]
    assert sorted(when for _, when in runs) == fires  # each fire time once, 10 in total
    for when in fires:  # exactly one claim won per fire time
        assert [won for x in ledgers for at, won in x.claims if at == when].count(True) == 1
    for ledger in ledgers:  # the same status from either instance
        (row,) = (await ledger.statuses("p")).values()
        assert (row["task_key"], row["run_count"], row["skipped_count"]) == ("p:tick", 10, 0)
        assert (row["error_count"], row["running_on"], row["last_run"]) == (0, None, fires[-1])
    assert {instance for instance, _ in runs} <= {"a", "b"}


async def test_twenty_concurrent_claims_of_one_fire_one_wins(
    database_url: str,
) -> None:
    # one engine with a connection for each claim: the 20 inserts really race on PostgreSQL
    extra: dict[str, Any] = {} if is_sqlite(database_url) else {"pool_size": 20}
    engine = create_async_engine(database_url, **extra)
    try:
        db = session_factory(engine)
        ledgers = [TaskLedger(db, f"i{n}", 5.0) for n in range(20)]
        for second in range(3):
            when = START + timedelta(seconds=second)
            won = await asyncio.gather(*(x.claim("p:race", when) for x in ledgers))
            assert won.count(True) == 1
            async with db() as s:
                claim = (await s.execute(select(TaskClaim).filter_by(fire_time=when))).scalar_one()
            assert claim.instance == f"i{won.index(True)}"
    finally:
        await engine.dispose()


async def put(db: Sessions, *rows: Any) -> None:
    async with db() as s, s.begin():
        for row in rows:
            await s.merge(row)


async def test_a_dead_instances_run_does_not_block_a_live_ones_does(
    connect: Callable[[], Sessions],
) -> None:
    db = connect()
    ledger = TaskLedger(db, "b", heartbeat_seconds=1.0)
    now, key = utcnow(), "p:t"
    fires = iter(START + timedelta(minutes=m) for m in range(10))

    def running(on: str, since: datetime) -> TaskState:
        return TaskState(task_key=key, plugin="p", name="t", running_on=on, running_since=since)

    long_ago = now - timedelta(hours=1)
    # killed: its heartbeat row stopped an hour ago
    await put(db, ClusterInstance(id="dead", seen_at=long_ago), running("dead", long_ago))
    assert await ledger.claim(key, next(fires)) is True
    # alive: its heartbeat is fresh, however old the run is
    await put(db, ClusterInstance(id="live", seen_at=now), running("live", long_ago))
    with capture_logs() as logs:
        assert await ledger.claim(key, next(fires)) is False
    assert [e["running_on"] for e in logs if "another instance" in e["event"]] == ["live"]
    assert await ledger.running_elsewhere(key) == "live"
    # no heartbeat row: alive only while the run is younger than three heartbeats
    await put(db, running("ghost", utcnow()))
    assert await ledger.claim(key, next(fires)) is False
    await put(db, running("ghost", utcnow() - timedelta(seconds=4)))
    assert await ledger.claim(key, next(fires)) is True
    assert await ledger.running_elsewhere(key) is None
    # its own run never blocks an instance (the scheduler skips locally instead)
    await put(db, running("b", utcnow()))
    assert await ledger.claim(key, next(fires)) is True
    row = await status_row(db, key)
    assert row is not None
    assert row.skipped_count == 2
    # a ledger that starts clears what a killed process with its id left behind
    await ledger.forget_own_runs()
    row = await status_row(db, key)
    assert row is not None
    assert (row.running_on, row.running_since) == (None, None)


async def test_a_scheduler_skips_fires_while_a_live_instance_runs_the_task(
    connect: Callable[[], Sessions],
) -> None:
    db, clock, changed = connect(), FakeClock(START), asyncio.Condition()
    await put(
        db,
        ClusterInstance(id="a", seen_at=utcnow()),
        TaskState(
            task_key="p:long", plugin="p", name="long", running_on="a", running_since=utcnow()
        ),
    )
    ledger = Watched(TaskLedger(db, "b", 5.0), changed)
    scheduler = Scheduler(clock, ledger=ledger)
    runs: list[datetime] = []
    task = scheduler.add("* * * * *", lambda: runs.append(clock.now()), name="long", owner="p")
    await scheduler.start()
    try:
        await clock.advance(60)
        await until(changed, lambda: len(ledger.claims) == 1)
        assert runs == []
        assert task.status.claimed_elsewhere == 1
        await put(db, ClusterInstance(id="a", seen_at=utcnow() - timedelta(minutes=1)))  # killed
        await clock.advance(60)
        await until(changed, lambda: ledger.finishes == 1)
        assert runs == [START + timedelta(minutes=2)]  # the next fire runs here
    finally:
        await scheduler.stop()
    row = await status_row(db, "p:long")
    assert row is not None
    assert (row.run_count, row.skipped_count, row.running_on) == (1, 1, None)


async def test_status_counts_errors_and_skips_in_the_database(
    connect: Callable[[], Sessions],
) -> None:
    db, clock, changed = connect(), FakeClock(START), asyncio.Condition()
    ledger = Watched(TaskLedger(db, "a", 5.0), changed)
    scheduler = Scheduler(clock, ledger=ledger)
    release, calls = asyncio.Event(), []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        await release.wait()

    task = scheduler.add("0 0 1 1 *", flaky, name="flaky", owner="p")
    await scheduler.start()
    try:
        await task.run_now()
        await until(changed, lambda: ledger.finishes == 1)
        second = task.start_now()
        await task.run_now()  # still running: a skip, in memory and in the database
        release.set()
        await second
    finally:
        await scheduler.stop()
    row = await status_row(db, "p:flaky")
    assert row is not None
    assert (row.run_count, row.error_count, row.skipped_count) == (2, 1, 1)
    assert (row.last_error, row.running_on, row.last_run) == (None, None, START)
    assert row.last_duration is not None
    assert row.last_duration >= 0
    assert (task.status.run_count, task.status.skipped_count) == (2, 1)


async def test_old_claims_are_deleted_at_most_once_an_hour(
    connect: Callable[[], Sessions],
) -> None:
    db = connect()
    ledger = TaskLedger(db, "a", 5.0)
    old = utcnow() - timedelta(days=2)

    async def count() -> int:
        async with db() as s:
            return int((await s.execute(select(func.count()).select_from(TaskClaim))).scalar_one())

    await put(db, TaskClaim(task_key="p:t", fire_time=START, instance="x", claimed_at=old))
    assert await ledger.claim("p:t", START + timedelta(seconds=1))
    assert await count() == 1  # the old one went, the new one stays
    await put(db, TaskClaim(task_key="p:t", fire_time=START, instance="x", claimed_at=old))
    assert await ledger.claim("p:t", START + timedelta(seconds=2))
    assert await count() == 3  # not again within the hour


async def test_a_database_that_does_not_answer_skips_fires_and_logs_once() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # refused at once
    try:
        ledger, clock = TaskLedger(session_factory(engine), "a", 5.0), FakeClock(START)
        changed = asyncio.Condition()
        watched = Watched(ledger, changed)
        scheduler = Scheduler(clock, ledger=watched)
        runs: list[int] = []
        task = scheduler.add("* * * * *", lambda: runs.append(1), name="t", owner="p")
        with capture_logs() as logs:
            await scheduler.start()
            for n in (1, 2, 3):
                await clock.advance(60)
                await until(changed, lambda n=n: len(watched.claims) == n)  # type: ignore[misc]
            await task.run_now()  # run-now still runs; its status writes fail quietly
            await scheduler.stop()
        assert runs == [1]
        assert task.status.next_run is None
        assert task.status.claimed_elsewhere == 3
        errors = [e["event"] for e in logs if e["log_level"] == "error"]
        once = " (logged once until the database answers again)"
        assert errors == [  # the writes at start and of the run share one "write" outage
            "could not write the task status (forget)" + once,
            "cron fire not run: could not claim it in the database" + once,
        ]
        assert await ledger.statuses("p") == {}
    finally:
        await engine.dispose()


async def test_a_very_long_task_name_still_claims_and_records(
    connect: Callable[[], Sessions],
) -> None:
    clock, changed = FakeClock(START), asyncio.Condition()
    ledger = Watched(TaskLedger(connect(), "a", 5.0), changed)
    scheduler = Scheduler(clock, ledger=ledger)
    runs: list[int] = []
    task = scheduler.add("* * * * *", lambda: runs.append(1), name="n" * 400, owner="p")
    await scheduler.start()
    try:
        await clock.advance(60)
        await until(changed, lambda: ledger.finishes == 1)
    finally:
        await scheduler.stop()
    assert runs == [1]
    ((key, row),) = (await ledger.statuses("p")).items()
    assert key == task.key
    assert len(key) == 300  # the column's length: the name's end is a hash of the whole key
    assert (row["name"], row["run_count"]) == ("n" * 255, 1)
