"""The ctx facade hands out no host internals (issue 9, item 17).

A plugin with no permissions used to reach ``ctx._host`` and ``ctx._storage._sessions`` and, from
there, other plugins' storage and secrets and a way to mint an admin session. This walks the
object graph from ``ctx`` the way an exploring plugin author would: every attribute (``_``-prefixed
or not, properties evaluated), ``__dict__`` and ``__slots__`` values, bound methods' ``__self__``
and ``__func__``, ``__wrapped__``, and container items. Function globals and closure cells are not
followed: code in the host process can always reach them (the documented trusted-code limit).
"""

from __future__ import annotations

import types
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from catalyst.auth.sessions import SessionStore
from catalyst.domain.servers import ServerService
from catalyst.events.bus import EventBus
from catalyst.plugins.config import ConfigStore
from catalyst.plugins.context import ContextCore, PluginContext
from catalyst.plugins.dispatcher import Dispatcher
from catalyst.plugins.generation import Generation
from catalyst.plugins.host import PluginHost
from catalyst.plugins.manager import PluginManager
from catalyst.plugins.scheduler import Scheduler
from catalyst.plugins.storage import StorageService
from catalyst.services import Services
from catalyst.settings import Settings
from catalyst.ws.hub import Hub
from tests.plugin_helpers import AppFactory, manager_of, write_plugin

FORBIDDEN: tuple[type, ...] = (
    AsyncEngine,
    Engine,
    async_sessionmaker,
    sessionmaker,
    AsyncSession,
    Session,
    Services,
    PluginManager,
    SessionStore,
    PluginHost,
    ContextCore,
    Generation,
    ConfigStore,
    StorageService,
    ServerService,
    EventBus,
    Hub,
    Scheduler,
    Dispatcher,
    Settings,
    FastAPI,
)
LEAVES = (type, types.ModuleType, str, bytes, int, float, bool, type(None), types.CodeType)
FOLLOWED_DUNDERS = ("__dict__", "__self__", "__func__", "__wrapped__", "__defaults__")
NOT_FOLLOWED = ("__globals__", "__closure__", "__builtins__")


def children(obj: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, LEAVES):
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"[{k!r}]", v
        return
    if isinstance(obj, list | tuple | set | frozenset | deque):
        for i, v in enumerate(obj):
            yield f"[{i}]", v
        return
    names: set[str] = {n for n in dir(obj) if not n.startswith("__")}
    names.update(FOLLOWED_DUNDERS)
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.update([slots] if isinstance(slots, str) else slots)
    for name in sorted(names - set(NOT_FOLLOWED)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = getattr(obj, name)
        except Exception:  # an attribute that cannot be read leads nowhere
            continue
        yield f".{name}", value


def reachable(root: Any, depth: int) -> dict[str, str]:
    """Every forbidden object within ``depth`` steps of ``root``: path → type name."""
    found: dict[str, str] = {}
    seen: set[int] = set()
    frontier: list[tuple[Any, str]] = [(root, "ctx")]
    keep: list[Any] = []  # keep temporaries alive so their ids are not reused
    for _ in range(depth + 1):
        nxt: list[tuple[Any, str]] = []
        for obj, path in frontier:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            keep.append(obj)
            if isinstance(obj, FORBIDDEN):
                found[path] = type(obj).__name__
                continue
            nxt.extend((child, path + step) for step, child in children(obj))
        frontier = nxt
    return found


CODE = """
async def on_enable(ctx):
    await ctx.set_storage("mine", 1)
    ctx.get("/x")(lambda: {"ok": True})
    ctx.on("server:*", lambda data: None)
"""


@pytest.fixture
async def app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    write_plugin(settings.plugins_dir, "nosy", CODE)
    write_plugin(
        settings.plugins_dir,
        "victim",
        "",
        config={"token": {"type": "secret", "default": "s3cret", "description": "t"}},
    )
    return await app_factory(plugin_auto_enable=["nosy", "victim"])


def ctx_of(app: FastAPI, name: str) -> PluginContext:
    ctx = manager_of(app).get(name).instance.ctx  # type: ignore[union-attr]
    assert ctx is not None
    return ctx


async def test_no_host_object_is_reachable_from_ctx(app: FastAPI) -> None:
    ctx = ctx_of(app, "nosy")
    assert await ctx.get_storage("mine") == 1  # the facade works
    assert reachable(ctx, depth=5) == {}


async def test_the_reported_paths_are_gone(app: FastAPI) -> None:
    ctx = ctx_of(app, "nosy")
    for name in ("_host", "_storage", "_instance", "_core", "_db", "__dict__"):
        assert not hasattr(ctx, name), name
    for access in (ctx.db.servers, ctx.db.users):
        for name in ("_sessions", "_service", "_gate", "__dict__"):
            assert not hasattr(access, name), name
    with pytest.raises(AttributeError):
        ctx.stash = 1  # type: ignore[attr-defined]


def test_the_walk_finds_what_the_old_ctx_exposed() -> None:
    """The walker itself works: an object holding a host object one step down is caught."""

    class Leaky:
        def __init__(self) -> None:
            self._host = PluginHost.__new__(PluginHost)

        def method(self) -> None: ...

    assert reachable({"m": Leaky().method}, depth=4) == {"ctx['m'].__self__._host": "PluginHost"}
