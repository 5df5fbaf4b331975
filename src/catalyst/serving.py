"""The uvicorn server ``catalyst serve`` runs: on shutdown, plugin requests still in flight when
the grace period ends are answered ``503 {"success": false, ...}``.

uvicorn's own shutdown waits ``timeout_graceful_shutdown`` for requests in flight, then cancels
their tasks (the client gets a text ``Internal Server Error``) and only then runs the app's
lifespan shutdown, where the host would end its plugin calls: too late. Here the plugin calls are
ended (their deadline moved to now, see :mod:`catalyst.plugins.inflight`) when the grace period is
over, and uvicorn's own cancellation comes :data:`ENDING` seconds later, for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn

#: Seconds the ended plugin calls get to send their 503 before uvicorn cancels what is left.
ENDING = 1.0


class CatalystServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, grace: float) -> None:
        super().__init__(config)
        self.grace = grace
        config.timeout_graceful_shutdown = int(grace + ENDING + 0.999)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        ender = asyncio.create_task(self._end_plugin_calls())
        try:
            await super().shutdown(sockets)
        finally:
            ender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ender

    async def _end_plugin_calls(self) -> None:
        await asyncio.sleep(self.grace)
        services: Any = None
        app: Any = self.config.loaded_app  # possibly wrapped by uvicorn's middleware
        while services is None and app is not None:
            services = getattr(getattr(app, "state", None), "services", None)
            app = getattr(app, "app", None)
        if services is not None:
            await services.dispatcher.inflight.end_all(wait=ENDING)


def serve(app: Any, *, grace: float, **options: Any) -> None:
    """``uvicorn.run(app, **options)`` with :class:`CatalystServer`'s shutdown."""
    config = uvicorn.Config(app, **options)
    server = CatalystServer(config, grace=grace)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE
