"""Test plugins in a real, in-process Catalyst host.

>>> async with PluginHarness("catalyst-plugins/my-plugin") as h:
...     r = await h.client.get("/api/plugins/my-plugin/hello")
...     viewer = await h.as_user(["server.read"])

The harness migrates a fresh SQLite database in a temporary folder, serves only this plugin
(enabled, with its declared permissions granted), and logs ``client`` in as an admin. Config
values given to the harness are saved before the plugin loads. A plugin that fails to import,
load or enable makes ``async with`` raise :class:`PluginLoadError` with the plugin's error and
traceback.

More plugins (``plugins=[...]``), a whole plugins folder (``plugins_dir=``), another database
(``database_url=``, e.g. PostgreSQL), any setting (``settings=`` and keyword overrides), a fake
clock (``clock=``) and a real TCP server (``live=True``, for WebSocket clients) are options of the
same harness; users with chosen permissions get their own clients and tokens.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from catalyst.app import create_app
from catalyst.auth.bootstrap import create_user, ensure_admin
from catalyst.clock import Clock
from catalyst.db import migrate as migrations
from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import Plugin, Role
from catalyst.plugins.context import PluginContext
from catalyst.plugins.record import PluginRecord
from catalyst.services import Services
from catalyst.settings import Settings


class PluginLoadError(RuntimeError):
    """The plugin under test did not load or enable. ``detail``: the plugin's traceback."""

    def __init__(self, message: str, detail: str | None) -> None:
        super().__init__(f"{message}\n\n{detail}" if detail else message)
        self.detail = detail


