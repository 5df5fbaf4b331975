"""The code version of a plugin folder: stable, sensitive to code, blind to caches."""

from __future__ import annotations

import os
from pathlib import Path

from catalyst.plugins.codehash import DIGITS, code_hash, code_hash_async


def _plugin(folder: Path) -> Path:
    (folder / "backend").mkdir(parents=True)
    (folder / "plugin.json").write_text('{"name": "p"}')
    (folder / "backend" / "plugin.py").write_text("def on_load(ctx):\n    pass\n")
    (folder / "frontend").mkdir()
    (folder / "frontend" / "index.js").write_text("export default {}\n")
    return folder


def test_stable_and_short(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "p")
    first = code_hash(folder)
    assert len(first) == DIGITS
    assert int(first, 16) >= 0
    assert code_hash(folder) == first
    # the same files elsewhere are the same code (relative paths only)
    assert code_hash(_plugin(tmp_path / "copy")) == first


def test_changes_with_contents_names_and_files(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "p")
    seen = {code_hash(folder)}
    (folder / "backend" / "plugin.py").write_text("def on_load(ctx):\n    return 1\n")
    seen.add(code_hash(folder))
    (folder / "backend" / "helper.py").write_text("")
    seen.add(code_hash(folder))
    (folder / "backend" / "helper.py").rename(folder / "backend" / "helper2.py")
    seen.add(code_hash(folder))
    (folder / "backend" / "helper2.py").unlink()
    (folder / "frontend" / "index.js").write_text("export default {};\n")
    seen.add(code_hash(folder))
    assert len(seen) == 5


def test_file_boundaries_count(tmp_path: Path) -> None:
    """Moving bytes from one file to the next is another version."""
    a = tmp_path / "a"
    b = tmp_path / "b"
    for folder, (x, y) in ((a, ("ab", "c")), (b, ("a", "bc"))):
        folder.mkdir()
        (folder / "1.py").write_text(x)
        (folder / "2.py").write_text(y)
    assert code_hash(a) != code_hash(b)


def test_ignores_caches_hidden_files_and_node_modules(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "p")
    before = code_hash(folder)
    cache = folder / "backend" / "__pycache__"
    cache.mkdir()
    (cache / "plugin.cpython-311.pyc").write_bytes(b"\x00\x01")
    (folder / "backend" / "stray.pyc").write_bytes(b"\x00")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: main")
    (folder / ".env").write_text("X=1")
    (folder / "frontend" / "node_modules" / "lib").mkdir(parents=True)
    (folder / "frontend" / "node_modules" / "lib" / "index.js").write_text("x")
    assert code_hash(folder) == before


def test_symlinked_file_counts_by_its_contents(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "p")
    target = tmp_path / "shared.py"
    target.write_text("A = 1\n")
    os.symlink(target, folder / "backend" / "shared.py")
    before = code_hash(folder)
    target.write_text("A = 2\n")
    assert code_hash(folder) != before


def test_bounded_by_files_and_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text("x" * 10)
    full = code_hash(folder)
    capped = code_hash(folder, max_files=3)
    assert capped != full
    # files past the cap are not read: changing one does not change the capped version
    (folder / "4.txt").write_text("y" * 10)
    assert code_hash(folder, max_files=3) == capped
    assert code_hash(folder) != full
    # the byte budget stops inside a file, and says so
    by_bytes = code_hash(folder, max_bytes=25)
    (folder / "3.txt").write_text("z" * 10)
    assert code_hash(folder, max_bytes=25) == by_bytes
    (folder / "2.txt").write_text("zzzzzyyyyy")  # bytes 21..30: 21..25 are read
    assert code_hash(folder, max_bytes=25) != by_bytes
    # 50 bytes in all: a budget of exactly 50 reads everything, one less does not
    assert code_hash(folder, max_bytes=50) == code_hash(folder)
    assert code_hash(folder, max_bytes=49) != code_hash(folder)


def test_missing_folder_hashes_as_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert code_hash(tmp_path / "missing") == code_hash(empty)


async def test_async_variant_agrees(tmp_path: Path) -> None:
    folder = _plugin(tmp_path / "p")
    assert await code_hash_async(folder) == code_hash(folder)
