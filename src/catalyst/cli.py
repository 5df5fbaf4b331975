"""The ``catalyst`` command line: serve, database and user commands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from catalyst import __version__
from catalyst.auth.bootstrap import AdminLogin, ensure_admin
from catalyst.cli_secrets import app as secrets_app
from catalyst.db import migrate
from catalyst.db.engine import create_engine, session_factory
from catalyst.log import configure_logging
from catalyst.plugin_cli import app as plugin_app
from catalyst.settings import Settings
from catalyst.user_cli import app as user_app

app = typer.Typer(help="Catalyst game-server panel and plugin host.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(plugin_app, name="plugin")
app.add_typer(secrets_app, name="secrets")
console = Console(stderr=True)

INITIAL_PASSWORD_FILE = "initial_admin_password"


async def _prepare(settings: Settings) -> AdminLogin:
    engine = create_engine(settings.database_url)
    try:
        async with migrate.one_instance_at_a_time(engine):
            await migrate.upgrade(engine)
            return await ensure_admin(
                session_factory(engine), settings.admin_username, settings.admin_password
            )
    finally:
        await engine.dispose()


def _announce(settings: Settings, login: AdminLogin, url: str) -> None:
    """Print where to log in. A generated password is kept in the data folder until deleted."""
    pw_file = settings.data_dir / INITIAL_PASSWORD_FILE
    password = login.password
    if login.created and password and not settings.admin_password:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        pw_file.write_text(password + "\n")
        pw_file.chmod(0o600)
    if password is None and pw_file.exists():
        password = pw_file.read_text().strip()
    if password is None:
        shown = "(as set before; CATALYST_ADMIN_PASSWORD or `catalyst user create-admin`)"
    elif settings.admin_password:
        shown = "(from CATALYST_ADMIN_PASSWORD)"
    else:
        shown = f"{password}   (kept in {pw_file}; delete that file once noted)"
    console.print(
        Panel.fit(
            f"Catalyst {__version__} at [bold]{url}[/bold]\n"
            f"Admin login: [bold]{login.username}[/bold]  password: {shown}",
            title="Catalyst",
        )
    )


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def workers_refusals(settings: Settings) -> list[str]:
    """Why ``settings.workers`` processes cannot run with these settings (nothing: they can)."""
    if settings.workers == 1:
        return []
    wanted = f"--workers {settings.workers}"
    refusals = []
    if not settings.database_url.startswith("postgresql"):
        refusals.append(
            f"{wanted}: several workers need PostgreSQL (they cannot share a SQLite file): "
            "set CATALYST_DATABASE_URL=postgresql+asyncpg://user:password@host/database"
        )
    if not settings.redis_url:
        refusals.append(
            f"{wanted}: several workers need Redis to keep each other up to date: "
            "set CATALYST_REDIS_URL=redis://host:6379/0"
        )
    return refusals


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Processes sharing the port (default CATALYST_WORKERS or 1; more than one "
            "needs PostgreSQL and Redis)",
        ),
    ] = None,
) -> None:
    """Migrate the database, create the admin on first start, and serve the panel."""
    settings = Settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    if workers:
        settings.workers = workers
    refusals = workers_refusals(settings)
    if refusals:
        for refusal in refusals:
            console.print(refusal, style="red", soft_wrap=True)
        raise typer.Exit(code=2)
    if settings.workers == 1:
        from catalyst.plugins.process.spawner import template

        # The plugin template imports the child runtime while the host imports and migrates.
        template().start_early()
    from catalyst import serving

    configure_logging(settings.log_format, settings.log_level)
    # Ctrl-C and SIGTERM are the normal way to stop: exit 0 once shut down (uvicorn re-raises
    # the signal after its graceful shutdown, and `make run` would report "Error 130/143").
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_quietly)
    login = asyncio.run(_prepare(settings))
    _announce(settings, login, f"http://{settings.host}:{settings.port}")
    options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "access_log": False,
        "ws": "websockets-sansio",
        "proxy_headers": False,  # CATALYST_FORWARDED_ALLOW_IPS decides (catalyst.http.forwarded)
    }
    if settings.workers > 1:
        with worker_environment(settings):
            serving.serve_workers("catalyst.app:create_app", workers=settings.workers, **options)
        return
    from catalyst.app import create_app

    serving.serve(create_app(settings), grace=settings.shutdown_grace_seconds, **options)


@contextlib.contextmanager
def worker_environment(settings: Settings) -> Iterator[None]:
    """What every worker must agree on, set up before they start: they read their settings from
    the environment (so the command line's overrides go there) and share the data folder."""
    os.environ["CATALYST_HOST"] = settings.host
    os.environ["CATALYST_PORT"] = str(settings.port)
    os.environ["CATALYST_WORKERS"] = str(settings.workers)
    settings.resolved_secret_key()  # generated once here, not by two workers at once
    # prometheus-client in each worker writes its samples to one folder and /metrics adds them
    # up: the operator's PROMETHEUS_MULTIPROC_DIR (emptied of a previous run's samples), else a
    # fresh one in the data folder, removed at the end.
    from catalyst import metrics

    made_metrics_dir = None
    chosen = os.environ.get(metrics.MULTIPROC_ENV)
    if not chosen:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        chosen = made_metrics_dir = tempfile.mkdtemp(prefix="prometheus-", dir=settings.data_dir)
    metrics.prepare_multiprocess(chosen)
    try:
        yield
    finally:
        if made_metrics_dir:
            shutil.rmtree(made_metrics_dir, ignore_errors=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = Settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine, revision)
            console.print(f"Database at revision {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(run())


@db_app.command("downgrade")
def db_downgrade(revision: str = "base") -> None:
    """Revert migrations down to REVISION (default: base, an empty schema)."""
    settings = Settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.downgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())


@user_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Admin username")] = "admin",
    password: Annotated[
        str | None, typer.Option(help="Password (generated when omitted)", envvar=None)
    ] = None,
) -> None:
    """Create an admin account (after migrating). Prints the password when generated."""
    settings = Settings()
    settings.admin_username = username
    settings.admin_password = password
    login = asyncio.run(_prepare(settings))
    if not login.created:
        console.print(f"User {username!r} already exists")
        raise typer.Exit(code=1)
    console.print(f"Created admin {username!r} with password: {login.password}")


@app.command()
def version() -> None:
    """Print the host version."""
    typer.echo(__version__)


def main() -> None:
    app()


__all__ = ["main"]
