"""``catalyst user create|list|set-role|disable|enable|reset-password`` against a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalyst.auth.passwords import verify_password
from catalyst.cli import app
from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import AuditLog, User

runner = CliRunner()


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATALYST_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("CATALYST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "c.db"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def read(db: Path) -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    async def go() -> tuple[dict[str, User], list[tuple[str, str, str]]]:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with session_factory(engine)() as s:
                from sqlalchemy import select

                users = {u.username: u for u in (await s.scalars(select(User))).all()}
                audit = [
                    (a.actor, a.action, a.target)
                    for a in (await s.scalars(select(AuditLog).order_by(AuditLog.id))).all()
                ]
                return users, audit
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_the_whole_account_lifecycle_from_the_shell(db_file: Path) -> None:
    code, output = invoke("user", "create-admin", "--username", "root", "--password", "root-pass-1")
    assert code == 0, output
    code, output = invoke("user", "create", "ann", "--role", "operator")
    assert code == 0, output
    generated = output.strip().splitlines()[-1].strip()
    assert "Generated password (shown once)" in output
    users, _ = read(db_file)
    assert verify_password(users["ann"].password_hash, generated)
    assert [r.name for r in users["ann"].roles] == ["operator"]

    code, output = invoke("user", "list")
    assert code == 0, output
    assert "ann" in output
    assert "operator" in output
    assert "argon2" not in output

    assert invoke("user", "set-role", "ann", "viewer")[0] == 0
    assert invoke("user", "disable", "ann")[0] == 0
    users, _ = read(db_file)
    assert users["ann"].is_active is False
    assert [r.name for r in users["ann"].roles] == ["viewer"]
    assert invoke("user", "enable", "ann")[0] == 0
    code, output = invoke("user", "reset-password", "ann", "--password", "chosen-pass-1")
    assert code == 0, output
    assert "Generated" not in output
    users, audit = read(db_file)
    assert users["ann"].is_active is True
    assert verify_password(users["ann"].password_hash, "chosen-pass-1")
    assert audit == [
        ("system:setup", "user.create", "root"),
        ("system:cli", "user.create", "ann"),
        ("system:cli", "user.role", "ann"),
        ("system:cli", "user.disable", "ann"),
        ("system:cli", "user.enable", "ann"),
        ("system:cli", "user.password_reset", "ann"),
    ]


def test_refusals_exit_non_zero_with_the_reason(db_file: Path) -> None:
    assert invoke("user", "create-admin", "--username", "root", "--password", "root-pass-1")[0] == 0
    code, output = invoke("user", "disable", "root")
    assert code == 1
    assert "no enabled admin" in output
    code, output = invoke("user", "set-role", "root", "viewer")
    assert code == 1
    assert "no enabled admin" in output
    code, output = invoke("user", "create", "bo", "--role", "nope")
    assert code == 1
    assert "Unknown role" in output
    code, output = invoke("user", "disable", "ghost")
    assert code == 1
    assert "not found" in output
    code, output = invoke("user", "create", "bo", "--password", "short")
    assert code == 2
    users, _ = read(db_file)
    assert users["root"].is_active is True
    assert "bo" not in users
