"""Ownership as a ledger: every registration a plugin makes pushes a disposer here.

Registrations made during ``on_load`` live until unload; those made during ``on_enable`` (or while
enabled) live until disable. :meth:`Ledger.dispose` pops the disposers last-in first-out, each in
its own ``try``, with a timeout, so one bad disposer never keeps the others from running.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from catalyst.log import get_logger

Disposer = Callable[[], Awaitable[None] | None]
log = get_logger("plugins.ledger")


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    label: str
    disposer: Disposer


class Ledger:
    """A LIFO stack of disposers owned by one plugin for one phase."""

    def __init__(self, owner: str, phase: str) -> None:
        self.owner = owner
        self.phase = phase
        self._entries: list[Entry] = []

    def push(self, kind: str, label: str, disposer: Disposer) -> None:
        self._entries.append(Entry(kind, label, disposer))

    def __len__(self) -> int:
        return len(self._entries)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self._entries:
            out[e.kind] = out.get(e.kind, 0) + 1
        return out

    async def dispose(self, each_timeout: float = 5.0) -> list[str]:
        """Run every disposer, newest first; returns the labels of those that failed."""
        failed: list[str] = []
        while self._entries:
            entry = self._entries.pop()
            try:
                result = entry.disposer()
                if inspect.isawaitable(result):
                    await asyncio.wait_for(result, each_timeout)
            except Exception:
                log.exception(
                    "disposer_failed", plugin=self.owner, kind=entry.kind, label=entry.label
                )
                failed.append(f"{entry.kind}:{entry.label}")
        return failed
