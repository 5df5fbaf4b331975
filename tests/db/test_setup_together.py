"""Instances started together on one fresh PostgreSQL database (several machines, or a deploy
that starts them all at once) run ``catalyst serve``'s set-up (migrations, then the first admin)
one after the other, so none fails on another's half-created tables or admin.

Three real processes, each released into the set-up at the same moment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from catalyst.db import migrate
from catalyst.db.engine import create_engine
from tests.conftest import FreshDatabases, require_postgres

#: A process that imports the host, says so, and runs the set-up when told.
SETUP = """
import asyncio, sys
from catalyst.cli import _prepare
from catalyst.settings import Settings
settings = Settings(admin_password="a-long-password")
print("ready", flush=True)
sys.stdin.readline()
print(f"created={asyncio.run(_prepare(settings)).created}")
"""


def test_instances_starting_together_migrate_and_create_the_admin_once(tmp_path: Path) -> None:
    require_postgres()
    databases = FreshDatabases("postgresql", tmp_path)
    try:
        url = databases.new()
        env = {**os.environ, "CATALYST_DATABASE_URL": url, "CATALYST_DATA_DIR": str(tmp_path)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", SETUP],
                env=env,
                cwd=tmp_path,
                text=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        for proc in procs:  # each has imported the host and waits for the word
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
        assert sorted(outputs) == ["created=False\n", "created=False\n", "created=True\n"]

        async def revision() -> str | None:
            engine = create_engine(url)
            try:
                return await migrate.current_revision(engine)
            finally:
                await engine.dispose()

        assert asyncio.run(revision()) == migrate.head_revision()
    finally:
        databases.drop_all()
