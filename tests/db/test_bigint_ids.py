"""Item 12: ids are 64-bit on both backends, including the sequences that hand them out."""

from __future__ import annotations

from sqlalchemy import text

from catalyst.db.models import INT64_MAX, Server, User
from catalyst.settings import Settings
from tests.plugin_helpers import AppFactory, admin_client

BIG = 2**40


async def test_rows_with_ids_beyond_32_bits(settings: Settings, app_factory: AppFactory) -> None:
    app = await app_factory()
    client = await admin_client(app)
    sessions = app.state.services.db
    async with sessions() as db, db.begin():
        db.add(User(id=BIG, username="big", password_hash="x"))
        await db.flush()
        db.add(Server(id=INT64_MAX, name="top", game="g", node="n", owner_id=BIG))
    r = await client.get(f"/api/servers/{INT64_MAX}")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["id"] == INT64_MAX
    started = await client.post(f"/api/servers/{INT64_MAX}/start")
    assert started.status_code == 200, started.text


async def test_new_ids_continue_beyond_32_bits(settings: Settings, app_factory: AppFactory) -> None:
    app = await app_factory()
    client = await admin_client(app)
    async with app.state.services.db() as db, db.begin():
        if db.get_bind().dialect.name == "postgresql":
            await db.execute(
                text("SELECT setval(pg_get_serial_sequence('servers', 'id'), :v)"), {"v": BIG}
            )
        else:
            db.add(Server(id=BIG, name="seed", game="g", node="n"))
    r = await client.post("/api/servers", json={"name": "next", "game": "g"})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["id"] == BIG + 1
