"""A live :class:`PluginHarness` on its own event loop in a thread, for synchronous callers that
would block the test's loop (Playwright's sync API, the schemathesis fuzzer)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from catalyst.sdk.testing import PluginHarness

T = TypeVar("T")


class ThreadedHarness:
    """``with ThreadedHarness(**harness_options) as h:`` serves until the block ends.

    ``h.base`` is the server's URL, ``h.token`` an admin session token (password
    ``admin_password``), and ``h.call(fn)`` runs ``await fn(harness)`` on the server's loop."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.base = ""
        self.token = ""

    async def _run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        try:
            async with PluginHarness(live=True, **self.options) as harness:
                self.harness = harness
                self.base, self.token = harness.url, await harness.token()
                self.ready.set()
                await self.stop.wait()
        except BaseException as exc:
            self.failed = exc
            raise
        finally:
            self.ready.set()

    def __enter__(self) -> ThreadedHarness:
        self.thread.start()
        assert self.ready.wait(60), "the harness did not start within 60 s"
        if self.failed is not None:
            raise self.failed
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)

    def call(self, fn: Callable[[PluginHarness], Coroutine[Any, Any, T]]) -> T:
        """``await fn(harness)`` on the server's event loop, from this thread."""
        return asyncio.run_coroutine_threadsafe(fn(self.harness), self.loop).result(30)
