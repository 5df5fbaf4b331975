"""The in-process event bus: named events, wildcard subscriptions, contained handler failures.

Names and patterns
    An event name is one or more non-empty segments joined by ``:`` (``server:started``,
    ``plugin:enabled``, ``example-plugin:task-completed``, ``my_event``), without whitespace or
    ``*``. A pattern is an exact name, ``*`` (every event), or ``prefix:*`` (every event whose name
    starts with ``prefix:``: ``server:*`` gets ``server:started`` and ``server:a:b``, not
    ``server`` nor ``servers:x``). Anything else is a ``ValueError`` at ``subscribe`` / ``emit``.

Delivery guarantee
    - ``await bus.emit(event, data)`` returns after every matching handler has finished, failed or
      timed out (``handler_timeout`` seconds, per handler). It never raises because of a handler.
    - Subscribers are snapshotted when ``emit`` starts: a subscription added during delivery only
      gets later events; one disposed during delivery is not called again, even for this event if
      its turn had not come yet.
    - Handlers are called in subscription order: a sync handler runs to its end, an async one up
      to its first wait; the async handlers still waiting then run concurrently (a task each when
      there are several). A slow async handler therefore holds up the emitter by at most its
      timeout and never delays the other handlers.
    - Ordering: for a single subscriber, events from one emitter that awaits each ``emit`` are
      delivered in emit order, each handler call finishing before the next one starts. Emits that
      run concurrently (not awaited one after the other) have no order between them.
    - A failing handler (exception or timeout) is logged with the event name, owner and pattern,
      counted on its ``Subscription`` (``error_count``, ``last_error``), and neither reaches the
      emitter nor stops the other handlers.
    - Sync handlers run inline, must be quick (over 0.1 s is logged); ``ctx.on`` threads a plugin's.
    - ``data`` is handed to every handler as is, not copied: handlers must not mutate it.

Across instances
    An event is delivered on the instance where it was emitted: every instance runs every plugin,
    so a listener there runs once in the cluster. A subscription made with ``every_instance``
    also gets the events emitted on the other instances. A ``publisher`` (argument or attribute)
    is awaited with ``(event, data, source)`` once per ``emit``, before local delivery (so it
    should only enqueue); its failures and timeouts are logged, never raised. The cluster bridge
    (Redis) forwards those to the other instances, which hand them to their bus with
    ``deliver_local``: ``every_instance`` subscribers only, never published again."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Coroutine, Generator
from time import perf_counter
from types import CoroutineType
from typing import Any, Final, TypeAlias, final

import structlog

from catalyst.cancellation import host_cancelled
from catalyst.errors import describe
from catalyst.events.names import validate_event_name, validate_pattern
from catalyst.log import get_logger
from catalyst.metrics import record_event_delivery, record_event_failure

Handler: TypeAlias = Callable[[str, Any], Awaitable[None] | None]
"""``handler(event_name, data)``: sync, or returning an awaitable (an ``async def``)."""

Publisher: TypeAlias = Callable[[str, Any, str | None], Awaitable[None]]
"""``await publisher(event_name, data, source)``: forwards a local emit elsewhere."""

_SLOW_SYNC_HANDLER: Final = 0.1  # seconds a sync handler may block the loop before it is logged
_ROUTE_CACHE_MAX: Final = 4096  # distinct event names whose matching subscribers are cached


class _Expired(Exception):
    """An awaitable passed to ``_bounded`` outlived its time limit."""


@final
class _Resume:
    """The rest of a coroutine that ``_start`` ran up to its first suspension (on ``first``);
    awaiting it does what ``yield from`` does for the rest of the coroutine (PEP 380)."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, Any, None]:
        coro, step = self._coro, self._first
        while True:
            try:
                try:
                    sent = yield step
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as exc:  # noqa: BLE001 - not caught: thrown into the coroutine
                    step = coro.throw(exc)
                else:
                    step = coro.send(sent)
            except StopIteration:
                return


def _start(pending: Awaitable[Any]) -> Awaitable[Any] | None:
    """Run a coroutine up to its first suspension: None if it finished, else what is left.

    Most handlers finish without waiting: for them no task and no timer (which would cost more
    than the rest of the delivery) is created. Other awaitables are returned as they are."""
    if type(pending) is CoroutineType:
        try:
            first = pending.send(None)
        except StopIteration:
            return None
        return _Resume(pending, first)
    return pending


async def _bounded(rest: Awaitable[Any], seconds: float) -> None:
    """Await ``rest``; raise ``_Expired`` (not a TimeoutError of its own) after ``seconds``."""
    timeout = asyncio.timeout(seconds)
    try:
        async with timeout:
            await rest
    except TimeoutError:
        if timeout.expired():
            raise _Expired from None
        raise


