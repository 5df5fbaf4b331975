"""``deploy/catalyst.service`` and ``deploy/catalyst.env``: the settings file holds only real
settings that several workers accept, the unit runs a command ``catalyst`` has, gives the
graceful stop the time it takes, and ``systemd-analyze verify`` finds nothing to say about it
(skipped where systemd's tools are not installed)."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from catalyst.cli import app as cli_app
from catalyst.cli import workers_refusals
from catalyst.serving import ENDING
from catalyst.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "catalyst.service"
ENV = ROOT / "deploy" / "catalyst.env"
VENV_CATALYST = "/opt/catalyst/.venv/bin/catalyst"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text())
    return parser


def test_the_environment_file_holds_settings_that_several_workers_accept() -> None:
    names = [
        line.split("=", 1)[0]
        for line in ENV.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    fields = {f"CATALYST_{name.upper()}" for name in Settings.model_fields}
    assert set(names) <= fields, set(names) - fields
    settings = Settings(_env_file=ENV)  # every value parses
    settings.workers = 2
    assert workers_refusals(settings) == []


def test_the_unit_runs_catalyst_serve_with_workers_and_waits_for_the_graceful_stop() -> None:
    service = unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == VENV_CATALYST
    group: Any = typer.main.get_command(cli_app)  # a click group (typer may vendor click)
    serve = group.commands[command[1]]
    params = serve.make_context("serve", command[2:]).params  # refuses unknown options
    assert params["workers"] == 2
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"  # a rolling restart of workers
    assert service["KillSignal"] == "SIGTERM"
    assert service["KillMode"] == "mixed"  # the main process stops its workers itself
    assert service["Restart"] == "on-failure"
    defaults = Settings(_env_file=None)
    stop = defaults.shutdown_grace_seconds + ENDING + 2 * defaults.shutdown_hook_timeout
    assert float(service["TimeoutStopSec"]) >= 2 * stop


def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    verify = shutil.which("systemd-analyze")
    if verify is None:
        pytest.skip("systemd-analyze is not installed: the unit is not verified here")
    local = (
        UNIT.read_text()
        .replace(VENV_CATALYST, str(ROOT / ".venv" / "bin" / "catalyst"))
        .replace("WorkingDirectory=/opt/catalyst", f"WorkingDirectory={tmp_path}")
        .replace("EnvironmentFile=/etc/catalyst/catalyst.env", f"EnvironmentFile={ENV}")
    )
    assert local.count(str(tmp_path)) == 1
    assert str(ENV) in local
    (tmp_path / "catalyst.service").write_text(local)
    result = subprocess.run(
        [verify, "verify", str(tmp_path / "catalyst.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", "systemd-analyze has remarks"
