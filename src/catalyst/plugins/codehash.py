"""The code version of a plugin: a short, stable hash of its folder as plugin code sees it.

Each instance of a cluster hashes the folder it imports a generation from; the admin page shows
the hashes of all instances and flags a mismatch (instances running different code of one
plugin). Relative paths and contents of the files, sorted, go into one sha256; caches
(``__pycache__``, ``*.pyc``), hidden files and folders and ``node_modules`` are left out. The
walk is bounded: past :data:`MAX_FILES` files or :data:`MAX_BYTES` bytes it stops and hashes
what it read plus a marker, so a huge folder costs a bounded time at every load.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

#: How many hex digits of the sha256 the version shows.
DIGITS = 16
MAX_FILES = 10_000
MAX_BYTES = 64 * 1024 * 1024
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
_CHUNK = 1024 * 1024


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in _SKIPPED_DIRS


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, path)`` of every hashed file, in a stable (sorted) order.
    Symbolic links to files are followed (plugin code reads through them); linked folders are
    not walked (no cycles)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        base = Path(root)
        for name in sorted(names):
            if _skipped(name) or name.endswith((".pyc", ".pyo")):
                continue
            path = base / name
            if path.is_file():
                yield path.relative_to(folder).as_posix(), path


def code_hash(folder: Path, *, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> str:
    """The folder's code version (``DIGITS`` hex digits). A file that vanishes or cannot be read
    while hashed counts with a marker instead of its contents; a folder that does not exist
    hashes as an empty one."""
    digest = hashlib.sha256()
    budget = 0
    for files, (rel, path) in enumerate(_files(folder)):
        if files >= max_files or budget >= max_bytes:
            digest.update(b"\0truncated\0")
            break
        name = rel.encode("utf-8", "surrogateescape")
        digest.update(len(name).to_bytes(4, "big") + name)
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(min(_CHUNK, max_bytes - budget + 1)):
                    if budget + len(chunk) > max_bytes:  # one byte more than the budget allows
                        digest.update(chunk[: max_bytes - budget] + b"\0truncated\0")
                        return digest.hexdigest()[:DIGITS]
                    budget += len(chunk)
                    digest.update(chunk)
        except OSError:
            digest.update(b"\0unreadable\0")
        digest.update(b"\0end\0")
    return digest.hexdigest()[:DIGITS]


async def code_hash_async(folder: Path) -> str:
    """:func:`code_hash` in a thread, off the event loop."""
    return await asyncio.to_thread(code_hash, folder)
