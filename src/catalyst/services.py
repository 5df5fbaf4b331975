"""The host's long-lived services, built once per app and kept on ``app.state.services``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from catalyst import __version__
from catalyst.auth.ratelimit import LoginRateLimiter
from catalyst.auth.sessions import SessionStore
from catalyst.db.engine import create_engine, session_factory
from catalyst.settings import Settings

#: Emits a core event by name with a JSON-able payload.
Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


async def _no_events(_name: str, _data: dict[str, Any]) -> None:
    """The event seam before a bus is attached: core events go nowhere."""


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    sessions: SessionStore
    login_limiter: LoginRateLimiter
    secret_key: str
    version: str = __version__
    started_at: float = field(default_factory=time.monotonic)
    emit: Emit = _no_events

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = create_engine(settings.database_url)
        db = session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            db=db,
            sessions=SessionStore(db, settings.session_ttl_seconds),
            login_limiter=LoginRateLimiter(
                settings.login_max_attempts, settings.login_window_seconds
            ),
            secret_key=settings.resolved_secret_key(),
        )

    async def close(self) -> None:
        await self.engine.dispose()
