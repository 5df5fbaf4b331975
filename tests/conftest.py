"""Shared fixtures: a migrated database per backend, and hosts started by ``PluginHarness``.

Every test that takes ``database_url`` runs on SQLite, and on PostgreSQL too when it is reachable.
With ``CI=true`` an unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Literal, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from catalyst.db import migrate
from catalyst.db.engine import create_engine
from catalyst.db.models import Base
from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings

pytest_plugins = ["tests.live_server"]

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Real argon2, with a low cost so hundreds of logins stay fast in tests."""
    from argon2 import PasswordHasher

    from catalyst.auth import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


@pytest.fixture(autouse=True)
def _restore_logging_config() -> Iterator[None]:
    """A test whose app configures logging (``log_level="critical"``) leaves no mark on the next."""
    import structlog

    before = structlog.get_config()
    yield
    structlog.configure(**before)


POSTGRES_URL = os.environ.get(
    "CATALYST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ADMIN_PASSWORD = "admin-password-for-tests"
USER_PASSWORD = "user-password-for-tests"


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> str | None:
    """None when reachable, else the reason."""
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}"
    return None


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(reason + " (CI=true: PostgreSQL is required)", pytrace=False)
    pytest.skip(reason)


REDIS_URL = os.environ.get("CATALYST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_available(url: str = REDIS_URL) -> str | None:
    """None when Redis at ``url`` answers PING, else the reason."""
    from redis import Redis

    try:
        with Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except Exception as exc:
        return f"Redis at {url} is unreachable: {exc}"
    return None


def require_redis() -> str:
    """The test Redis URL (``CATALYST_TEST_REDIS_URL``); skips the test when Redis is down, or
    fails it under CI=true."""
    reason = redis_available()
    if reason is not None:
        if IN_CI:
            pytest.fail(reason + " (CI=true: Redis is required)", pytrace=False)
        pytest.skip(reason)
    return REDIS_URL


class FreshDatabases:
    """Creates empty databases for one backend and drops them at the end."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self._created: list[str] = []

    def new(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / f'db-{uuid.uuid4().hex[:8]}.db'}"
        name = f"catalyst_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self._created:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    if backend == "postgresql":
        require_postgres()
    return backend


@pytest.fixture(scope="session")
def fresh_databases(
    db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FreshDatabases]:
    dbs = FreshDatabases(db_backend, tmp_path_factory.mktemp(f"db-{db_backend}"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def migrated_url(fresh_databases: FreshDatabases) -> str:
    """One database per backend per session, migrated to head."""
    url = fresh_databases.new()

    async def run() -> None:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return url


@pytest.fixture
async def database_url(migrated_url: str) -> str:
    """The session's migrated database, emptied before the test."""
    engine = create_engine(migrated_url)
    try:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(delete(table))
    finally:
        await engine.dispose()
    return migrated_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    runtime = only_runtime(request)
    # Unmarked tests leave the runtime to the manifests (or CATALYST_PLUGIN_FORCE_RUNTIME).
    forced: dict[str, Any] = {"plugin_force_runtime": runtime} if runtime else {}
    return Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path / "data",
        plugins_dir=plugins,
        secret_key="test-secret",
        hot_reload=False,
        log_format="json",
        **forced,
    )


def only_runtime(request: pytest.FixtureRequest) -> Literal["process", "inprocess"] | None:
    """The runtime a ``@pytest.mark.runtime(name, reason=...)`` test is limited to (its reason
    is required: a test that only makes sense in one runtime says why)."""
    marker = request.node.get_closest_marker("runtime")
    if marker is None:
        return None
    name = marker.args[0]
    assert name in ("process", "inprocess"), name
    assert marker.kwargs.get("reason"), f"{request.node.nodeid}: runtime marker needs a reason"
    return cast(Literal["process", "inprocess"], name)


ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]
HarnessFactory = Callable[..., Awaitable[PluginHarness]]

#: The harness that runs each app built by ``harness_factory``/``app_factory``.
_HARNESSES: weakref.WeakKeyDictionary[FastAPI, PluginHarness] = weakref.WeakKeyDictionary()


def harness_of(app: FastAPI) -> PluginHarness:
    """The :class:`PluginHarness` running ``app`` (built by ``harness_factory``)."""
    return _HARNESSES[app]


@pytest.fixture
async def harness_factory(settings: Settings) -> AsyncIterator[HarnessFactory]:
    """Starts hosts on the test's database and folders (``settings``, with overrides) with
    :class:`PluginHarness`; ``live=True`` also serves them over TCP. All stop after the test."""
    stack: list[PluginHarness] = []

    async def make(
        custom: Settings | None = None, *, clock: Any = None, live: bool = False, **overrides: Any
    ) -> PluginHarness:
        harness = PluginHarness(
            settings=custom or settings,
            migrate=False,
            clock=clock,
            live=live,
            admin=False,
            admin_password=ADMIN_PASSWORD,
            **overrides,
        )
        await harness.__aenter__()
        stack.append(harness)
        _HARNESSES[harness.app] = harness
        return harness

    yield make
    for harness in reversed(stack):
        await harness.__aexit__(None, None, None)


@pytest.fixture
async def app_factory(harness_factory: HarnessFactory) -> Callable[..., Awaitable[FastAPI]]:
    """Builds apps with ``harness_factory`` and returns them; they stop after the test."""

    async def make(custom: Settings | None = None, **kwargs: Any) -> FastAPI:
        return (await harness_factory(custom, **kwargs)).app

    return make


async def stop_app(app: FastAPI) -> None:
    """Run the shutdown half of the lifespan (once), as a process exit would."""
    await harness_of(app).stop()


@pytest.fixture
async def app(app_factory: Callable[..., Awaitable[FastAPI]]) -> FastAPI:
    return await app_factory()


@pytest.fixture
def client_for(app: FastAPI) -> ClientFactory:
    """``await client_for()`` anonymous; ``client_for(permissions=[...])`` a logged-in user."""
    harness = harness_of(app)

    async def make(
        *, admin: bool = False, permissions: list[str] | None = None
    ) -> httpx.AsyncClient:
        if admin:
            return await harness.as_admin()
        if permissions is not None:
            username = f"user-{uuid.uuid4().hex[:8]}"
            await create_user_with(app, username, permissions)
            return await harness.login(username, USER_PASSWORD)
        return harness.new_client()

    return make


async def create_user_with(app: FastAPI, username: str, permissions: list[str]) -> None:
    """A user ``username`` (password ``USER_PASSWORD``) with a role holding ``permissions``."""
    await harness_of(app).add_user(permissions, username=username, password=USER_PASSWORD)


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    r = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["data"]["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return token


@pytest.fixture
async def admin(client_for: ClientFactory) -> httpx.AsyncClient:
    return await client_for(admin=True)


@pytest.fixture
async def anon(client_for: ClientFactory) -> httpx.AsyncClient:
    return await client_for()
