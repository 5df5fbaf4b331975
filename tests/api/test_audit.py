"""``GET /api/audit`` on SQLite and PostgreSQL, and the audit of watcher-triggered reloads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from catalyst.audit import WATCHER
from catalyst.db.models import AuditLog
from catalyst.settings import Settings
from tests.conftest import ClientFactory
from tests.live_server import LiveFactory
from tests.plugin_helpers import copy_fixture

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def seed(app: FastAPI) -> None:
    """30 entries, one a minute from T0: actors alternate, actions cycle, targets by threes."""
    actions = ["plugin.reload", "plugin.enable", "user.create", "plugin_other.x", "plugins.y"]
    async with app.state.services.db() as db, db.begin():
        for i in range(30):
            db.add(
                AuditLog(
                    actor="alice" if i % 2 == 0 else "bob",
                    action=actions[i % len(actions)],
                    target=f"t{i // 3}",
                    details={"i": i},
                    created_at=T0 + timedelta(minutes=i),
                )
            )


async def fetch(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/audit", params=params)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def numbers(data: dict[str, Any]) -> list[int]:
    return [e["details"]["i"] for e in data["items"] if "i" in e["details"]]


async def test_filters_newest_first(app: FastAPI, client_for: ClientFactory) -> None:
    reader = await client_for(permissions=["admin.read"])
    await seed(app)
    everything = await fetch(reader, limit=200)
    assert numbers(everything) == list(range(29, -1, -1))
    first = everything["items"][0]
    assert set(first) == {"id", "actor", "action", "target", "details", "createdAt"}
    assert datetime.fromisoformat(first["createdAt"]) == T0 + timedelta(minutes=29)

    assert numbers(await fetch(reader, actor="bob", limit=200)) == list(range(29, 0, -2))
    # An action is exact, or a dotted prefix: "plugin" is not a prefix of "plugins.y".
    assert numbers(await fetch(reader, action="plugin.reload")) == [25, 20, 15, 10, 5, 0]
    plugin = await fetch(reader, action="plugin", limit=200)
    assert {e["action"] for e in plugin["items"]} == {"plugin.reload", "plugin.enable"}
    assert plugin["total"] == 12
    assert (await fetch(reader, action="plugin.*"))["total"] == 12
    assert (await fetch(reader, action="plugin_"))["total"] == 0  # LIKE wildcards are escaped
    assert numbers(await fetch(reader, target="t3")) == [11, 10, 9]
    since = (T0 + timedelta(minutes=10)).isoformat()
    until = (T0 + timedelta(minutes=13)).isoformat()
    assert numbers(await fetch(reader, since=since, until=until)) == [12, 11, 10]
    naive = (T0 + timedelta(minutes=28)).replace(tzinfo=None).isoformat()  # read as UTC
    assert numbers(await fetch(reader, since=naive)) == [29, 28]
    combined = await fetch(reader, actor="alice", action="user", since=since)
    assert numbers(combined) == [22, 12]


async def test_pages_with_a_cursor_cover_everything_once(
    app: FastAPI, client_for: ClientFactory
) -> None:
    reader = await client_for(permissions=["admin.read"])
    await seed(app)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7, "actor": "alice"}
        if cursor is not None:
            params["cursor"] = cursor
        page = await fetch(reader, **params)
        assert page["total"] == 15
        seen += numbers(page)
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(range(28, -1, -2))
    assert pages == 3
    far = await fetch(reader, actor="alice", cursor=3_000_000_000, limit=200)  # > int4
    assert numbers(far) == list(range(28, -1, -2))


async def test_bounds_and_permissions(client_for: ClientFactory) -> None:
    reader = await client_for(permissions=["admin.read"])
    for params in (
        {"limit": 201},
        {"limit": 0},
        {"cursor": 0},
        {"since": "yesterday"},
        {"actor": "x" * 256},
        {"action": "*"},
    ):
        r = await reader.get("/api/audit", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["success"] is False
    users_only = await client_for(permissions=["user.read", "user.write"])
    assert (await users_only.get("/api/audit")).status_code == 403
    anon = await client_for()
    assert (await anon.get("/api/audit")).status_code == 401


async def test_api_changes_show_up_with_their_actor(admin: httpx.AsyncClient) -> None:
    r = await admin.post("/api/users", json={"username": "newbie", "role": "viewer"})
    assert r.status_code == 201
    data = await fetch(admin, action="user.create", target="newbie")
    assert data["total"] == 1
    assert data["items"][0]["actor"] == "admin"


async def test_watcher_reloads_are_audited_with_success_and_failure(
    settings: Settings, live_factory: LiveFactory
) -> None:
    folder = copy_fixture(settings.plugins_dir, "hot", files={"backend/version.py": "V = 1\n"})
    live = await live_factory(hot_reload=True, plugin_auto_enable=["hot"])
    token = await live.token()
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {token}"}
    ) as client:

        async def watcher_entries() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (await fetch(client, actor=WATCHER))["items"]
            return items

        (folder / "backend" / "version.py").write_text("V = 2\n")
        async with asyncio.timeout(10):
            while not (entries := await watcher_entries()):
                await asyncio.sleep(0.02)
        assert entries[0]["action"] == "plugin.reload"
        assert entries[0]["target"] == "hot"
        assert entries[0]["details"]["ok"] is True

        (folder / "backend" / "version.py").write_text("V = (\n")
        async with asyncio.timeout(10):
            while len(entries := await watcher_entries()) < 2:
                await asyncio.sleep(0.02)
        failed = entries[0]
        assert failed["details"]["ok"] is False
        assert "SyntaxError" in failed["details"]["error"]

        # A new folder is picked up by a rescan, audited too.
        copy_fixture(settings.plugins_dir, "hot", "fresh")
        async with asyncio.timeout(10):
            while not (
                found := (await fetch(client, actor=WATCHER, action="plugin.rescan"))["items"]
            ):
                await asyncio.sleep(0.02)
        assert "fresh" in found[0]["details"]["added"]
