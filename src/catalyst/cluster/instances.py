"""The instance registry: each running instance keeps its row in ``cluster_instances``.

An :class:`InstanceRegistry` writes its row when it starts and every ``heartbeat_seconds`` after
that: host name, process id, version, and what it knows of each plugin (its state and the hash of
the code it loaded, see :func:`snapshot_of`). :meth:`InstanceRegistry.touch` asks for a write soon
(a plugin was loaded, reloaded or changed state), at most one every :data:`DEBOUNCE` seconds, so
the admin page is fresh within a second. An instance not seen for three heartbeats is gone
(:meth:`InstanceRegistry.live`); rows not seen for :data:`FORGET_AFTER` are deleted. A database
that fails is logged once per outage and never stops the heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import ClusterInstance, utcnow
from catalyst.log import get_logger

log = get_logger("cluster.instances")

#: At most one write per this many seconds when touched.
DEBOUNCE = 0.2
#: An instance is live while seen within this many heartbeats.
LIVE_HEARTBEATS = 3
#: Rows not seen for this long are deleted (an instance that died without saying so).
FORGET_AFTER = timedelta(days=1)
#: How often an instance deletes such rows (seconds).
SWEEP_EVERY = 3600.0

Snapshot = dict[str, dict[str, Any]]


class _State(Protocol):
    @property
    def value(self) -> str: ...


class PluginLike(Protocol):
    """What :func:`snapshot_of` reads of a plugin record."""

    @property
    def code_hash(self) -> str | None: ...
    @property
    def state(self) -> _State: ...
    @property
    def loaded_at(self) -> datetime | None: ...


def snapshot_of(records: Mapping[str, PluginLike]) -> Snapshot:
    """``{name: {"hash", "state", "loadedAt"}}`` for every plugin record."""
    return {
        name: {
            "hash": record.code_hash,
            "state": record.state.value,
            "loadedAt": record.loaded_at.isoformat() if record.loaded_at else None,
        }
        for name, record in list(records.items())
    }


def row_dict(row: ClusterInstance) -> dict[str, Any]:
    return {
        "id": row.id,
        "host": row.host,
        "pid": row.pid,
        "version": row.version,
        "started_at": row.started_at,
        "seen_at": row.seen_at,
        "plugins": dict(row.plugins or {}),
    }


class InstanceRegistry:
    """This instance's row in ``cluster_instances`` (see the module docstring)."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        instance_id: str,
        version: str,
        heartbeat_seconds: float,
        snapshot: Callable[[], Snapshot],
    ) -> None:
        self.db = db
        self.instance_id = instance_id
        self.version = version
        self.heartbeat_seconds = heartbeat_seconds
        self.snapshot = snapshot
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = utcnow()
        #: Rows written (a test and the metrics can count them).
        self.writes = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._last_write = float("-inf")
        self._last_sweep = float("-inf")

    # -- the heartbeat -----------------------------------------------------------------------

    async def start(self) -> None:
        """Write this instance's row now, then every heartbeat (and soon after a touch)."""
        if self._task is not None:
            return
        await self._beat()
        self._task = asyncio.create_task(self._run(), name="cluster-instance-heartbeat")

    def touch(self) -> None:
        """Write the row soon (within :data:`DEBOUNCE` seconds); cheap, never blocks."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop the heartbeat and delete this instance's row (a failure is only logged)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])  # a cancellation of the caller still reaches the caller
        try:
            async with self.db() as session, session.begin():
                await session.execute(
                    delete(ClusterInstance).where(ClusterInstance.id == self.instance_id)
                )
        except Exception as exc:  # noqa: BLE001 - shutting down: say so, go on
            log.warning("cluster_instance_remove_failed", instance=self.instance_id, error=str(exc))

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that arrives as the wait ends (a touch right before stop), and stop then hangs.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.heartbeat_seconds):
                    await self._wake.wait()
            wait = self._last_write + DEBOUNCE - time.monotonic()
            if wait > 0:  # touched right after a write: gather what else changes meanwhile
                await asyncio.sleep(wait)
            await self._beat()

    async def _beat(self) -> None:
        """One write; a failure is logged once per outage, never raised."""
        self._wake.clear()
        self._last_write = time.monotonic()
        try:
            await self._write()
        except Exception as exc:  # noqa: BLE001 - the heartbeat outlives any failure (logged)
            if not self._failing:
                self._failing = True
                log.warning(
                    "cluster_instance_write_failed", instance=self.instance_id, error=str(exc)
                )
            return
        self.writes += 1
        if self._failing:
            self._failing = False
            log.info("cluster_instance_write_recovered", instance=self.instance_id)

    async def _write(self) -> None:
        now = utcnow()
        values = {
            "id": self.instance_id,
            "host": self.host[:255],
            "pid": self.pid,
            "version": self.version[:64],
            "started_at": self.started_at,
            "seen_at": now,
            "plugins": self.snapshot(),
        }
        async with self.db() as session, session.begin():
            dialect = session.get_bind().dialect.name
            stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(ClusterInstance)
            stmt = stmt.values(**values)
            changed = {k: getattr(stmt.excluded, k) for k in values if k != "id"}
            await session.execute(
                stmt.on_conflict_do_update(index_elements=[ClusterInstance.id], set_=changed)
            )
            if time.monotonic() - self._last_sweep >= SWEEP_EVERY:
                await session.execute(
                    delete(ClusterInstance).where(ClusterInstance.seen_at < now - FORGET_AFTER)
                )
                self._last_sweep = time.monotonic()

    # -- queries -----------------------------------------------------------------------------

    async def live(self) -> list[dict[str, Any]]:
        """The instances seen within :data:`LIVE_HEARTBEATS` heartbeats, by id (row dicts:
        ``id, host, pid, version, started_at, seen_at, plugins``). Raises on database errors."""
        since = utcnow() - timedelta(seconds=LIVE_HEARTBEATS * self.heartbeat_seconds)
        async with self.db() as session:
            rows = await session.scalars(
                select(ClusterInstance)
                .where(ClusterInstance.seen_at >= since)
                .order_by(ClusterInstance.id)
            )
            return [row_dict(row) for row in rows]