@final
class Subscription:
    """One handler subscribed to one pattern. ``dispose()`` (idempotent) unsubscribes it."""

    def __init__(
        self,
        bus: EventBus,
        sub_id: int,
        pattern: str,
        handler: Handler,
        owner: str | None,
        every_instance: bool = False,
    ) -> None:
        self.id: Final = sub_id
        #: Also called for events emitted on the other instances of the cluster.
        self.every_instance: Final = every_instance
        self.pattern: Final = pattern
        self.handler: Final = handler
        self.owner: Final = owner
        self.error_count = 0
        self.last_error: str | None = None
        """The most recent failure (``"ValueError: ..."``), kept after later successes."""
        self._bus = bus
        self._active = True
        # None for an exact name; "" for "*"; "prefix:" for "prefix:*".
        self._prefix: str | None = None if not pattern.endswith("*") else pattern[:-1]

    @property
    def active(self) -> bool:
        return self._active

    def matches(self, event: str) -> bool:
        """Whether this subscription's pattern selects ``event``."""
        if self._prefix is None:
            return event == self.pattern
        return event.startswith(self._prefix)

    def dispose(self) -> None:
        """Unsubscribe; safe to call again and during delivery."""
        if self._active:
            self._active = False
            self._bus._remove(self)

    def __repr__(self) -> str:
        state = "active" if self._active else "disposed"
        return f"<Subscription {self.id} {self.pattern!r} owner={self.owner!r} {state}>"


