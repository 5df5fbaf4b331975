"""The composition root: every long-lived part of the host, built once per app in one pass.

Each part gets only what it needs (the plugin manager gets the database, the plugins folder, the
host version, the dispatcher, the scheduler and the host's lendings to plugins, never this
object). Only the edge (``app``, ``api``, ``auth.deps``, ``ws``, ``sdk.testing``) imports this
module; the import-linter layers contract in ``pyproject.toml`` keeps it so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from catalyst import __version__, metrics
from catalyst.auth.passwords import PasswordWorkers
from catalyst.auth.principals import Principals
from catalyst.auth.ratelimit import LoginRateLimiter
from catalyst.auth.sessions import SessionStore
from catalyst.clock import Clock
from catalyst.cluster.backplane import Backplane
from catalyst.cluster.instances import InstanceRegistry, snapshot_of
from catalyst.clustering import Cluster
from catalyst.crypto import SecretBox
from catalyst.db.engine import engine_for, session_factory
from catalyst.domain.servers import ServerService
from catalyst.events.bus import EventBus, Subscription
from catalyst.plugins import executor
from catalyst.plugins.config import ConfigStore
from catalyst.plugins.context import PluginHost
from catalyst.plugins.dbfacade import PluginDb
from catalyst.plugins.dispatcher import Dispatcher
from catalyst.plugins.logs import plugin_error
from catalyst.plugins.manager import PluginManager
from catalyst.plugins.process.runtime import RuntimeOptions
from catalyst.plugins.scheduler import Scheduler
from catalyst.plugins.storage import StorageService
from catalyst.plugins.task_ledger import TaskLedger
from catalyst.plugins.watchdog import Watchdog, reporter
from catalyst.plugins.watcher import PluginWatcher
from catalyst.settings import Settings
from catalyst.types import Emit
from catalyst.ws.hub import Hub


def _listener_failed(sub: Subscription, event: str, exc: BaseException | None) -> None:
    """A plugin's event listener failed: say so in the plugin's own log stream too."""
    if sub.owner is None or sub.owner == "core":
        return
    what = f"listener for {sub.pattern!r} " + ("timed out" if exc is None else "failed")
    plugin_error(sub.owner, f"{what} on event {event!r}", exc, event_name=event)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    sessions: SessionStore
    principals: Principals
    login_limiter: LoginRateLimiter
    secret_key: str
    passwords: PasswordWorkers
    bus: EventBus
    emit: Emit
    scheduler: Scheduler
    dispatcher: Dispatcher
    hub: Hub
    plugins: PluginManager
    watcher: PluginWatcher | None
    watchdog: Watchdog | None
    cluster: Cluster
    instance_id: str
    instances: InstanceRegistry
    version: str = __version__
    started_at: float = field(default_factory=time.monotonic)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Services:
        s = settings
        engine = engine_for(s)
        db = session_factory(engine)
        passwords = PasswordWorkers(s.login_hash_threads, s.login_max_waiting)
        sessions = SessionStore(db, s.session_ttl_seconds, passwords)
        principals = Principals(sessions, s.session_cookie_name)
        secret_key = s.resolved_secret_key()
        bus = EventBus(handler_timeout=s.event_handler_timeout)
        bus.on_failure = _listener_failed
        scheduler = Scheduler(
            clock, ledger=TaskLedger(db, s.resolved_instance_id(), s.cluster_heartbeat_seconds)
        )
        dispatcher = Dispatcher(principals, route_timeout=s.plugin_route_timeout)
        executor.configure(s.plugin_threads, s.plugin_import_threads)
        hub = Hub(s.ws_max_queue_bytes, s.ws_slow_client_seconds)
        box = SecretBox(secret_key, [s.secret_key_previous])
        config = ConfigStore(db, lambda name: plugins.schema_of(name), box)
        servers = ServerService(db, bus.emit)

        def storage(plugin: str) -> StorageService:
            return StorageService(
                db,
                plugin,
                max_value_bytes=s.plugin_storage_max_value_bytes,
                quota_bytes=s.plugin_storage_quota_bytes,
            )

        def plugin_db(plugin: str) -> PluginDb:
            return PluginDb(plugin, lambda: plugins.get(plugin).granted, db, servers)

        host = PluginHost(
            bus=bus,
            sender=hub,
            config=config,
            storage=storage,
            db=plugin_db,
            data_dir=lambda name: s.data_dir / "plugins" / name,
            granted=lambda name: plugins.get(name).granted,
        )
        plugins = PluginManager(
            db=db,
            plugins_dir=s.plugins_dir,
            host_version=__version__,
            dispatcher=dispatcher,
            scheduler=scheduler,
            host=host,
            hook_timeout=s.plugin_hook_timeout,
            task_grace=s.plugin_task_grace_seconds,
            auto_enable=s.plugin_auto_enable,
            runtime=RuntimeOptions(
                ping_interval=s.plugin_ping_interval,
                ping_timeout=s.plugin_ping_timeout,
                restart_max=s.plugin_restart_max,
                restart_window=s.plugin_restart_window,
                memory_max_mb=s.plugin_memory_max_mb,
                force=s.plugin_force_runtime,
            ),
        )
        dispatcher.unavailable = plugins.unavailable
        plugins.state_listeners.append(metrics.plugin_state_changed)
        watcher = (
            PluginWatcher(plugins, db, s.plugins_dir, step_ms=s.hot_reload_step_ms)
            if s.hot_reload
            else None
        )
        watchdog = (
            Watchdog(s.loop_stall_threshold_ms / 1000, reporter(plugins.records.get))
            if s.loop_stall_threshold_ms > 0
            else None
        )
        instance_id = s.resolved_instance_id()
        instances = InstanceRegistry(
            db,
            instance_id,
            __version__,
            s.cluster_heartbeat_seconds,
            lambda: snapshot_of(plugins.records),
        )  # fresh within a second: written again after each state change and reload
        plugins.state_listeners.append(lambda *_: instances.touch())
        plugins.reload_listeners.append(lambda _name: instances.touch())
        cluster = Cluster(
            Backplane(s.redis_url, s.cluster_name, instance_id),
            plugins=plugins,
            hub=hub,
            sessions=sessions,
            bus=bus,
            instances=instances,
            reconcile_seconds=s.cluster_reconcile_seconds,
        )
        cluster.connect()
        return cls(
            settings=s,
            engine=engine,
            db=db,
            sessions=sessions,
            principals=principals,
            login_limiter=LoginRateLimiter.from_settings(s),  # shared in Redis when set
            secret_key=secret_key,
            passwords=passwords,
            bus=bus,
            emit=bus.emit,
            scheduler=scheduler,
            dispatcher=dispatcher,
            hub=hub,
            plugins=plugins,
            watcher=watcher,
            watchdog=watchdog,
            cluster=cluster,
            instance_id=instance_id,
            instances=instances,
        )

    async def start(self) -> None:
        if self.watchdog is not None:
            self.watchdog.start()
        await self.cluster.start()  # subscribed before the plugins are read from the database
        await self.plugins.start()
        self.cluster.start_reconciling()
        await self.plugins.config.seal_stale()  # encrypt secrets left in clear text
        if self.watcher is not None:
            await self.watcher.start()
        await self.instances.start()

    async def close(self) -> None:
        """Shut down promptly, still running every plugin's on_disable and on_unload: plugin
        requests and task runs in flight are ended first (bounded waits), then each hook gets
        at most ``shutdown_hook_timeout`` seconds."""
        s = self.settings
        try:
            await self.instances.stop()
            if self.watcher is not None:
                await self.watcher.stop()
            await self.cluster.stop()
            await self.hub.close_all()
            await self.dispatcher.inflight.end_all(wait=1.0)
            await self.scheduler.stop(grace=0.5)
            self.plugins.hook_timeout = min(self.plugins.hook_timeout, s.shutdown_hook_timeout)
            self.plugins.task_grace = min(self.plugins.task_grace, 0.5)
            await self.plugins.stop()
        finally:
            executor.shutdown_idle()
            self.passwords.close()
            await self.login_limiter.close()
            if self.watchdog is not None:
                self.watchdog.stop()
            await self.engine.dispose()
