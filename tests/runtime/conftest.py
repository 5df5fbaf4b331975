"""Helpers for tests of the process runtime: waiting on plugin state events, sandbox skips."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalyst.plugins.process import sandbox
from catalyst.sdk.testing import PluginHarness

FIXTURES = Path(__file__).resolve().parents[1] / "fixture_plugins"
HOSTILE = FIXTURES / "hostile"


def needs_layer(layer: str) -> None:
    """Skip unless this kernel offers ``layer`` (``landlock``, ``seccomp``); with CI=true on
    this machine kind the layer must be there, so the test runs (and fails) instead."""
    offered = sandbox.probe()
    if offered.layers.get(layer):
        return
    reason = f"the running kernel offers no {layer}: " + "; ".join(offered.missing)
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class StateWaiter:
    """Waits for a plugin's ``plugin:<state>`` core event instead of polling."""

    def __init__(self, harness: PluginHarness) -> None:
        self._events: dict[tuple[str, str], asyncio.Event] = {}
        self._sub = harness.services.bus.subscribe("plugin:*", self._seen)

    async def _seen(self, event: str, data: Any) -> None:
        if isinstance(data, dict) and "name" in data:
            self._event(data["name"], event.split(":", 1)[1]).set()

    def _event(self, plugin: str, state: str) -> asyncio.Event:
        return self._events.setdefault((plugin, state), asyncio.Event())

    def expect(self, plugin: str, state: str) -> Callable[[float], Any]:
        """Arm a wait for ``plugin`` reaching ``state``; call the result with a timeout."""
        event = self._event(plugin, state)
        event.clear()

        async def wait(seconds: float) -> None:
            async with asyncio.timeout(seconds):
                await event.wait()

        return wait

    def close(self) -> None:
        self._sub.dispose()
