"""The plugin contract suite, run against both runtimes.

Every test module takes the module-scoped ``runtime`` fixture (``"process"`` and
``"inprocess"``), starts its own hosts with :func:`contract_host` (``plugin_force_runtime`` set to
that runtime) and observes plugin code only from outside: HTTP routes, WebSocket messages, the
admin API, storage values and the plugin's log (``GET /api/plugins/<name>/logs``). Plugin code
makes its ctx calls itself, in the child process in the process runtime.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets

from catalyst.plugins.process.remote import ProcessGeneration
from catalyst.plugins.storage import StorageService
from catalyst.sdk.testing import PluginHarness
from tests.plugin_helpers import write_plugin

RUNTIMES = ("process", "inprocess")


@pytest.fixture(scope="module", params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """The runtime every plugin of the module's hosts is forced into."""
    value: str = request.param
    return value


@dataclass
class Plugin:
    """A plugin to write: its ``backend/plugin.py`` and manifest fields (``permissions``...)."""

    code: str
    enabled: bool = True
    manifest: dict[str, Any] = field(default_factory=dict)


class Host:
    """A started host and the ways to observe its plugins from outside."""

    def __init__(self, harness: PluginHarness, runtime: str, plugins_dir: Path) -> None:
        self.h = harness
        self.runtime = runtime
        self.plugins_dir = plugins_dir
        self.client = harness.client

    def url(self, plugin: str, path: str = "") -> str:
        return f"/api/plugins/{plugin}{path}"

    async def detail(self, plugin: str) -> dict[str, Any]:
        r = await self.client.get(self.url(plugin))
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    async def logs(self, plugin: str, since: int = 0) -> list[dict[str, Any]]:
        """The plugin's log records with a sequence number above ``since``."""
        r = await self.client.get(self.url(plugin, "/logs"), params={"limit": 500, "since": since})
        assert r.status_code == 200, r.text
        records: list[dict[str, Any]] = r.json()["data"]
        return records

    async def log_mark(self, plugin: str) -> int:
        """The sequence number of the plugin's latest log record (0 when none)."""
        records = await self.logs(plugin)
        return int(records[-1]["seq"]) if records else 0

    async def set_enabled(self, plugin: str, enabled: bool) -> dict[str, Any]:
        r = await self.client.post(self.url(plugin, "/enable"), json={"enabled": enabled})
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def storage(self, plugin: str) -> StorageService:
        """The plugin's storage, read by the host (not through the plugin)."""
        return StorageService(self.h.services.db, plugin)

    async def ws(self, token: str | None = None) -> websockets.ClientConnection:
        """A real WebSocket client of ``/ws`` (the admin's unless ``token``), past its welcome."""
        ws = await websockets.connect(f"{self.h.ws_url}?token={token or await self.h.token()}")
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome"
        return ws

    def check_runtime(self, plugin: str) -> None:
        """The plugin really runs in this host's runtime."""
        instance = self.h.plugin(plugin).instance
        assert isinstance(instance, ProcessGeneration) == (self.runtime == "process"), instance


async def receive_type(
    ws: websockets.ClientConnection, kind: str, wait: float = 10.0
) -> dict[str, Any]:
    """The next message of type ``kind``, skipping others."""
    async with asyncio.timeout(wait):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def eventually(check: Callable[[], Awaitable[bool]], wait: float = 10.0) -> None:
    """A bounded poll of a condition that has no event to wait on (a log record, a file)."""
    async with asyncio.timeout(wait):
        while not await check():
            await asyncio.sleep(0.02)


def write_plugins(folder: Path, plugins: dict[str, Plugin]) -> None:
    for name, spec in plugins.items():
        write_plugin(folder, name, spec.code, **spec.manifest)


@asynccontextmanager
async def contract_host(
    runtime: str,
    plugins: dict[str, Plugin],
    *,
    folder: Path | None = None,
    database_url: str | None = None,
    also_enabled: Sequence[str] = (),
    **overrides: Any,
) -> AsyncIterator[Host]:
    """A live host (real TCP, admin logged in) serving ``plugins`` (written into ``folder``, a
    temporary one by default) in ``runtime``; the ones marked ``enabled``, and the plugins already
    in ``folder`` named in ``also_enabled``, are enabled (their permissions granted) and checked
    to be."""
    with tempfile.TemporaryDirectory(prefix="catalyst-contract-") as tmp:
        plugins_dir = folder or Path(tmp) / "plugins"
        plugins_dir.mkdir(parents=True, exist_ok=True)
        write_plugins(plugins_dir, plugins)
        enabled = [name for name, spec in plugins.items() if spec.enabled] + list(also_enabled)
        async with PluginHarness(
            plugins_dir=plugins_dir,
            database_url=database_url,
            live=True,
            plugin_auto_enable=enabled,
            plugin_force_runtime=runtime,
            **overrides,
        ) as harness:
            host = Host(harness, runtime, plugins_dir)
            for name in enabled:
                record = harness.plugin(name)
                assert record.enabled, f"{name}: {record.error}\n{record.error_detail}"
                host.check_runtime(name)
            yield host
