"""A plugin's log buffer is written from its worker threads (sync code runs there): sequence
numbers stay unique and in the order the records are kept, so ``since=`` polling misses none."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from catalyst.plugins.logs import LogBuffer


@pytest.fixture
def _switch_often() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # let threads interleave inside add()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("_switch_often")
def test_concurrent_adds_get_unique_ordered_sequence_numbers() -> None:
    threads, each = 8, 3000
    buffer = LogBuffer(keep=threads * each)
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for i in range(each):
            buffer.add("info", "line", {"i": i})

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seqs = [r["seq"] for r in buffer.records]
    assert seqs == list(range(1, threads * each + 1))
