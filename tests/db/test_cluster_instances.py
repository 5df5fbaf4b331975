"""The instance registry on a real database (SQLite and PostgreSQL): two registries on one
database are two instances; a stopped one is gone, a silent one is not live, a long silent one
is forgotten; a database that fails is logged once and never stops the heartbeat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from catalyst.cluster.instances import InstanceRegistry, Snapshot, snapshot_of
from catalyst.db import migrate
from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import ClusterInstance, utcnow
from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.record import PluginRecord

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def registries(sessions: Sessions) -> AsyncIterator[Callable[..., InstanceRegistry]]:
    made: list[InstanceRegistry] = []

    def make(
        instance_id: str, snapshot: Callable[[], Snapshot] = dict, heartbeat: float = 60.0
    ) -> InstanceRegistry:
        registry = InstanceRegistry(sessions, instance_id, "1.2.3", heartbeat, snapshot)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        await registry.stop()


async def _rows(sessions: Sessions) -> dict[str, ClusterInstance]:
    async with sessions() as db:
        return {row.id: row for row in await db.scalars(select(ClusterInstance))}


async def _until(check: Callable[[], Any], within: float) -> float:
    """Seconds until ``check()`` (awaited) is true; fails after ``within`` seconds."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, f"not within {within} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_two_registries_are_two_live_instances(
    sessions: Sessions, registries: Callable[..., InstanceRegistry]
) -> None:
    a = registries("a", lambda: {"p": {"hash": "aaaa", "state": "enabled", "loadedAt": None}})
    b = registries("b", lambda: {"p": {"hash": "bbbb", "state": "loaded", "loadedAt": None}})
    await a.start()
    await b.start()
    for viewer in (a, b):
        live = await viewer.live()
        assert [row["id"] for row in live] == ["a", "b"]
    by_id = {row["id"]: row for row in await a.live()}
    assert by_id["a"]["plugins"] == {"p": {"hash": "aaaa", "state": "enabled", "loadedAt": None}}
    assert by_id["b"]["plugins"]["p"]["hash"] == "bbbb"
    assert by_id["a"]["pid"] == a.pid > 0
    assert by_id["a"]["host"] == a.host
    assert by_id["a"]["version"] == "1.2.3"
    assert by_id["a"]["seen_at"].tzinfo is not None

    await a.stop()
    assert [row["id"] for row in await b.live()] == ["b"]
    assert set(await _rows(sessions)) == {"b"}  # the row is deleted, not just old


async def test_silent_instances_are_not_live_and_old_rows_are_forgotten(
    sessions: Sessions, registries: Callable[..., InstanceRegistry]
) -> None:
    now = utcnow()
    async with sessions() as db, db.begin():
        db.add(ClusterInstance(id="quiet", seen_at=now - timedelta(seconds=31), plugins={}))
        db.add(ClusterInstance(id="recent", seen_at=now - timedelta(seconds=20), plugins={}))
        db.add(ClusterInstance(id="dead", seen_at=now - timedelta(days=2), plugins={}))
    me = registries("me", heartbeat=10.0)  # live: seen within 30 s
    await me.start()
    assert [row["id"] for row in await me.live()] == ["me", "recent"]
    assert set(await _rows(sessions)) == {"me", "quiet", "recent"}  # "dead" swept at start


async def test_heartbeat_repeats_and_touch_writes_within_a_second(
    sessions: Sessions, registries: Callable[..., InstanceRegistry]
) -> None:
    plugins: Snapshot = {"p": {"hash": "one", "state": "enabled", "loadedAt": None}}
    beating = registries("beating", lambda: plugins, heartbeat=0.05)
    await beating.start()
    first = (await _rows(sessions))["beating"].seen_at

    async def seen_again() -> bool:
        return (await _rows(sessions))["beating"].seen_at > first

    await _until(seen_again, 2.0)

    touched = registries("touched", lambda: plugins, heartbeat=60.0)
    await touched.start()
    plugins = {"p": {"hash": "two", "state": "enabled", "loadedAt": None}}
    touched.touch()

    async def fresh() -> bool:
        return bool((await _rows(sessions))["touched"].plugins["p"]["hash"] == "two")

    assert await _until(fresh, 1.0) < 1.0


async def test_touches_are_debounced(registries: Callable[..., InstanceRegistry]) -> None:
    registry = registries("r")
    await registry.start()
    assert registry.writes == 1
    for _ in range(50):  # a burst: at once, one write, then at most one every 200 ms
        registry.touch()
        await asyncio.sleep(0)

    async def written() -> bool:
        return registry.writes >= 2

    await _until(written, 1.0)
    started = time.monotonic()
    for _ in range(20):
        registry.touch()
        await asyncio.sleep(0.02)
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.25)  # let a pending write happen before counting
    assert registry.writes - 2 <= elapsed / 0.2 + 1


def test_snapshot_of_records(tmp_path: Path) -> None:
    record = PluginRecord(
        name="p", source=PluginSource(name="p", path=tmp_path, raw=None, manifest=None)
    )
    assert snapshot_of({"p": record}) == {
        "p": {"hash": None, "state": "discovered", "loadedAt": None}
    }
    record.code_hash = "abcd"
    record.loaded_at = utcnow()
    assert snapshot_of({"p": record})["p"] == {
        "hash": "abcd",
        "state": "discovered",
        "loadedAt": record.loaded_at.isoformat(),
    }


async def test_database_failure_is_logged_once_and_the_heartbeat_goes_on(tmp_path: Path) -> None:
    """An unmigrated database (no table) fails every write until it is migrated."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'late.db'}")
    sessions = session_factory(engine)
    registry = InstanceRegistry(sessions, "late", "1", 0.02, dict)
    try:
        with capture_logs() as logs:
            await registry.start()  # does not raise
            started = time.monotonic()
            while time.monotonic() - started < 0.3:  # ~15 failed heartbeats
                registry.touch()
                await asyncio.sleep(0.02)
            assert registry.writes == 0
            await migrate.upgrade(engine)

            async def recovered() -> bool:
                return registry.writes > 0

            await _until(recovered, 2.0)
        events = [entry["event"] for entry in logs]
        assert events.count("cluster_instance_write_failed") == 1
        assert events.count("cluster_instance_write_recovered") == 1
        assert [row["id"] for row in await registry.live()] == ["late"]
    finally:
        await registry.stop()
        await engine.dispose()


@pytest.mark.parametrize("yields", range(6))
async def test_stop_right_after_a_touch_ends_the_heartbeat(
    sessions: Sessions, registries: Callable[..., InstanceRegistry], yields: int
) -> None:
    """A touch whose wake-up races the stop's cancellation must not keep the heartbeat going
    (Python 3.11's ``asyncio.wait_for`` swallows such a cancellation)."""
    registry = registries("racing")
    await registry.start()
    registry.touch()
    for _ in range(yields):
        await asyncio.sleep(0)
    async with asyncio.timeout(2):
        await registry.stop()
    assert "racing" not in await _rows(sessions)
