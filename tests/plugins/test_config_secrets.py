"""Item 13: secret config values are encrypted at rest, survive restarts and key rotation.

Both backends. The raw ``plugins.config`` row is read directly to show no clear secret is kept.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from typer.testing import CliRunner

from catalyst.cli import app as cli
from catalyst.crypto import SecretBox, is_sealed
from catalyst.db.models import AuditLog, Plugin
from catalyst.settings import Settings
from tests.conftest import stop_app
from tests.plugin_helpers import AppFactory, admin_client, manager_of, write_plugin

SCHEMA = {
    "greeting": {"type": "string", "default": "hi", "description": "Greeting"},
    "token": {"type": "secret", "default": "", "description": "Token"},
    "pin": {"type": "integer", "secret": True, "description": "A secret number"},
}
CODE = """
def on_load(ctx):
    ctx.get("/cfg")(lambda r: ctx.config)
"""
SECRET = "s3cret-value-123"


async def start(settings: Settings, app_factory: AppFactory, **over: Any) -> FastAPI:
    write_plugin(settings.plugins_dir, "vault", CODE, config=SCHEMA)
    return await app_factory(settings.model_copy(update={"plugin_auto_enable": ["vault"], **over}))


async def raw_row(app: FastAPI) -> dict[str, Any]:
    async with app.state.services.db() as db:
        row: dict[str, Any] = await db.scalar(select(Plugin.config).where(Plugin.name == "vault"))
    return row


async def plugin_sees(app: FastAPI) -> dict[str, Any]:
    client = await admin_client(app)
    r = await client.get("/api/plugins/vault/cfg")
    assert r.status_code == 200, r.text
    seen: dict[str, Any] = r.json()
    return seen


async def test_secrets_are_stored_encrypted_and_read_back_plain(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    r = await client.put(
        "/api/plugins/vault/config",
        json={"config": {"token": SECRET, "pin": 4321, "greeting": "yo"}},
    )
    assert r.status_code == 200, r.text
    row = await raw_row(app)
    assert SECRET not in json.dumps(row)
    assert "4321" not in json.dumps(row)
    assert is_sealed(row["token"])
    assert is_sealed(row["pin"])
    assert row["greeting"] == "yo"  # only secrets are sealed
    assert await plugin_sees(app) == {"greeting": "yo", "token": SECRET, "pin": 4321}
    shown = (await client.get("/api/plugins/vault")).json()["data"]["config"]
    assert shown == {"greeting": "yo", "token": "********", "pin": "********"}
    # values survive a restart
    await stop_app(app)
    again = await start(settings, app_factory)
    assert await plugin_sees(again) == {"greeting": "yo", "token": SECRET, "pin": 4321}


async def test_clear_secrets_of_older_versions_are_encrypted_at_start(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    async with app.state.services.db() as db, db.begin():
        await db.execute(
            update(Plugin).where(Plugin.name == "vault").values(config={"token": SECRET})
        )
    await stop_app(app)
    again = await start(settings, app_factory)
    row = await raw_row(again)
    async with again.state.services.db() as db:
        sealed = (await db.scalars(select(AuditLog).where(AuditLog.action == "secrets.seal"))).one()
    assert sealed.actor == "system:host"
    assert sealed.details == {"plugins": ["vault"]}
    assert is_sealed(row["token"])
    assert SECRET not in json.dumps(row)
    assert (await plugin_sees(again))["token"] == SECRET


async def test_a_wrong_key_puts_the_plugin_in_error_not_the_host_down(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    await client.put("/api/plugins/vault/config", json={"config": {"token": SECRET}})
    await stop_app(app)
    wrong = await start(settings, app_factory, secret_key="another-key")
    record = manager_of(wrong).get("vault")
    assert record.state.value == "error"
    assert record.error is not None
    assert "cannot be decrypted" in record.error
    assert "'token'" in record.error
    client = await admin_client(wrong)
    assert (await client.get("/api/health")).status_code == 200
    detail = (await client.get("/api/plugins/vault")).json()["data"]
    assert detail["status"] == "error"
    assert "cannot be decrypted" in detail["error"]
    # the undecryptable value is kept as it was: the right key still opens it
    other = await client.put("/api/plugins/vault/config", json={"config": {"pin": 5}})
    assert other.status_code == 200, other.text
    assert manager_of(wrong).config.problem("vault") is not None
    await stop_app(wrong)
    # the original key opens the token again, the key the pin was saved with opens the pin
    right = await start(
        settings, app_factory, secret_key="test-secret", secret_key_previous="another-key"
    )
    assert await plugin_sees(right) == {"greeting": "hi", "token": SECRET, "pin": 5}


async def test_saving_a_new_secret_clears_the_problem(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    await client.put("/api/plugins/vault/config", json={"config": {"token": SECRET}})
    await stop_app(app)
    wrong = await start(settings, app_factory, secret_key="another-key")
    client = await admin_client(wrong)
    assert manager_of(wrong).config.problem("vault") is not None
    r = await client.put("/api/plugins/vault/config", json={"config": {"token": "fresh"}})
    assert r.status_code == 200, r.text
    assert manager_of(wrong).config.problem("vault") is None
    await stop_app(wrong)
    again = await start(settings, app_factory, secret_key="another-key")
    assert await plugin_sees(again) == {"greeting": "hi", "token": "fresh", "pin": None}


async def test_rotation_reencrypts_so_the_old_key_is_no_longer_needed(
    settings: Settings, app_factory: AppFactory
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    await client.put("/api/plugins/vault/config", json={"config": {"token": SECRET, "pin": 7}})
    before = await raw_row(app)
    await stop_app(app)
    env = {
        "CATALYST_DATABASE_URL": settings.database_url,
        "CATALYST_DATA_DIR": str(settings.data_dir),
        "CATALYST_SECRET_KEY": "rotated-key",
        "CATALYST_SECRET_KEY_PREVIOUS": None,
    }
    runner = CliRunner()
    wrong = await asyncio.to_thread(
        runner.invoke, cli, ["secrets", "rotate", "--old-key", "not-the-key"], env=env
    )
    assert wrong.exit_code == 1
    assert "cannot be decrypted" in wrong.output
    done = await asyncio.to_thread(
        runner.invoke, cli, ["secrets", "rotate", "--old-key", "test-secret"], env=env
    )
    assert done.exit_code == 0, done.output
    assert "Re-encrypted 2 secret value(s)" in done.output
    after_row = await start(settings, app_factory, secret_key="rotated-key")
    row = await raw_row(after_row)
    assert row["token"] != before["token"]
    assert SecretBox("rotated-key").is_current(row["token"])
    assert not SecretBox("test-secret").is_current(row["token"])
    # started with the new key only: no previous key needed any more
    assert (await plugin_sees(after_row))["token"] == SECRET
    async with after_row.state.services.db() as db:
        entries = (
            await db.scalars(select(AuditLog).where(AuditLog.action == "secrets.rotate"))
        ).all()
    assert [e.details["resealed"] for e in entries] == [0, 2]
    assert entries[-1].actor == "system:cli"


@pytest.mark.parametrize("value", ["", None])
async def test_empty_secrets_stay_unset(
    settings: Settings, app_factory: AppFactory, value: str | None
) -> None:
    app = await start(settings, app_factory)
    client = await admin_client(app)
    await client.put("/api/plugins/vault/config", json={"config": {"token": value}})
    assert (await plugin_sees(app))["token"] == ""
