"""The example plugin (catalyst-plugins/example-plugin) end to end in each runtime."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from catalyst.clock import FakeClock
from tests.contract.conftest import Host, contract_host, receive_type
from tests.plugin_helpers import EXAMPLE

pytestmark = pytest.mark.asyncio(loop_scope="module")
NAME = "example-plugin"


def plugins_folder(tmp: Path) -> Path:
    folder = tmp / "plugins"
    folder.mkdir()
    shutil.copytree(EXAMPLE, folder / NAME)
    return folder


async def enabled_example(
    runtime: str, folder: Path, database_url: str | None = None
) -> AsyncIterator[Host]:
    # a clock that stands still: the five-minute task fires only when a test runs it
    async with contract_host(
        runtime,
        {},
        folder=folder,
        database_url=database_url,
        clock=FakeClock(),
        also_enabled=[NAME],
        admin_password="contract-admin-password",  # the same admin across a restart
    ) as host:
        yield host


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(runtime: str) -> AsyncIterator[Host]:
    with tempfile.TemporaryDirectory() as tmp:
        async for host in enabled_example(runtime, plugins_folder(Path(tmp))):
            yield host


def url(path: str) -> str:
    return f"/api/plugins/{NAME}{path}"


async def test_hello_counts_requests_through_the_middleware(host: Host) -> None:
    first = await host.client.get(url("/hello"))
    second = await host.client.get(url("/hello"))
    assert first.json()["message"] == "Hello from the example plugin!"
    assert second.json()["requestCount"] == first.json()["requestCount"] + 1
    assert float(second.headers["X-Example-Time-Ms"]) >= 0
    anon = await host.h.new_client().get(url("/hello"))
    assert anon.status_code == 200  # public


async def test_hello_uses_the_configured_greeting(host: Host) -> None:
    config = {"config": {"greeting": "Howdy"}}
    assert (await host.client.put(url("/config"), json=config)).status_code == 200
    assert (await host.client.get(url("/hello"))).json()["message"] == "Howdy"
    config = {"config": {"greeting": "Hello from the example plugin!"}}
    assert (await host.client.put(url("/config"), json=config)).status_code == 200


async def test_echo_and_its_limit(host: Host) -> None:
    r = await host.client.post(url("/echo"), json={"test": "data", "n": [1, "ü"]})
    assert (r.status_code, r.json()["echo"]) == (200, {"test": "data", "n": [1, "ü"]})
    assert (await host.client.put(url("/config"), json={"config": {"echoLimit": 16}})).is_success
    big = await host.client.post(url("/echo"), json={"text": "x" * 100})
    assert big.status_code == 413
    await host.client.put(url("/config"), json={"config": {"echoLimit": 65536}})


async def test_stats(host: Host) -> None:
    stats = (await host.client.get(url("/stats"))).json()["data"]
    assert stats["installedAt"]
    assert stats["uptimeSeconds"] >= 0
    assert stats["requestCount"] >= 1
    assert await host.storage(NAME).get("request_count") == stats["requestCount"]


async def test_ping_pong_over_ws(host: Host) -> None:
    ws = await host.ws(await host.h.user_token(["server.read"]))
    await ws.send(json.dumps({"type": f"plugin:{NAME}:ping", "data": {"n": 1}}))
    pong = await receive_type(ws, f"plugin:{NAME}:pong")
    assert pong["data"]["original"] == {"n": 1}
    assert pong["data"]["timestamp"]
    await ws.close()


async def test_its_task_runs_now(host: Host) -> None:
    before = await host.storage(NAME).get("task_runs", 0)
    mark = await host.log_mark(NAME)
    r = await host.client.post(url("/tasks/five-minute/run"))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["lastError"] is None
    assert await host.storage(NAME).get("task_runs") == before + 1
    stats = (await host.client.get(url("/stats"))).json()["data"]
    assert (stats["taskRunCount"], stats["lastTaskRun"] is not None) == (before + 1, True)
    logs = await host.logs(NAME, mark)
    assert {"runs": before + 1} in [
        x["fields"] for x in logs if x["message"] == "five-minute task ran"
    ]


async def test_its_server_event_listeners(host: Host) -> None:
    created = await host.client.post("/api/servers", json={"name": "mc", "game": "minecraft"})
    server_id = created.json()["data"]["id"]
    mark = await host.log_mark(NAME)
    await host.client.post(f"/api/servers/{server_id}/start")
    await host.client.post(f"/api/servers/{server_id}/stop")
    events = (await host.client.get(url("/stats"))).json()["data"]["serverEvents"]
    assert events["server_events:server:started"] >= 1
    assert events["server_events:server:stopped"] >= 1
    logged = [x["fields"] for x in await host.logs(NAME, mark) if x["message"] == "server event"]
    assert [(f["event"], f["server"]) for f in logged] == [
        ("server:started", "mc"),
        ("server:stopped", "mc"),
    ]


async def test_storage_survives_a_host_restart(runtime: str, tmp_path: Path) -> None:
    """Its own hosts: the first one stops, the second one serves the same database."""
    folder = plugins_folder(tmp_path)
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    async for first in enabled_example(runtime, folder, database):
        for _ in range(3):
            await first.client.get(url("/hello"))
        before = (await first.client.get(url("/stats"))).json()["data"]
    async for second in enabled_example(runtime, folder, database):
        after = (await second.client.get(url("/stats"))).json()["data"]
        assert after["installedAt"] == before["installedAt"]
        assert after["requestCount"] == before["requestCount"] + 1  # this /stats call
