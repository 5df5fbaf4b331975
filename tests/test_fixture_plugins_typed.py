"""The fixture plugins' Python type-checks with mypy --strict, one plugin per run.

Every plugin has its own ``backend/plugin.py``, so they cannot share the project's mypy run (they
would clash as module ``plugin``); pyproject excludes them there and this test checks each one."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixture_plugins"
PLUGINS = sorted(
    manifest.parent
    for manifest in FIXTURES.rglob("plugin.json")
    if any(manifest.parent.rglob("*.py"))
)


def test_there_are_fixture_plugins_with_python() -> None:
    assert len(PLUGINS) >= 5


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_plugin_passes_mypy_strict(plugin: Path) -> None:
    files = [str(f) for f in sorted(plugin.rglob("*.py"))]
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), *files])
    assert status == 0, out + err
