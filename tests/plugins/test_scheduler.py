"""The cron scheduler, driven by a FakeClock: fire times, no overlap, errors, disposal, status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from catalyst.api import plugin_views
from catalyst.clock import FakeClock, SystemClock
from catalyst.errors import InvalidTransition
from catalyst.plugins.cron import CronSchedule
from catalyst.plugins.scheduler import Scheduler

START = datetime(2024, 1, 1, tzinfo=UTC)


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def scheduler(clock: FakeClock) -> AsyncIterator[Scheduler]:
    sched = Scheduler(clock)
    yield sched
    await sched.stop(grace=0.1)


class Recorder:
    """A task handler that records the fake time of each call."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.times: list[datetime] = []

    async def __call__(self) -> None:
        self.times.append(self.clock.now())


# -- firing -----------------------------------------------------------------------------------


async def test_every_five_minutes_fires_at_the_cron_times(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    rec = Recorder(clock)
    task = scheduler.add("*/5 * * * *", rec)
    await scheduler.start()
    await clock.advance(1)
    assert task.status.next_run == at(5)
    await clock.advance(15 * 60 - 1)
    assert rec.times == [at(5), at(10), at(15)]
    status = task.status
    assert (status.run_count, status.skipped_count, status.error_count) == (3, 0, 0)
    assert status.next_run == at(20)
    assert status.last_run == at(15)


async def test_tasks_added_before_start_wait_for_start(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    rec = Recorder(clock)
    task = scheduler.add("* * * * *", rec)
    await clock.advance(10 * 60)
    assert rec.times == []
    assert task.status.next_run is None
    await scheduler.start()
    await clock.advance(60)
    assert rec.times == [at(11)]


async def test_tasks_added_after_start_run_right_away(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    await scheduler.start()
    assert scheduler.started
    rec = Recorder(clock)
    scheduler.add("*/2 * * * *", rec)
    await clock.advance(4 * 60)
    assert rec.times == [at(2), at(4)]


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("*/10 * * * * *", [at(seconds=10), at(seconds=20), at(seconds=30)]),
        # seconds first: second 0 of every 2nd minute. Read seconds-last (croniter's default),
        # this would be minute 0 of every 2nd hour, every second.
        ("0 */2 * * * *", [at(2), at(4)]),
        ("30 * * * * *", [at(seconds=30), at(1, 30)]),
    ],
)
async def test_six_fields_put_seconds_first(
    scheduler: Scheduler, clock: FakeClock, cron: str, expected: list[datetime]
) -> None:
    rec = Recorder(clock)
    scheduler.add(cron, rec)
    await scheduler.start()
    await clock.advance_to(expected[-1] + timedelta(seconds=1))
    assert rec.times == expected


async def test_aliases_work(scheduler: Scheduler, clock: FakeClock) -> None:
    rec = Recorder(clock)
    scheduler.add("@hourly", rec)
    await scheduler.start()
    await clock.advance(2 * 3600)
    assert rec.times == [at(60), at(120)]


async def test_missed_fire_times_are_not_made_up(scheduler: Scheduler, clock: FakeClock) -> None:
    rec = Recorder(clock)
    task = scheduler.add("*/5 * * * *", rec)
    await scheduler.start()
    await clock.advance(1)
    clock.set(at(62))  # e.g. the machine was suspended for an hour
    await clock.advance(0)
    assert rec.times == [at(62)]
    assert task.status.next_run == at(65)


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("", "expected 5 fields"),
        ("* * * *", "got 4"),
        ("* * * * * * *", "got 7"),
        ("61 * * * *", "out of range"),
        ("*/0 * * * *", "step '0'"),
        ("a b c d e", "not acceptable"),
        ("0 0 31 4 *", "it never fires"),
        ("@reboot", "columns"),
        ("0 0 * * 8", "out of range"),
    ],
)
async def test_invalid_cron_is_a_value_error_naming_it(
    scheduler: Scheduler, cron: str, why: str
) -> None:
    with pytest.raises(ValueError, match="invalid cron expression") as info:
        scheduler.add(cron, lambda: None)
    assert repr(cron) in str(info.value)
    assert why in str(info.value)
    assert scheduler.tasks() == []


