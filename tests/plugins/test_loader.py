"""Importing plugin code: private package names, fresh generations, clean failure."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from catalyst.plugins.loader import ROOT, entry_module_name, import_plugin


def make(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_entry_module_names() -> None:
    assert entry_module_name("backend/plugin.py") == "backend.plugin"
    assert entry_module_name("backend/__init__.py") == "backend"
    assert entry_module_name("main.py") == "main"


def test_relative_imports_and_package_entry(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "p",
        {
            "backend/__init__.py": "from .helpers.deep import VALUE\n",
            "backend/helpers/deep.py": "from ..sibling import BASE\nVALUE = BASE + 1\n",
            "backend/sibling.py": "BASE = 41\n",
        },
    )
    code, module = import_plugin("p", folder, "backend/__init__.py")
    try:
        assert module.VALUE == 42
        assert module.__name__.startswith(f"{ROOT}.p_")
        assert {m.rsplit(".", 1)[-1] for m in code.module_names()} >= {"deep", "sibling"}
    finally:
        code.forget()
    assert code.module_names() == []
    assert not any(m.startswith(code.package) for m in sys.modules)


def test_every_load_is_a_fresh_generation_even_within_the_same_second(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "p", {"backend/plugin.py": "from .v import V\n", "backend/v.py": "V = 1\n"}
    )
    first, m1 = import_plugin("p", folder, "backend/plugin.py")
    (folder / "backend" / "v.py").write_text("V = 2\n")  # same size, same second
    stat = (folder / "backend" / "v.py").stat()
    os.utime(folder / "backend" / "v.py", (stat.st_atime, stat.st_mtime))
    second, m2 = import_plugin("p", folder, "backend/plugin.py")
    try:
        assert (m1.V, m2.V) == (1, 2)
        assert first.package != second.package
        assert not (folder / "backend" / "__pycache__").exists()  # no bytecode written
    finally:
        first.forget()
        second.forget()


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("def broken(:\n", SyntaxError),
        ("import not_a_module_anywhere_42\n", ModuleNotFoundError),
        ("from .missing import x\n", ModuleNotFoundError),
        ("raise RuntimeError('at import')\n", RuntimeError),
    ],
)
def test_failed_import_leaves_nothing_behind(
    tmp_path: Path, source: str, error: type[BaseException]
) -> None:
    folder = make(tmp_path / "p", {"backend/plugin.py": source})
    before = set(sys.modules)
    with pytest.raises(error):
        import_plugin("p", folder, "backend/plugin.py")
    assert {m for m in set(sys.modules) - before if m.startswith(ROOT + ".")} == set()


def test_two_plugins_same_module_names(tmp_path: Path) -> None:
    a = make(
        tmp_path / "a",
        {"backend/plugin.py": "from .utils import X\n", "backend/utils.py": "X='a'\n"},
    )
    b = make(
        tmp_path / "b",
        {"backend/plugin.py": "from .utils import X\n", "backend/utils.py": "X='b'\n"},
    )
    ca, ma = import_plugin("a", a, "backend/plugin.py")
    cb, mb = import_plugin("b", b, "backend/plugin.py")
    try:
        assert (ma.X, mb.X) == ("a", "b")
    finally:
        ca.forget()
        cb.forget()
