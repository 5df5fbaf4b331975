from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalyst import __version__
from catalyst.cli import app
from catalyst.settings import Settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATALYST_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("CATALYST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


@pytest.mark.usefixtures("env")
def test_db_upgrade_then_downgrade() -> None:
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert "Database at revision" in up.output
    down = runner.invoke(app, ["db", "downgrade"])
    assert down.exit_code == 0, down.output


@pytest.mark.usefixtures("env")
def test_create_admin_generates_a_password_once() -> None:
    first = runner.invoke(app, ["user", "create-admin", "--username", "root"])
    assert first.exit_code == 0, first.output
    assert "Created admin 'root' with password:" in first.output
    again = runner.invoke(app, ["user", "create-admin", "--username", "root"])
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings(_env_file=None, data_dir=tmp_path / "d")
    key = s.resolved_secret_key()
    assert len(key) > 40
    assert s.resolved_secret_key() == key
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings(_env_file=None, secret_key="given").resolved_secret_key() == "given"


def test_settings_read_catalyst_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALYST_PORT", "4321")
    monkeypatch.setenv("CATALYST_REDIS_URL", "redis://127.0.0.1:6379/1")
    s = Settings(_env_file=None)
    assert s.port == 4321
    assert s.redis_url == "redis://127.0.0.1:6379/1"
    assert str(s.database_url).startswith("sqlite+aiosqlite:///")


def test_plugin_new_creates_a_valid_plugin_that_loads(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plugin", "new", "my-tool", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "my-tool"
    assert (folder / "backend" / "plugin.py").is_file()
    check = runner.invoke(app, ["plugin", "validate", str(folder)])
    assert check.exit_code == 0, check.output
    assert "my-tool 0.1.0: valid" in check.output
    again = runner.invoke(app, ["plugin", "new", "my-tool", "--dir", str(tmp_path)])
    assert again.exit_code == 1
    bad = runner.invoke(app, ["plugin", "new", "Bad_Name", "--dir", str(tmp_path)])
    assert bad.exit_code == 2


async def test_scaffolded_plugin_serves_its_route(tmp_path: Path, app_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.plugin_helpers import admin_client

    settings_dir = tmp_path / "scaffold-plugins"
    settings_dir.mkdir()
    runner.invoke(app, ["plugin", "new", "scaffolded", "--dir", str(settings_dir)])
    fastapi_app = await app_factory(plugins_dir=settings_dir, plugin_auto_enable=["scaffolded"])
    client = await admin_client(fastapi_app)
    r = await client.get("/api/plugins/scaffolded/hello")
    assert r.json() == {"success": True, "message": "Hello from Scaffolded!"}


def test_plugin_validate_lists_every_problem() -> None:
    bad = Path(__file__).parent / "fixture_plugins" / "bad-manifest"
    result = runner.invoke(app, ["plugin", "validate", str(bad)])
    assert result.exit_code == 1
    assert "problem(s)" in result.output
    assert result.output.count("\n  ") >= 6
