"""Where sync plugin code runs: a bounded pool of worker threads per plugin, and one for imports.

A sync ``def`` route, task, event listener or WebSocket handler never runs on the event loop: it
runs in its plugin's own pool (``CATALYST_PLUGIN_THREADS`` threads, default 4). One plugin whose
sync handlers all block therefore queues only its own calls; other plugins, the host and reloads
go on: plugin imports use a separate pool, and each plugin's sync lifecycle hooks
(``on_load`` … ``on_unload``) a second pool of its own (:func:`run_hook`), so that the plugin
can still be reloaded, disabled or stopped while its handlers hold every thread of its pool.

The pools use daemon threads: a handler that never returns cannot keep the process from exiting,
and shutting a pool down never waits for running calls (they finish on their own; queued calls
are cancelled). A pool is created on first use and shut down when the last generation of its
plugin is released (:func:`acquire` / :func:`release`).

    result = await run_sync("my-plugin", fn, arg)   # fn(arg) in my-plugin's pool
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Final, TypeVar

T = TypeVar("T")

DEFAULT_THREADS: Final = 4
IMPORTS: Final = "<imports>"
HOOKS: Final = ":hooks"  # suffix of a plugin's hook pool (never part of a plugin name)
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonPool(Executor):
    """A bounded thread pool like ``ThreadPoolExecutor``, whose threads are daemons and are never
    joined: ``shutdown`` returns at once whatever the running calls do."""

    def __init__(self, size: int, name: str) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one thread, not {size}")
        self.size: Final = size
        self.name: Final = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def threads(self) -> int:
        return len(self._threads)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"thread pool {self.name!r} is shut down")
            self._jobs.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._jobs.put(None)  # wake the next thread too
                return
            future, fn, args, kwargs = job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del job, future, fn, args, kwargs
            self._idle.release()

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = True) -> None:
        """Refuse new calls, cancel queued ones, let running ones finish on their own."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        job[0].cancel()
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


class _Pools:
    def __init__(self) -> None:
        self.threads = DEFAULT_THREADS
        self.import_threads = 2
        self.pools: dict[str, DaemonPool] = {}
        self.users: dict[str, int] = {}


_state = _Pools()


def configure(threads: int, import_threads: int = 2) -> None:
    """Pool sizes for pools created from now on (the host calls this from its settings)."""
    _state.threads = threads
    _state.import_threads = import_threads


def pool(plugin: str) -> DaemonPool:
    """The plugin's pool, created on first use."""
    found = _state.pools.get(plugin)
    if found is None:
        size = _state.import_threads if plugin == IMPORTS else _state.threads
        found = _state.pools[plugin] = DaemonPool(size, f"plugin:{plugin}")
    return found


def acquire(plugin: str) -> None:
    """A generation of ``plugin`` exists: keep its pool until the matching :func:`release`."""
    _state.users[plugin] = _state.users.get(plugin, 0) + 1


def release(plugin: str) -> None:
    """A generation of ``plugin`` was released; the last one shuts the pool down (no waiting)."""
    left = _state.users.get(plugin, 0) - 1
    if left > 0:
        _state.users[plugin] = left
        return
    _state.users.pop(plugin, None)
    for name in (plugin, plugin + HOOKS):
        found = _state.pools.pop(name, None)
        if found is not None:
            found.shutdown()


def shutdown_idle() -> None:
    """Shut down, without waiting, every plugin pool no loaded generation uses (host shutdown,
    after its plugins were unloaded; another host in the same process keeps its pools)."""
    for name in [n for n in _state.pools if n != IMPORTS and _state.users.get(_owner(n), 0) <= 0]:
        _state.pools.pop(name).shutdown()


def _owner(pool_name: str) -> str:
    return pool_name.removesuffix(HOOKS)


async def run_sync(plugin: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in ``plugin``'s pool, with the caller's context variables; awaits the result.

    Cancelling the caller stops waiting at once; the call itself runs to its end in its thread.
    """
    context = contextvars.copy_context()
    future = pool(plugin).submit(context.run, fn, *args)
    return await asyncio.wrap_future(future)


async def run_hook(plugin: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in ``plugin``'s hook pool: a lifecycle hook never queues behind the plugin's
    own route, task or listener calls."""
    return await run_sync(plugin + HOOKS, fn, *args)


async def run_import(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the pool reserved for importing plugin code."""
    return await run_sync(IMPORTS, fn, *args)
