"""The host's long-lived services, built once per app and kept on ``app.state.services``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from catalyst import __version__
from catalyst.auth.passwords import PasswordWorkers
from catalyst.auth.ratelimit import LoginRateLimiter
from catalyst.auth.sessions import SessionStore
from catalyst.db.engine import engine_for, session_factory
from catalyst.settings import Settings

if TYPE_CHECKING:
    from catalyst.clock import Clock
    from catalyst.events.bus import EventBus, Subscription
    from catalyst.plugins.dispatcher import Dispatcher
    from catalyst.plugins.manager import PluginManager
    from catalyst.plugins.scheduler import Scheduler
    from catalyst.plugins.watchdog import Watchdog
    from catalyst.plugins.watcher import PluginWatcher
    from catalyst.ws.hub import Hub

#: Emits a core event by name with a JSON-able payload.
Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


async def _no_events(_name: str, _data: dict[str, Any]) -> None:
    """The event seam before a bus is attached: core events go nowhere."""


def _listener_failed(sub: Subscription, event: str, exc: BaseException | None) -> None:
    """A plugin's event listener failed: say so in the plugin's own log stream too."""
    from catalyst.plugins.logs import plugin_error

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
    login_limiter: LoginRateLimiter
    secret_key: str
    passwords: PasswordWorkers
    version: str = __version__
    started_at: float = field(default_factory=time.monotonic)
    emit: Emit = _no_events
    bus: EventBus = field(init=False)
    scheduler: Scheduler = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    hub: Hub = field(init=False)
    plugins: PluginManager = field(init=False)
    watcher: PluginWatcher | None = None
    watchdog: Watchdog | None = None

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Services:
        engine = engine_for(settings)
        db = session_factory(engine)
        passwords = PasswordWorkers(settings.login_hash_threads, settings.login_max_waiting)
        services = cls(
            settings=settings,
            engine=engine,
            db=db,
            sessions=SessionStore(db, settings.session_ttl_seconds, passwords),
            login_limiter=LoginRateLimiter(
                settings.login_max_attempts,
                settings.login_max_attempts_per_address,
                settings.login_window_seconds,
            ),
            secret_key=settings.resolved_secret_key(),
            passwords=passwords,
        )
        services._build_runtime(clock)
        return services

    def _build_runtime(self, clock: Clock | None) -> None:
        from catalyst.crypto import SecretBox
        from catalyst.domain.servers import ServerService
        from catalyst.events.bus import EventBus
        from catalyst.plugins import executor
        from catalyst.plugins.config import ConfigStore
        from catalyst.plugins.context import PluginHost
        from catalyst.plugins.dbfacade import PluginDb
        from catalyst.plugins.dispatcher import Dispatcher
        from catalyst.plugins.manager import PluginManager
        from catalyst.plugins.scheduler import Scheduler
        from catalyst.plugins.storage import StorageService
        from catalyst.ws.hub import Hub

        s = self.settings
        self.bus = EventBus(handler_timeout=s.event_handler_timeout)
        self.emit = self.bus.emit
        self.bus.on_failure = _listener_failed
        self.scheduler = Scheduler(clock)
        self.dispatcher = Dispatcher()
        self.dispatcher.route_timeout = s.plugin_route_timeout
        executor.configure(s.plugin_threads, s.plugin_import_threads)
        self.hub = Hub(s.ws_max_queue_bytes, s.ws_slow_client_seconds)
        box = SecretBox(self.secret_key, [s.secret_key_previous])
        config = ConfigStore(self.db, lambda name: self.plugins.schema_of(name), box)
        servers = ServerService(self.db, self.bus.emit)

        def storage(plugin: str) -> StorageService:
            return StorageService(
                self.db,
                plugin,
                max_value_bytes=s.plugin_storage_max_value_bytes,
                quota_bytes=s.plugin_storage_quota_bytes,
            )

        def plugin_db(plugin: str) -> PluginDb:
            return PluginDb(plugin, lambda: self.plugins.get(plugin).granted, self.db, servers)

        host = PluginHost(
            bus=self.bus, sender=self.hub, config=config, storage=storage, db=plugin_db
        )
        self.plugins = PluginManager(
            self,
            self.dispatcher,
            self.scheduler,
            host,
            hook_timeout=s.plugin_hook_timeout,
            auto_enable=s.plugin_auto_enable,
        )

    async def start(self) -> None:
        from catalyst.plugins.watchdog import Watchdog, reporter

        if self.settings.loop_stall_threshold_ms > 0:
            self.watchdog = Watchdog(
                self.settings.loop_stall_threshold_ms / 1000,
                reporter(lambda name: self.plugins.records.get(name)),
            )
            self.watchdog.start()
        await self.plugins.start()
        await self.plugins.config.seal_stale()  # encrypt secrets left in clear text
        if self.settings.hot_reload:
            from catalyst.plugins.watcher import PluginWatcher

            self.watcher = PluginWatcher(
                self.plugins, self.settings.plugins_dir, step_ms=self.settings.hot_reload_step_ms
            )
            await self.watcher.start()

    async def close(self) -> None:
        """Shut down promptly, still running every plugin's on_disable and on_unload: plugin
        requests and task runs in flight are ended first (bounded waits), then each hook gets
        at most ``shutdown_hook_timeout`` seconds."""
        from catalyst.plugins import executor

        s = self.settings
        try:
            if self.watcher is not None:
                await self.watcher.stop()
            await self.hub.close_all()
            await self.dispatcher.inflight.end_all(wait=1.0)
            await self.scheduler.stop(grace=0.5)
            self.plugins.hook_timeout = min(self.plugins.hook_timeout, s.shutdown_hook_timeout)
            await self.plugins.stop()
        finally:
            executor.shutdown_idle()
            self.passwords.close()
            if self.watchdog is not None:
                self.watchdog.stop()
            await self.engine.dispose()