class PluginHarness:
    """A host serving the plugins under test; ``async with`` starts it and stops it.

    ``plugin_dir``/``plugins``: plugin folders under test, each linked into the plugins folder,
    enabled, and checked to have loaded (else :class:`PluginLoadError`). ``config``: config values
    of ``plugin_dir``'s plugin, saved before it loads. ``plugins_dir``: serve this folder as it is
    (its plugins load, or fail, as in a real host; nothing is checked). ``database_url``: use this
    database instead of a fresh SQLite one (``migrate=False`` if it is already migrated).
    ``settings``: the base settings; keyword ``overrides`` change any of their fields. ``clock``:
    the host's clock (a ``catalyst.clock.FakeClock`` drives cron tasks without waiting).
    ``live=True``: also serve over TCP on a free port of 127.0.0.1 (:attr:`url`, :attr:`ws_url`);
    the harness's clients then go through that socket. ``admin=False``: ``client`` starts
    anonymous and no admin exists until :meth:`as_admin` or :meth:`token` asks for one.
    """

    def __init__(
        self,
        plugin_dir: str | Path | None = None,
        *,
        config: dict[str, Any] | None = None,
        plugins: Sequence[str | Path] = (),
        plugins_dir: str | Path | None = None,
        database_url: str | None = None,
        migrate: bool = True,
        settings: Settings | None = None,
        clock: Clock | None = None,
        live: bool = False,
        admin: bool = True,
        admin_password: str | None = None,
        **overrides: Any,
    ) -> None:
        under_test = ([plugin_dir] if plugin_dir is not None else []) + list(plugins)
        self.plugin_dirs = [Path(p).resolve() for p in under_test]
        self.plugin_dir = self.plugin_dirs[0] if self.plugin_dirs else None
        self.name = self.plugin_dir.name if self.plugin_dir else ""
        self.config = dict(config or {})
        self.admin_password = admin_password or secrets.token_urlsafe(12)
        self._plugins_dir = Path(plugins_dir) if plugins_dir is not None else None
        self._database_url = database_url
        self._migrate = migrate
        self._settings = settings
        self._overrides = overrides
        self._clock = clock
        self._live = live
        self._login_admin = admin
        self._tmp: Path | None = None
        self._lifespan: Any = None
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._clients: list[httpx.AsyncClient] = []
        self._admin_ready = False
        self._app: FastAPI | None = None
        self.settings: Settings | None = None
        self.client: httpx.AsyncClient

    async def __aenter__(self) -> PluginHarness:
        self._tmp = Path(tempfile.mkdtemp(prefix="catalyst-harness-"))
        try:
            await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start(self) -> None:
        assert self._tmp is not None
        settings = self.settings = self._build_settings(self._tmp)
        for folder in self.plugin_dirs:
            link = settings.plugins_dir / folder.name
            if not link.exists():
                link.symlink_to(folder, target_is_directory=True)
        if self._migrate or self.config:
            await self._prepare_database(settings.database_url)
        app = self._app = create_app(settings, clock=self._clock)
        self._lifespan = app.router.lifespan_context(app)
        await self._lifespan.__aenter__()
        problem = self._load_problem()
        if problem is not None:
            raise problem
        if self._live:
            await self._serve()
        if self._login_admin:
            self.client = await self.as_admin()
        else:
            self.client = self.new_client()

    def _build_settings(self, tmp: Path) -> Settings:
        base = self._settings or Settings(
            _env_file=None, secret_key=secrets.token_urlsafe(16), log_format="json"
        )
        # Folders and database of given settings are kept; the harness's own are temporary.
        fields = base.model_fields_set if self._settings is not None else set()
        update: dict[str, Any] = {}
        if self._database_url is not None:
            update["database_url"] = self._database_url
        elif "database_url" not in fields:
            update["database_url"] = f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}"
        if self._plugins_dir is not None:
            update["plugins_dir"] = self._plugins_dir
        elif "plugins_dir" not in fields:
            update["plugins_dir"] = tmp / "plugins"
        if "data_dir" not in fields:
            update["data_dir"] = tmp / "data"
        update.update(self._overrides)
        names = [folder.name for folder in self.plugin_dirs]
        auto = list(update.get("plugin_auto_enable", base.plugin_auto_enable))
        update["plugin_auto_enable"] = auto + [n for n in names if n not in auto]
        settings = base.model_copy(update=update)
        settings.plugins_dir.mkdir(parents=True, exist_ok=True)
        return settings

    async def _prepare_database(self, url: str) -> None:
        engine = create_engine(url)
        try:
            if self._migrate:
                await migrations.upgrade(engine)
            if self.config:
                async with session_factory(engine)() as db, db.begin():
                    db.add(Plugin(name=self.name, version="0", enabled=True, config=self.config))
        finally:
            await engine.dispose()

    async def _serve(self) -> None:
        """Serve the app on a socket that listens before this returns: no wait for readiness."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self._socket = sock
        config = uvicorn.Config(  # as ``catalyst serve`` runs it, the lifespan run by the harness
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            ws="websockets-sansio",
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
        await self.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def stop(self) -> None:
        """Stop serving and run the host's shutdown, as a process exit would (once)."""
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
            self._server = self._serving = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.__aexit__(None, None, None)

    def _load_problem(self) -> PluginLoadError | None:
        """Why a plugin under test is not enabled (its error and traceback), or None."""
        for folder in self.plugin_dirs:
            record = self.services.plugins.records.get(folder.name)
            if record is None:
                return PluginLoadError(f"No plugin {folder.name!r} found in {folder}", None)
            if record.enabled:
                continue
            reason = record.error or "it was not enabled"
            message = f"Plugin {folder.name!r} is {record.state.value}: {reason}"
            for problem in record.source.errors:
                message += f"\n  {problem.path}: {problem.message}"
            return PluginLoadError(message, record.error_detail)
        return None

    # -- where it is served ---------------------------------------------------------------------

    @property
    def app(self) -> FastAPI:
        """The host's ASGI app."""
        if self._app is None:
            raise RuntimeError("the harness is not started: use it with 'async with'")
        return self._app

    @property
    def services(self) -> Services:
        """The running host's services (plugin manager, bus, hub, database...)."""
        services: Services = self.app.state.services
        return services

    @property
    def port(self) -> int:
        """The TCP port of a ``live=True`` harness."""
        if self._socket is None:
            raise RuntimeError("the harness serves over TCP only with live=True")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` of a ``live=True`` harness."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The ``/ws`` endpoint of a ``live=True`` harness (add ``?token=...``)."""
        return f"ws://127.0.0.1:{self.port}/ws"

    # -- clients and users ----------------------------------------------------------------------

    def new_client(
        self, token: str | None = None, *, peer: tuple[str, int] | None = None
    ) -> httpx.AsyncClient:
        """An httpx client of this host: anonymous, or sending ``token`` as a Bearer token.

        ``peer``: the client address the host sees (in-process only). Closed with the harness."""
        if self._socket is not None:
            client = httpx.AsyncClient(base_url=self.url)
        else:
            transport = (
                httpx.ASGITransport(app=self.app, client=peer)
                if peer
                else httpx.ASGITransport(app=self.app)
            )
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        if token is not None:
            client.headers["Authorization"] = f"Bearer {token}"
        self._clients.append(client)
        return client

    async def token(self, username: str | None = None, password: str | None = None) -> str:
        """A session token of ``username`` (default: the admin, created on first use)."""
        if username is None:
            await self.create_admin()
        user = username or self.services.settings.admin_username
        r = await self.new_client().post(
            "/api/auth/login", json={"username": user, "password": password or self.admin_password}
        )
        r.raise_for_status()
        return str(r.json()["data"]["token"])

    async def login(self, username: str, password: str) -> httpx.AsyncClient:
        """A client logged in as ``username``."""
        return self.new_client(await self.token(username, password))

    async def as_admin(self) -> httpx.AsyncClient:
        """A client logged in as the admin (``admin_password``), created on first use."""
        return self.new_client(await self.token())

    async def add_user(
        self, permissions: list[str], *, username: str | None = None, password: str | None = None
    ) -> tuple[str, str]:
        """Create a user with a new role holding exactly ``permissions``: (username, password)."""
        sessions = self.services.db
        tag = secrets.token_hex(4)
        async with sessions() as db, db.begin():
            db.add(Role(name=f"harness-{tag}", description="harness", permissions=permissions))
        username = username or f"user-{tag}"
        password = password or secrets.token_urlsafe(12)
        await create_user(sessions, username, password, [f"harness-{tag}"])
        return username, password

    async def as_user(
        self, permissions: list[str], *, username: str | None = None
    ) -> httpx.AsyncClient:
        """A client logged in as a new user holding exactly ``permissions``."""
        return await self.login(*await self.add_user(permissions, username=username))

    async def user_token(self, permissions: list[str]) -> str:
        """A session token of a new user holding exactly ``permissions``."""
        return await self.token(*await self.add_user(permissions))

    async def create_admin(self) -> None:
        """Create the admin account (password ``admin_password``) unless it exists."""
        if not self._admin_ready:
            name = self.services.settings.admin_username
            await ensure_admin(self.services.db, name, self.admin_password)
            self._admin_ready = True

    # -- the plugin under test ------------------------------------------------------------------

    def plugin(self, name: str | None = None) -> PluginRecord:
        """The record of plugin ``name`` (default: the plugin under test)."""
        record: PluginRecord = self.services.plugins.get(name or self.name)
        return record

    @property
    def record(self) -> PluginRecord:
        return self.plugin()

    @property
    def ctx(self) -> PluginContext:
        """The live plugin's context (for calling ctx methods directly in a test)."""
        instance = self.record.instance
        if instance is None or instance.ctx is None:
            raise RuntimeError(f"plugin {self.name!r} is {self.record.state.value}: no ctx")
        return instance.ctx