@final
class EventBus:
    """In-process publish/subscribe; see the module docstring for the delivery guarantee."""

    def __init__(
        self,
        *,
        handler_timeout: float = 10.0,
        logger: structlog.stdlib.BoundLogger | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        if not handler_timeout > 0:
            raise ValueError(f"handler_timeout must be positive, got {handler_timeout}")
        self.handler_timeout: Final = handler_timeout
        self.publisher: Publisher | None = publisher
        """Awaited once per ``emit`` (not for ``deliver_local``); a bridge may set it later."""
        self.on_failure: Callable[..., None] = lambda *_: None  # (sub, event, exc; None: timeout)
        self._log = logger if logger is not None else get_logger("events")
        self._ids = itertools.count(1)
        self._subs: dict[int, Subscription] = {}
        self._exact: dict[str, list[Subscription]] = {}
        self._wildcards: list[Subscription] = []
        # event name → matching subscriptions in subscription order. Immutable tuples, so a
        # route is also the snapshot an emit delivers to. Cleared on (un)subscribe.
        self._routes: dict[str, tuple[Subscription, ...]] = {}

    def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        owner: str | None = None,
        every_instance: bool = False,
    ) -> Subscription:
        """Call ``handler(event, data)`` for every event matching ``pattern`` until disposed:
        those emitted on this instance, and with ``every_instance`` those of the whole cluster."""
        validate_pattern(pattern)
        if not callable(handler):
            raise TypeError(f"handler for {pattern!r} must be callable, not {handler!r}")
        sub = Subscription(self, next(self._ids), pattern, handler, owner, every_instance)
        self._subs[sub.id] = sub
        if sub._prefix is None:
            self._exact.setdefault(pattern, []).append(sub)
        else:
            self._wildcards.append(sub)
        self._routes.clear()
        return sub

    def subscriptions(self, owner: str | None = None) -> list[Subscription]:
        """Active subscriptions in subscription order; only ``owner``'s when given."""
        return [sub for sub in self._subs.values() if owner is None or sub.owner == owner]

    def count(self, owner: str | None = None) -> int:
        """How many subscriptions are active; only ``owner``'s when given."""
        return len(self._subs) if owner is None else len(self.subscriptions(owner))

    async def emit(self, event: str, data: Any = None, *, source: str | None = None) -> None:
        """Publish (if a publisher is set), then deliver to local subscribers and wait for them."""
        route = self._routes.get(event)
        if route is None:
            route = self._route(event)
        if self.publisher is not None:
            await self._publish(self.publisher, event, data, source)
        if route:
            await self._deliver(route, event, data, source)

    async def deliver_local(
        self,
        event: str,
        data: Any = None,
        *,
        source: str | None = None,
        owners: frozenset[str | None] | None = None,
    ) -> None:
        """Deliver an event emitted on another instance to the local ``every_instance``
        subscribers (only those of ``owners``, when given), without publishing it again."""
        route = self.remote_route(event)
        if owners is not None:
            route = tuple(sub for sub in route if sub.owner in owners)
        if route:
            await self._deliver(route, event, data, source)

    def remote_route(self, event: str) -> tuple[Subscription, ...]:
        """The ``every_instance`` subscribers ``event`` from another instance goes to."""
        route = self._routes.get(event)
        if route is None:
            route = self._route(event)
        return tuple(sub for sub in route if sub.every_instance)

    def _remove(self, sub: Subscription) -> None:
        self._subs.pop(sub.id, None)
        if sub._prefix is None:
            exact = self._exact[sub.pattern]
            exact.remove(sub)
            if not exact:
                del self._exact[sub.pattern]
        else:
            self._wildcards.remove(sub)
        self._routes.clear()

    def _route(self, event: str) -> tuple[Subscription, ...]:
        validate_event_name(event)
        matched = [*self._exact.get(event, ()), *(w for w in self._wildcards if w.matches(event))]
        matched.sort(key=lambda sub: sub.id)
        route = tuple(matched)
        if len(self._routes) >= _ROUTE_CACHE_MAX:
            self._routes.clear()
        self._routes[event] = route
        return route

    async def _deliver(
        self, route: tuple[Subscription, ...], event: str, data: Any, source: str | None
    ) -> None:
        if len(route) == 1:  # the hot path: no list, no task
            sub = route[0]
            if sub._active:
                rest = self._call(sub, event, data, source)
                if rest is not None:
                    await self._finish(sub, rest, event, source)
            return
        started: list[tuple[Subscription, Awaitable[Any]]] = []
        try:
            for sub in route:
                if sub._active and (rest := self._call(sub, event, data, source)) is not None:
                    started.append((sub, rest))
            if len(started) == 1:
                await self._finish(*started[0], event, source)
            elif started:
                tasks = [asyncio.create_task(self._finish(s, r, event, source)) for s, r in started]
                try:
                    await asyncio.wait(tasks)
                except asyncio.CancelledError:
                    # Not gather: it cancels a task before its first step, which would leave
                    # that handler suspended. By now each task has run its first step.
                    for task in tasks:
                        task.cancel()
                    await asyncio.wait(tasks)
                    raise
                for task in tasks:
                    task.result()  # _finish contains handler errors; anything else is a bug
        except BaseException:  # cancelled or interrupted: finalize any handler left suspended
            for _, rest in started:
                if isinstance(rest, _Resume):
                    rest.close()  # a no-op for a finished one
            raise

    def _call(
        self, sub: Subscription, event: str, data: Any, source: str | None
    ) -> Awaitable[Any] | None:
        """Call the handler (an async one up to its first wait); return what is left to await."""
        began = perf_counter()
        record_event_delivery(sub.owner)
        rest: Awaitable[Any] | None = None
        try:
            result = sub.handler(event, data)
            if result is not None and inspect.isawaitable(result):
                rest = _start(result)
        except asyncio.CancelledError as exc:
            if host_cancelled(exc):
                raise
            self._failed(sub, event, source, exc)
        except BaseException as exc:  # noqa: BLE001 - plugin code (sys.exit() too): contain it
            self._failed(sub, event, source, exc)
        if (spent := perf_counter() - began) > _SLOW_SYNC_HANDLER:
            self._log.warning(
                "event handler blocked the event loop",
                event_name=event,
                owner=sub.owner,
                pattern=sub.pattern,
                seconds=round(spent, 3),
            )
        return rest

    async def _finish(
        self, sub: Subscription, rest: Awaitable[Any], event: str, source: str | None
    ) -> None:
        try:
            await _bounded(rest, self.handler_timeout)
        except _Expired:
            self._failed(sub, event, source, None)
        except asyncio.CancelledError as exc:
            if host_cancelled(exc):
                raise  # the emitter is being cancelled: let it
            self._failed(sub, event, source, exc)  # the handler cancelled itself
        except BaseException as exc:  # noqa: BLE001 - plugin code (sys.exit() too): contain it
            self._failed(sub, event, source, exc)

    async def _publish(
        self, publisher: Publisher, event: str, data: Any, source: str | None
    ) -> None:
        try:
            rest = _start(publisher(event, data, source))
            if rest is not None:
                await _bounded(rest, self.handler_timeout)
        except _Expired:
            timeout = self.handler_timeout
            self._log.error("event publisher timed out", event_name=event, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - a broken bridge must not break local delivery
            self._log.error("event publisher failed", event_name=event, source=source, exc_info=exc)

    def _failed(
        self, sub: Subscription, event: str, source: str | None, exc: BaseException | None
    ) -> None:
        """Count and log a handler's failure; ``exc`` None means it timed out."""
        sub.error_count += 1
        record_event_failure(sub.owner)
        if exc is None:
            sub.last_error = f"TimeoutError: handler did not finish within {self.handler_timeout}s"
        else:
            sub.last_error = describe(exc)
        self._log.error(
            "event handler timed out" if exc is None else "event handler failed",
            event_name=event,
            owner=sub.owner,
            pattern=sub.pattern,
            subscription=sub.id,
            source=source,
            exc_info=exc,
        )
        self.on_failure(sub, event, exc)
