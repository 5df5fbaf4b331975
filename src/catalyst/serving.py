"""The uvicorn server ``catalyst serve`` runs: on shutdown, plugin requests still in flight when
the grace period ends are answered ``503 {"success": false, ...}``.

uvicorn's own shutdown waits ``timeout_graceful_shutdown`` for requests in flight, then cancels
their tasks (the client gets a text ``Internal Server Error``) and only then runs the app's
lifespan shutdown, where the host would end its plugin calls: too late. Here the plugin calls are
ended (their deadline moved to now, see :mod:`catalyst.plugins.inflight`) when the grace period is
over, and uvicorn's own cancellation comes :data:`ENDING` seconds later, for anything else.

``catalyst serve --workers N`` (:func:`serve_workers`): uvicorn's supervisor runs N
:class:`Worker` processes on one listening socket; each builds the app from the environment,
starts its own plugin template and serves with :class:`CatalystServer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from catalyst.log import configure_logging
from catalyst.settings import Settings

#: Seconds the ended plugin calls get to send their 503 before uvicorn cancels what is left.
ENDING = 1.0
#: Seconds a worker has to answer the supervisor's health check, and a new worker (SIGHUP) to
#: start serving: a worker imports the host and starts its plugins first (uvicorn's 5 s is short).
WORKER_HEALTHCHECK = 30


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
        raise SystemExit(STARTUP_FAILURE)


# --- `catalyst serve --workers N`: N processes on one port ---------------------------------------


class Worker(multiprocess.Process):
    """One worker of ``--workers N`` (a spawned process): a new instance of the cluster, with its
    own plugin template, that builds the app from the environment and serves it with
    :class:`CatalystServer`."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            grace = Settings().shutdown_grace_seconds
            self._server = CatalystServer(self.config, grace=grace)
        return self._server

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        settings = _worker_settings()
        configure_logging(settings.log_format, settings.log_level)
        from catalyst.plugins.process.spawner import template

        template().start_early()  # plugin children of this worker are forked by its template
        _ = self.server  # built before uvicorn's health-check thread asks for it
        super().target(sockets)


def _worker_settings() -> Settings:
    """This worker's settings. A configured ``CATALYST_INSTANCE_ID`` names the machine: each
    worker adds its pid to it (the default id has the pid already)."""
    settings = Settings()
    if settings.instance_id:
        settings.instance_id = f"{settings.instance_id[:90]}:{os.getpid()}"
        os.environ["CATALYST_INSTANCE_ID"] = settings.instance_id  # for the app's own Settings
    return settings


class Supervisor(multiprocess.Multiprocess):
    """uvicorn's supervisor (a worker that dies or stops answering is replaced; SIGTERM or
    SIGINT stops every worker gracefully; SIGHUP replaces them one by one; SIGTTIN/SIGTTOU add
    or remove one), running :class:`Worker` processes."""

    def run(self) -> None:
        # uvicorn builds its workers from its module's ``Process`` and takes no factory: ours
        # stands there while the supervisor runs (this process does nothing else meanwhile).
        original = multiprocess.Process
        setattr(multiprocess, "Process", Worker)  # noqa: B010 - mypy refuses assigning a type
        try:
            super().run()
        finally:
            setattr(multiprocess, "Process", original)  # noqa: B010

    @property
    def failed_to_start(self) -> bool:
        return any(p.exitcode == STARTUP_FAILURE for p in self.processes)


def serve_workers(app: str, *, workers: int, **options: Any) -> None:
    """Serve the app factory ``app`` (``module:function``, called in each worker with no
    argument: it reads the settings from the environment, as the worker reads its grace) from
    ``workers`` processes sharing one listening socket, bound here."""
    config = uvicorn.Config(
        app, factory=True, workers=workers, timeout_worker_healthcheck=WORKER_HEALTHCHECK, **options
    )
    # The supervisor's own news (a worker died and was replaced) is worth a line; the workers
    # log at the configured level (the config is configured again in each).
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    sock = config.bind_socket()
    supervisor = Supervisor(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    if supervisor.failed_to_start:
        raise SystemExit(STARTUP_FAILURE)
