"""Instances started together on a new database: migrations and the first admin happen once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from catalyst.cli import _prepare
from catalyst.settings import Settings
from tests.conftest import FreshDatabases, require_postgres


async def test_instances_preparing_a_new_database_together_all_succeed(tmp_path: Path) -> None:
    """PostgreSQL only: several instances need it (``serve --workers`` refuses SQLite)."""
    await asyncio.to_thread(require_postgres)
    databases = FreshDatabases("postgresql", tmp_path)
    try:
        await prepare_together(await asyncio.to_thread(databases.new), tmp_path)
    finally:
        await asyncio.to_thread(databases.drop_all)


async def prepare_together(url: str, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, database_url=url, data_dir=tmp_path, admin_password="pw-" * 4
    )
    logins = await asyncio.gather(*(_prepare(settings) for _ in range(4)))
    assert sorted(login.created for login in logins) == [False, False, False, True]
    assert {login.username for login in logins} == {"admin"}
