"""``create_app``: assembles the host. No business logic lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from catalyst import __version__
from catalyst.api import (
    audit,
    auth,
    catalog,
    db_errors,
    health,
    input_guard,
    metrics,
    plugins,
    servers,
    users,
)
from catalyst.api.exception_handlers import UnhandledErrorMiddleware, install_exception_handlers
from catalyst.api.ui import mount_ui
from catalyst.clock import Clock
from catalyst.http.bodylimit import BodyLimitMiddleware
from catalyst.http.forwarded import ForwardedMiddleware
from catalyst.http.openapi import install_openapi
from catalyst.http.origin import OriginMiddleware
from catalyst.http.plugin_gate import CatalystApp, PluginGate
from catalyst.log import configure_logging
from catalyst.services import Services
from catalyst.settings import Settings
from catalyst.ws import endpoint, pushes

#: The built admin UI (``make run`` builds it when its sources changed).
UI_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The host app. ``clock`` is injectable so tests can drive cron tasks."""
    settings = settings or Settings()
    configure_logging(settings.log_format, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.build(settings, clock)
        app.state.services = services
        listener = None
        try:
            listener = await metrics.start(settings)
            pushes.install(services)
            await services.start()
            yield
        finally:
            await metrics.stop(listener)
            await services.close()

    app = CatalystApp(
        title="Catalyst",
        version=__version__,
        description="Game-server management panel with a Python plugin platform",
        lifespan=lifespan,
    )
    install_exception_handlers(app)
    install_openapi(app, cookie_name=settings.session_cookie_name)
    # Plugin routes: every check below, inline and in the same order, in front of the stack.
    app.plugin_gate = PluginGate(
        app,
        api_limit=settings.max_body_bytes,
        allowed_origins=settings.allowed_origins,
        cookie_name=settings.session_cookie_name,
        trusted_proxies=settings.forwarded_allow_ips,
    )
    # Host routes. NUL in any text is a 400; inside the body limit, which must bound what it reads
    app.add_middleware(input_guard.InputGuardMiddleware)
    # Outermost last: client address, then Origin, then body limits, before any dispatch.
    app.add_middleware(
        BodyLimitMiddleware,
        auth_limit=settings.auth_max_body_bytes,
        api_limit=settings.max_body_bytes,
    )
    app.add_middleware(
        OriginMiddleware,
        allowed=settings.allowed_origins,
        cookie_name=settings.session_cookie_name,
    )
    app.add_middleware(ForwardedMiddleware, trusted=settings.forwarded_allow_ips)
    app.add_middleware(db_errors.DatabaseOutageMiddleware)  # 503 when the DB is down
    app.add_middleware(UnhandledErrorMiddleware)
    metrics.install(app, settings)  # outermost: every answer counted; /metrics as set
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(servers.router)
    app.include_router(users.router)
    app.include_router(users.roles_router)
    app.include_router(audit.router)
    app.include_router(catalog.router)
    app.include_router(plugins.router)
    app.include_router(plugins.ui_router)
    app.include_router(endpoint.router)
    mount_ui(app, UI_DIST)  # last: its catch-all comes after every other route
    return app
