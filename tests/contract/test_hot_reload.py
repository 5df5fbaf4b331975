"""Hot reload in each runtime: a file save brings the new code, the old registrations go, and a
failing new version leaves the old one serving."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.contract.conftest import Host, Plugin, contract_host, eventually, receive_type
from tests.runtime.conftest import StateWaiter

pytestmark = pytest.mark.asyncio(loop_scope="module")


def version(n: int, route: str) -> str:
    return textwrap.dedent(f"""
    def on_load(ctx):
        ctx.get("/v")(lambda request: {{"v": {n}}})
        ctx.get("/{route}")(lambda request: {{"route": "{route}"}})


    def on_enable(ctx):
        def ping(data, client_id):
            ctx.send_websocket_message(client_id, {{"type": "plugin:{{}}:pong".format(ctx.name),
                                                    "data": {n}}})

        ctx.on_websocket_message("ping-{n}", ping)
    """)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host(runtime: str) -> AsyncIterator[Host]:
    plugins = {
        "saved": Plugin(version(1, "first")),
        "api": Plugin(version(1, "first")),
        "rollback": Plugin(version(1, "first")),
    }
    async with contract_host(runtime, plugins, hot_reload=True) as host:
        yield host


async def get(host: Host, plugin: str, path: str) -> tuple[int, Any]:
    r = await host.client.get(host.url(plugin, path))
    return r.status_code, r.json()


def save(host: Host, plugin: str, code: str) -> None:
    (host.plugins_dir / plugin / "backend" / "plugin.py").write_text(code)


async def test_a_file_save_brings_the_new_code_and_drops_the_old(host: Host) -> None:
    assert await get(host, "saved", "/v") == (200, {"v": 1})
    waiter = StateWaiter(host.h)
    reloaded = waiter.expect("saved", "reloaded")
    save(host, "saved", version(2, "second"))
    await reloaded(15.0)
    waiter.close()
    host.check_runtime("saved")
    assert await get(host, "saved", "/v") == (200, {"v": 2})
    assert await get(host, "saved", "/second") == (200, {"route": "second"})
    assert (await get(host, "saved", "/first"))[0] == 404
    ws = await host.ws()
    await ws.send('{"type": "plugin:saved:ping-1"}')
    await ws.send('{"type": "plugin:saved:ping-2"}')
    error = await receive_type(ws, "error")
    assert "has no such handler" in error["data"]["message"]
    assert (await receive_type(ws, "plugin:saved:pong"))["data"] == 2
    await ws.close()


async def test_the_reload_api_brings_the_new_code(host: Host) -> None:
    """POST /reload loads the code on disk again (after the watcher's reload of the save)."""
    waiter = StateWaiter(host.h)
    reloaded = waiter.expect("api", "reloaded")
    save(host, "api", version(3, "third"))
    await reloaded(15.0)
    waiter.close()
    r = await host.client.post(host.url("api", "/reload"))
    assert r.status_code == 200, r.text
    assert await get(host, "api", "/v") == (200, {"v": 3})
    assert (await get(host, "api", "/first"))[0] == 404


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ("def on_load(ctx):\n    raise KeyError('no such thing')\n", "KeyError"),
        ("def on_load(ctx)\n    pass\n", "SyntaxError"),
    ],
)
async def test_a_failing_new_version_keeps_the_old_one_serving(
    host: Host, broken: str, error: str
) -> None:
    good = version(1, "first")
    save(host, "rollback", good)  # the previous case may have left its broken file
    await eventually(lambda: no_reload_error(host))
    assert await get(host, "rollback", "/v") == (200, {"v": 1})
    save(host, "rollback", broken)

    async def failed() -> bool:
        return (await host.detail("rollback"))["reloadError"] is not None

    await eventually(failed, 15.0)
    detail = await host.detail("rollback")
    assert detail["status"] == "enabled"
    assert error in detail["reloadError"]["message"]
    assert await get(host, "rollback", "/v") == (200, {"v": 1})  # the old version still serves
    assert await get(host, "rollback", "/first") == (200, {"route": "first"})
    api = await host.client.post(host.url("rollback", "/reload"))
    assert api.status_code == 400
    assert await get(host, "rollback", "/v") == (200, {"v": 1})
    host.check_runtime("rollback")


async def no_reload_error(host: Host) -> bool:
    detail = await host.detail("rollback")
    return detail["reloadError"] is None and detail["status"] == "enabled"
