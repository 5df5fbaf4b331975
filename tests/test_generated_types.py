"""``frontend/src/lib/types.ts`` is what ``make types`` generates from the API's models now."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_types", ROOT / "scripts" / "gen_types.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_types_ts_is_up_to_date() -> None:
    installed = (ROOT / "frontend" / "node_modules" / "openapi-typescript").is_dir()
    if not installed or shutil.which("npx") is None:
        if os.environ.get("CI"):
            pytest.fail("openapi-typescript is not installed: run `cd frontend && npm ci`")
        pytest.skip("openapi-typescript is not installed (cd frontend && npm ci)")
    gen = _generator()
    expected = gen.generate()
    assert gen.TARGET.read_text() == expected, (
        "frontend/src/lib/types.ts is stale: an API model changed. Run `make types` and commit it."
    )


def test_every_push_and_answer_model_is_exported() -> None:
    text = (ROOT / "frontend" / "src" / "lib" / "types.ts").read_text()
    for name in ("PluginSummary", "PluginDetail", "Server", "Catalog", "PermissionInfo",
                 "SocketMessage", "PluginsUpdated", "PluginLogPush", "ServersUpdated"):  # fmt: skip
        assert f"export type {name} = " in text, name
