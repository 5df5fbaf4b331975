"""A real server on a free port inside the test's event loop, for real WebSocket clients.

Loaded as a pytest plugin by ``tests/conftest.py``."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from catalyst.app import create_app
from catalyst.auth.bootstrap import ensure_admin
from catalyst.settings import Settings
from tests.conftest import ADMIN_PASSWORD, create_user_with
from tests.plugin_helpers import EXAMPLE


@dataclass
class Live:
    app: FastAPI
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def token(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        import httpx

        async with httpx.AsyncClient(base_url=self.http) as c:
            r = await c.post("/api/auth/login", json={"username": username, "password": password})
            r.raise_for_status()
            return str(r.json()["data"]["token"])

    async def user_token(self, permissions: list[str]) -> str:
        import uuid

        name = f"u-{uuid.uuid4().hex[:6]}"
        await create_user_with(self.app, name, permissions)
        return await self.token(name, "user-password-for-tests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LiveFactory = Callable[..., Awaitable[Live]]


@pytest.fixture
async def live_factory(settings: Settings) -> AsyncIterator[LiveFactory]:
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> Live:
        app = create_app(settings.model_copy(update=overrides))
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        for _ in range(300):
            if server.started:
                break
            await asyncio.sleep(0.02)
        await ensure_admin(app.state.services.db, "admin", ADMIN_PASSWORD)
        return Live(app, port)

    yield start
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def live(settings: Settings, live_factory: LiveFactory) -> Live:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    return await live_factory(plugin_auto_enable=["example-plugin"])


async def receive(ws: websockets.ClientConnection, wait: float = 5.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), wait)
    message: dict[str, Any] = json.loads(raw)
    return message


async def receive_type(
    ws: websockets.ClientConnection, kind: str, wait: float = 5.0
) -> dict[str, Any]:
    """The next message of type ``kind``, skipping others (pushes, logs)."""
    async with asyncio.timeout(wait):
        while True:
            message = await receive(ws, wait)
            if message["type"] == kind:
                return message


async def connect(live: Live, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{live.ws}?token={token}")
    welcome = await receive(ws)
    assert welcome["type"] == "welcome"
    return ws


async def eventually(check: Callable[[], bool], wait: float = 5.0) -> None:
    """Wait (real time) until ``check()`` is true; fail after ``wait`` seconds."""
    deadline = asyncio.get_running_loop().time() + wait
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