async def test_a_non_callable_handler_is_rejected(scheduler: Scheduler) -> None:
    with pytest.raises(TypeError, match="must be callable"):
        scheduler.add("* * * * *", "nope")  # type: ignore[arg-type]  # wrong on purpose


def test_cron_schedule_next_after() -> None:
    schedule = CronSchedule("  */15   * * * * ")
    assert schedule.expr == "*/15 * * * *"
    assert schedule.next_after(at(15)) == at(30)  # strictly after
    other_zone = at(1).astimezone(timezone(timedelta(hours=2)))
    assert schedule.next_after(other_zone) == at(15)
    assert schedule.next_after(other_zone).tzinfo == UTC


# -- no overlap, ids, dispose -----------------------------------------------------------------


async def test_a_run_never_overlaps_the_previous_one(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    release, calls = asyncio.Event(), []

    async def blocks() -> None:
        calls.append(clock.now())
        await release.wait()

    task = scheduler.add("*/5 * * * *", blocks)
    await scheduler.start()
    with capture_logs() as logs:
        await clock.advance(15 * 60)
    status = task.status
    assert calls == [at(5)]
    assert (status.run_count, status.skipped_count, status.running) == (0, 2, True)
    assert [e["event"] for e in logs].count("task skipped: the previous run is still going") == 2
    release.set()
    await clock.settle()
    assert (task.status.run_count, task.status.running) == (1, False)
    await clock.advance(5 * 60)
    assert calls == [at(5), at(20)]
    assert (task.status.run_count, task.status.skipped_count) == (2, 2)


async def test_same_cron_tasks_do_not_collide(scheduler: Scheduler, clock: FakeClock) -> None:
    first, second = Recorder(clock), Recorder(clock)
    one = scheduler.add("*/5 * * * *", first, owner="plugin-a")
    two = scheduler.add("*/5 * * * *", second, owner="plugin-a")
    assert one.id != two.id
    await scheduler.start()
    await clock.advance(5 * 60)
    assert first.times == second.times == [at(5)]
    one.dispose()
    one.dispose()  # idempotent
    assert one.disposed
    await clock.advance(5 * 60)
    assert first.times == [at(5)]
    assert second.times == [at(5), at(10)]
    assert scheduler.tasks() == [two]
    assert scheduler.get(one.id) is None
    assert scheduler.get(two.id) is two


async def test_ids_names_and_owners(scheduler: Scheduler) -> None:
    cleanup = scheduler.add("0 * * * *", lambda: None, name="Clean up logs!", owner="plugin-a")
    anon = scheduler.add("0 * * * *", lambda: None)
    other = scheduler.add("0 * * * *", lambda: None, owner="plugin-b")
    assert cleanup.id == "plugin-a:clean-up-logs:1"
    assert anon.id == "core:task:2"
    assert (cleanup.name, anon.name) == ("Clean up logs!", "0 * * * *")
    assert scheduler.tasks("plugin-a") == [cleanup]
    assert scheduler.tasks() == [cleanup, anon, other]
    assert "plugin-a:clean-up-logs:1" in repr(cleanup)


async def test_dispose_cancels_a_running_handler(scheduler: Scheduler, clock: FakeClock) -> None:
    cancelled = asyncio.Event()

    async def blocks() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = scheduler.add("* * * * *", blocks)
    await scheduler.start()
    await clock.advance(60)
    assert task.status.running
    await task.aclose(grace=1)
    assert cancelled.is_set()
    assert not task.status.running
    assert task.status.next_run is None
    assert clock.sleepers == 0
    assert scheduler.tasks() == []


async def test_aclose_reports_a_handler_that_ignores_cancellation(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    done = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await done.wait()  # keeps going after being cancelled

    task = scheduler.add("* * * * *", stubborn)
    await scheduler.start()
    await clock.advance(60)
    with capture_logs() as logs:
        await task.aclose(grace=0.02)
    assert [e["event"] for e in logs] == ["task did not stop in time"]
    done.set()
    await clock.settle()
    assert not task.status.running


# -- run_now, errors, status ------------------------------------------------------------------


async def test_run_now_runs_and_waits(scheduler: Scheduler, clock: FakeClock) -> None:
    rec = Recorder(clock)
    task = scheduler.add("0 0 1 1 *", rec)
    await clock.advance(90)
    await task.run_now()
    assert rec.times == [at(seconds=90)]
    status = task.status
    assert (status.run_count, status.last_run, status.running) == (1, at(seconds=90), False)


async def test_run_now_while_running_is_skipped_and_counted(scheduler: Scheduler) -> None:
    release = asyncio.Event()

    started = asyncio.Event()

    async def hold() -> None:
        started.set()
        await release.wait()

    task = scheduler.add("0 0 1 1 *", hold)
    first = asyncio.create_task(task.run_now())
    await started.wait()
    assert task.status.running
    with capture_logs() as logs:
        await task.run_now()  # returns at once
    assert logs[0]["trigger"] == "manual"
    assert (task.status.skipped_count, task.status.run_count) == (1, 0)
    release.set()
    await first
    assert (task.status.skipped_count, task.status.run_count) == (1, 1)


async def test_run_now_on_a_disposed_task_is_refused(scheduler: Scheduler) -> None:
    task = scheduler.add("* * * * *", lambda: None)
    task.dispose()
    with pytest.raises(InvalidTransition, match="it is disposed"):
        await task.run_now()


async def test_errors_are_recorded_and_the_schedule_goes_on(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    calls: list[datetime] = []

    def flaky() -> None:  # a sync handler
        calls.append(clock.now())
        if len(calls) == 1:
            raise RuntimeError("disk full")

    task = scheduler.add("*/5 * * * *", flaky, owner="plugin-a")
    await scheduler.start()
    with capture_logs() as logs:
        await clock.advance(5 * 60)
    status = task.status
    assert (status.run_count, status.error_count, status.last_error) == (
        1,
        1,
        "RuntimeError: disk full",
    )
    [entry] = [e for e in logs if e["event"] == "task failed"]
    assert (entry["task"], entry["owner"], entry["cron"]) == (task.id, "plugin-a", "*/5 * * * *")
    await clock.advance(5 * 60)
    status = task.status
    assert calls == [at(5), at(10)]
    assert (status.run_count, status.error_count, status.last_error) == (2, 1, None)


async def test_status_durations_and_json(scheduler: Scheduler, clock: FakeClock) -> None:
    async def slowish() -> None:
        await asyncio.sleep(0.02)  # real time: last_duration is measured, not faked

    task = scheduler.add("*/5 * * * *", slowish, name="slowish", owner="plugin-a")
    assert task.status.last_duration is None
    await scheduler.start()
    await clock.advance(60)
    await task.run_now()
    status = task.status
    assert status.last_duration is not None
    assert 0.015 <= status.last_duration < 1.0
    assert plugin_views.task(status.id, status.name, status.cron, status).model_dump() == {
        "id": task.id,
        "name": "slowish",
        "cron": "*/5 * * * *",
        "owner": "plugin-a",
        "nextRun": "2024-01-01T00:05:00+00:00",
        "lastRun": "2024-01-01T00:01:00+00:00",
        "lastDuration": status.last_duration,
        "lastError": None,
        "runCount": 1,
        "skippedCount": 0,
        "claimedElsewhere": 0,
        "errorCount": 0,
        "repeatCount": 0,
        "running": False,
        "runningOn": None,
    }
    status.run_count = 99  # a snapshot: changing it changes nothing
    assert task.status.run_count == 1


# -- stop -------------------------------------------------------------------------------------


async def test_stop_cancels_the_loops_and_start_resumes(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    rec = Recorder(clock)
    task = scheduler.add("*/5 * * * *", rec)
    await scheduler.start()
    await clock.advance(5 * 60)
    await scheduler.stop()
    assert (clock.sleepers, task.status.next_run, scheduler.started) == (0, None, False)
    await clock.advance(30 * 60)
    assert rec.times == [at(5)]
    await scheduler.start()
    await clock.advance(5 * 60)
    assert rec.times == [at(5), at(40)]


async def test_stop_lets_running_handlers_finish_then_cancels_stragglers(
    scheduler: Scheduler, clock: FakeClock
) -> None:
    finished, cancelled = [], []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        finished.append(True)

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    quick_task = scheduler.add("* * * * *", quick)
    hanging_task = scheduler.add("* * * * *", hangs)
    await scheduler.start()
    await clock.advance(60)
    assert quick_task.status.running
    assert hanging_task.status.running
    await scheduler.stop(grace=0.1)
    assert (finished, cancelled) == ([True], [True])
    assert quick_task.status.run_count == 1
    assert hanging_task.status.run_count == 0
    assert not hanging_task.status.running


async def test_a_crashing_clock_is_reported() -> None:
    broken = FakeClock(START)
    sched = Scheduler(broken)

    async def explode(when: datetime) -> None:
        raise OSError("clock gone")

    broken.sleep_until = explode  # type: ignore[method-assign]  # break it on purpose
    task = sched.add("* * * * *", lambda: None)
    with capture_logs() as logs:
        await sched.start()
        await asyncio.sleep(0)
    assert [e["event"] for e in logs] == ["task schedule loop crashed; the task no longer runs"]
    assert task.status.next_run is None
    await sched.stop()


# -- clocks -----------------------------------------------------------------------------------


async def test_fake_clock_wakes_sleepers_in_time_order() -> None:
    clock, woke = FakeClock(START), []

    async def sleeper(minutes: int) -> None:
        await clock.sleep_until(at(minutes))
        woke.append((minutes, clock.now()))

    tasks = [asyncio.create_task(sleeper(m)) for m in (3, 1, 2)]
    await clock.settle()
    assert (clock.sleepers, clock.next_wakeup()) == (3, at(1))
    await clock.advance(150)
    assert woke == [(1, at(1)), (2, at(2))]
    assert clock.now() == at(2.5)
    await clock.advance(60)
    assert woke[-1] == (3, at(3))
    await asyncio.gather(*tasks)
    assert clock.next_wakeup() is None


async def test_fake_clock_edges() -> None:
    clock = FakeClock()
    assert clock.now() == START
    await clock.sleep_until(START - timedelta(seconds=1))  # the past: returns at once
    with pytest.raises(ValueError, match="negative"):
        await clock.advance(-1)
    with pytest.raises(ValueError, match="back"):
        await clock.advance_to(START - timedelta(days=1))
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2024, 1, 1))
    waiter = asyncio.create_task(clock.sleep_until(at(1)))
    await clock.settle()
    waiter.cancel()
    await clock.advance(120)  # the cancelled sleeper is skipped
    assert waiter.cancelled()
    assert clock.sleepers == 0


async def test_system_clock() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo == UTC
    await clock.sleep_until(now - timedelta(seconds=1))
    await clock.sleep_until(clock.now() + timedelta(milliseconds=20))
    assert clock.now() - now >= timedelta(milliseconds=20)


async def test_claim_decides_which_instance_runs_each_fire() -> None:
    """Several instances share a schedule: only fires this one claims run here."""
    clock = FakeClock()
    asked: list[tuple[str, str]] = []

    async def every_other(key: str, when: datetime) -> bool:
        asked.append((key, when.isoformat()))
        return len(asked) % 2 == 1

    scheduler = Scheduler(clock, claim=every_other)
    runs: list[int] = []
    task = scheduler.add("*/5 * * * *", lambda: runs.append(1), name="tick", owner="p")
    await scheduler.start()
    await clock.advance(20 * 60)
    assert asked == [
        ("p:tick", "2024-01-01T00:05:00+00:00"),
        ("p:tick", "2024-01-01T00:10:00+00:00"),
        ("p:tick", "2024-01-01T00:15:00+00:00"),
        ("p:tick", "2024-01-01T00:20:00+00:00"),
    ]
    assert len(runs) == 2
    assert (task.status.run_count, task.status.claimed_elsewhere) == (2, 2)
    await task.run_now()  # run-now is never asked: the admin chose this instance
    assert len(runs) == 3
    await scheduler.stop()
