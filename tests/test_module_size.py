"""Small modules, one concept each: a module over the limit needs a written reason."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["catalyst"]["module-size"]


def test_no_module_is_over_the_limit_without_a_reason() -> None:
    limit = CONFIG["max-lines"]
    allowed = CONFIG.get("allow", {})
    too_long = {}
    for path in sorted((ROOT / "src" / "catalyst").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel:
            continue
        lines = len(path.read_text().splitlines())
        if lines > limit and rel not in allowed:
            too_long[rel] = lines
    assert too_long == {}, f"split these modules or list them with a reason: {too_long}"


def test_every_allowance_is_still_needed_and_has_a_reason() -> None:
    for rel, reason in CONFIG.get("allow", {}).items():
        assert len(reason) > 20, rel
        lines = len((ROOT / rel).read_text().splitlines())
        assert lines > CONFIG["max-lines"], f"{rel} is short enough now: drop its allowance"
