"""Hosts served over a real TCP socket (``PluginHarness(live=True)``), for real WebSocket clients,
and helpers to talk to their ``/ws``.

Loaded as a pytest plugin by ``tests/conftest.py``."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import websockets

from catalyst.sdk.testing import PluginHarness
from catalyst.settings import Settings
from tests.conftest import HarnessFactory
from tests.plugin_helpers import EXAMPLE

LiveFactory = Callable[..., Awaitable[PluginHarness]]


@pytest.fixture
def live_factory(harness_factory: HarnessFactory) -> LiveFactory:
    """``await live_factory(**settings_overrides)``: a host on a free port, its admin created."""

    async def start(**overrides: Any) -> PluginHarness:
        harness = await harness_factory(live=True, **overrides)
        await harness.create_admin()
        return harness

    return start


@pytest.fixture
async def live(settings: Settings, live_factory: LiveFactory) -> PluginHarness:
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


async def connect(live: PluginHarness, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{live.ws_url}?token={token}")
    welcome = await receive(ws)
    assert welcome["type"] == "welcome"
    return ws


async def eventually(check: Callable[[], bool], wait: float = 5.0) -> None:
    """Wait (real time) until ``check()`` is true; fail after ``wait`` seconds (a bounded poll of
    a condition that has no event to wait on)."""
    deadline = asyncio.get_running_loop().time() + wait
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
