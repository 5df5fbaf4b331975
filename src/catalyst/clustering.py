"""Several instances as one: this instance's parts connected to the cluster backplane.

What each instance tells the others, and what it does with what they tell it:

- plugin changes (``plugin.changed``, ``plugin.reload``, ``plugins.rescan``): the plugin manager's
  ``notify``; applied here by :mod:`catalyst.plugins.cluster_sync` from the database.
- sessions forgotten (logout, account and role changes): ``sessions.forget``.
- WebSocket messages for clients held by another instance, and ``close_user``: ``ws.*``.
- events, for the ``every_instance`` listeners of the other instances: ``event``.

Every ``cluster_reconcile_seconds``, and at once after Redis came back, the plugins are
reconciled with the database. With one instance (no Redis) none of this runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from catalyst.auth.sessions import SessionStore
from catalyst.cluster.backplane import Backplane
from catalyst.cluster.instances import InstanceRegistry
from catalyst.events.bus import EventBus
from catalyst.log import get_logger
from catalyst.plugins import cluster_sync
from catalyst.plugins.manager import PluginManager
from catalyst.ws.hub import Hub

log = get_logger("cluster")
WS_KINDS = ("ws.send", "ws.user", "ws.broadcast")
#: Events from other instances waiting for one plugin's ``every_instance`` listeners, at most.
LANE_MAX = 1_000
#: The close code of a connection whose account changed (as ``api.users`` closes them).
CLOSE_ACCOUNT_CHANGED = 4401


class Cluster:
    def __init__(
        self,
        backplane: Backplane,
        *,
        plugins: PluginManager,
        hub: Hub,
        sessions: SessionStore,
        bus: EventBus,
        instances: InstanceRegistry,
        reconcile_seconds: float,
    ) -> None:
        self.backplane = backplane
        self.plugins = plugins
        self.hub = hub
        self.sessions = sessions
        self.bus = bus
        self.instances = instances
        self.reconcile_seconds = reconcile_seconds
        self._reconciler: asyncio.Task[None] | None = None
        self._lanes: dict[str | None, asyncio.Queue[tuple[str, Any, Any]]] = {}
        self._lane_tasks: list[asyncio.Task[None]] = []
        self._full_lanes: set[str | None] = set()
        self._reconcile_lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.backplane.enabled

    def connect(self) -> None:
        """Wire every part to the backplane (nothing without Redis)."""
        bp = self.backplane
        if not bp.enabled:
            return
        plugins, hub, sessions = self.plugins, self.hub, self.sessions
        plugins.notify = bp.publish
        hub.fanout = bp.publish
        sessions.on_forget = functools.partial(bp.publish, "sessions.forget")
        self.bus.publisher = self._publish_event
        bp.on("plugin.changed", lambda d: cluster_sync.apply_changed(plugins, str(d["name"])))
        bp.on(
            "plugin.reload",
            lambda d: cluster_sync.apply_reload(plugins, str(d["name"]), str(d.get("actor"))),
        )
        bp.on("plugins.rescan", lambda d: cluster_sync.apply_rescan(plugins))
        bp.on("sessions.forget", sessions.forgotten)
        for kind in WS_KINDS:
            bp.on(kind, functools.partial(hub.receive, kind))
        bp.on("ws.close_user", hub.receive_close_user)
        bp.on("event", self._deliver_event)
        bp.on_reconnect.append(self.reconcile)

    async def start(self, connect_wait: float = 2.0) -> None:
        """Subscribe (waiting up to ``connect_wait`` s, so no change made meanwhile is missed;
        a Redis that is down does not hold up the start)."""
        if not self.enabled:
            return
        await self.backplane.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(connect_wait):
                await self.backplane.connected()

    def start_reconciling(self) -> None:
        if self.enabled and self._reconciler is None:
            self._reconciler = asyncio.create_task(self._every(), name="cluster-reconcile")

    async def stop(self) -> None:
        for task in self._lane_tasks:
            task.cancel()
        for task in self._lane_tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._lane_tasks.clear()
        if self._reconciler is not None:
            self._reconciler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciler
            self._reconciler = None
        await self.backplane.stop()

    async def reconcile(self) -> None:
        """Repair what lost messages missed: the plugins as the database has them, the code
        other instances already reloaded; sessions cached before Redis came back are verified
        again."""
        async with self._reconcile_lock:
            self.sessions.forgotten({"all": True})
            try:
                await cluster_sync.reconcile(self.plugins)
                me = self.instances.instance_id
                others = [row for row in await self.instances.live() if row["id"] != me]
                await cluster_sync.catch_up(self.plugins, others)
                await self._recheck_connections()
            except Exception:  # the database may be down too: the next round repairs it
                log.exception("cluster_reconcile_failed")

    async def _recheck_connections(self) -> None:
        """Close the connections held here whose account was disabled or changed since they
        connected (a lost ``ws.close_user`` would leave them open with the old rights)."""
        held = self.hub.held()
        accounts = await self.sessions.accounts(held) if held else {}
        for user_id, principals in held.items():
            now = accounts.get(user_id)
            if now is None or any(
                p.permissions != now.permissions or p.roles != now.roles for p in principals
            ):
                await self.hub.close_user_here(user_id, CLOSE_ACCOUNT_CHANGED, "Account changed")

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self.reconcile_seconds)
            await self.reconcile()

    async def _publish_event(self, event: str, data: Any, source: str | None) -> None:
        self.backplane.publish("event", {"event": event, "data": data, "source": source})

    def _deliver_event(self, message: dict[str, Any]) -> None:
        """An event from another instance, for this instance's ``every_instance`` listeners:
        each owner (plugin) gets it on its own lane, in order, so one plugin's slow listener
        never holds up another's; a lane holds at most ``LANE_MAX`` events (more are dropped
        and logged once per burst)."""
        event, source = message.get("event"), message.get("source")
        if not isinstance(event, str):
            return
        try:
            owners = {sub.owner for sub in self.bus.remote_route(event)}
        except ValueError:  # not a valid event name
            return
        for owner in owners:
            lane = self._lanes.get(owner)
            if lane is None:
                lane = self._lanes[owner] = asyncio.Queue(LANE_MAX)
                task = asyncio.create_task(self._drive(owner, lane), name=f"cluster-events-{owner}")
                self._lane_tasks.append(task)
            try:
                lane.put_nowait((event, message.get("data"), source))
            except asyncio.QueueFull:
                if owner not in self._full_lanes:
                    self._full_lanes.add(owner)
                    log.warning("cluster_events_dropped", owner=owner, waiting=LANE_MAX)

    async def _drive(self, owner: str | None, lane: asyncio.Queue[tuple[str, Any, Any]]) -> None:
        while True:
            if lane.empty():
                self._full_lanes.discard(owner)
            event, data, source = await lane.get()
            try:
                await self.bus.deliver_local(
                    event,
                    data,
                    source=source if isinstance(source, str) else None,
                    owners=frozenset([owner]),
                )
            except Exception:  # the bus contains handler failures; anything else is logged
                log.exception("cluster_event_delivery_failed", owner=owner, event_name=event)
