"""Test a plugin in a real, in-process Catalyst host.

>>> async with PluginHarness("catalyst-plugins/my-plugin") as h:
...     r = await h.client.get("/api/plugins/my-plugin/hello")
...     viewer = await h.as_user(["server.read"])

The harness migrates a fresh SQLite database in a temporary folder, serves only this plugin
(enabled, with its declared permissions granted), and logs ``client`` in as an admin. Config
values given to the harness are saved before the plugin loads. A plugin that fails to import,
load or enable makes ``async with`` raise :class:`PluginLoadError` with the plugin's error and
traceback.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from fastapi import FastAPI

from catalyst.app import create_app
from catalyst.auth.bootstrap import create_user, ensure_admin
from catalyst.db import migrate
from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import Plugin, Role
from catalyst.plugins.context import PluginContext
from catalyst.plugins.record import PluginRecord
from catalyst.settings import Settings


class PluginLoadError(RuntimeError):
    """The plugin under test did not load or enable. ``detail``: the plugin's traceback."""

    def __init__(self, message: str, detail: str | None) -> None:
        super().__init__(f"{message}\n\n{detail}" if detail else message)
        self.detail = detail


class PluginHarness:
    def __init__(self, plugin_dir: str | Path, *, config: dict[str, Any] | None = None) -> None:
        self.plugin_dir = Path(plugin_dir).resolve()
        self.name = self.plugin_dir.name
        self.config = dict(config or {})
        self._tmp: Path | None = None
        self._lifespan: Any = None
        self._clients: list[httpx.AsyncClient] = []
        self.app: FastAPI | None = None
        self.client: httpx.AsyncClient

    async def __aenter__(self) -> PluginHarness:
        self._tmp = Path(tempfile.mkdtemp(prefix="catalyst-harness-"))
        plugins = self._tmp / "plugins"
        plugins.mkdir()
        (plugins / self.name).symlink_to(self.plugin_dir, target_is_directory=True)
        url = f"sqlite+aiosqlite:///{self._tmp / 'db.sqlite'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        if self.config:
            async with session_factory(engine)() as db, db.begin():
                db.add(Plugin(name=self.name, version="0", enabled=True, config=self.config))
        await engine.dispose()
        settings = Settings(
            _env_file=None,
            database_url=url,
            data_dir=self._tmp / "data",
            plugins_dir=plugins,
            plugin_auto_enable=[self.name],
            secret_key=secrets.token_urlsafe(16),
            log_format="json",
        )
        self.app = create_app(settings)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        problem = self._load_problem()
        if problem is not None:
            await self.__aexit__(None, None, None)
            raise problem
        password = secrets.token_urlsafe(12)
        await ensure_admin(self.app.state.services.db, "admin", password)
        self.client = await self._login("admin", password)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for client in self._clients:
            await client.aclose()
        if self._lifespan is not None:
            await self._lifespan.__aexit__(exc_type, exc, tb)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _load_problem(self) -> PluginLoadError | None:
        """Why the plugin is not enabled (its error and traceback), or None when it is."""
        assert self.app is not None
        record = self.app.state.services.plugins.records.get(self.name)
        if record is None:
            return PluginLoadError(f"No plugin {self.name!r} found in {self.plugin_dir}", None)
        if record.enabled:
            return None
        reason = record.error or "it was not enabled"
        message = f"Plugin {self.name!r} is {record.state.value}: {reason}"
        for problem in record.source.errors:
            message += f"\n  {problem.path}: {problem.message}"
        return PluginLoadError(message, record.error_detail)

    async def _login(self, username: str, password: str) -> httpx.AsyncClient:
        assert self.app is not None
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://catalyst.test"
        )
        self._clients.append(client)
        r = await client.post("/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        client.headers["Authorization"] = f"Bearer {r.json()['data']['token']}"
        return client

    async def as_user(self, permissions: list[str]) -> httpx.AsyncClient:
        """A client logged in as a new user holding exactly ``permissions``."""
        assert self.app is not None
        sessions = self.app.state.services.db
        tag = secrets.token_hex(4)
        async with sessions() as db, db.begin():
            db.add(Role(name=f"harness-{tag}", description="harness", permissions=permissions))
        password = secrets.token_urlsafe(12)
        await create_user(sessions, f"user-{tag}", password, [f"harness-{tag}"])
        return await self._login(f"user-{tag}", password)

    @property
    def record(self) -> PluginRecord:
        assert self.app is not None
        record: PluginRecord = self.app.state.services.plugins.get(self.name)
        return record

    @property
    def ctx(self) -> PluginContext:
        """The live plugin's context (for calling ctx methods directly in a test)."""
        instance = self.record.instance
        if instance is None or instance.ctx is None:
            raise RuntimeError(f"plugin {self.name!r} is {self.record.state.value}: no ctx")
        return instance.ctx
