"""The event bus: matching, sync/async handlers, ordering, containment, disposal, publisher seam."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from catalyst.events import bus as bus_module
from catalyst.events.bus import EventBus, Subscription
from catalyst.events.names import validate_event_name, validate_pattern

Received = list[tuple[str, Any]]


def recorder(into: Received) -> Any:
    def handler(event: str, data: Any) -> None:
        into.append((event, data))

    return handler


def async_recorder(into: Received) -> Any:
    async def handler(event: str, data: Any) -> None:
        await asyncio.sleep(0)
        into.append((event, data))

    return handler


# -- matching ---------------------------------------------------------------------------------


async def test_exact_pattern_gets_only_that_event() -> None:
    bus = EventBus()
    got: Received = []
    bus.subscribe("server:started", recorder(got))
    for name in ["server:started", "server:stopped", "server:started:x", "server", "started"]:
        await bus.emit(name, 1)
    assert got == [("server:started", 1)]


async def test_prefix_wildcard_matches_whole_segments_only() -> None:
    bus = EventBus()
    got: Received = []
    bus.subscribe("server:*", recorder(got))
    names = ["server:started", "server:a:b", "servers:x", "plugin:enabled", "server", "xserver:y"]
    for name in names:
        await bus.emit(name)
    assert [event for event, _ in got] == ["server:started", "server:a:b"]


async def test_nested_prefix_wildcard() -> None:
    bus = EventBus()
    got: Received = []
    bus.subscribe("example-plugin:task:*", recorder(got))
    for name in ["example-plugin:task:done", "example-plugin:task", "example-plugin:other:x"]:
        await bus.emit(name)
    assert [event for event, _ in got] == ["example-plugin:task:done"]


async def test_star_gets_everything() -> None:
    bus = EventBus()
    got: Received = []
    bus.subscribe("*", recorder(got))
    for name in ["server:started", "plugin:enabled", "my_event", "a:b:c"]:
        await bus.emit(name, name)
    assert [data for _, data in got] == ["server:started", "plugin:enabled", "my_event", "a:b:c"]


async def test_each_matching_subscription_gets_the_event_once_in_subscription_order() -> None:
    bus = EventBus()
    order: list[str] = []
    for pattern in ["*", "server:started", "server:*", "plugin:*", "server:started"]:

        def note(e: str, d: Any, p: str = pattern) -> None:
            order.append(p)

        bus.subscribe(pattern, note)
    await bus.emit("server:started")
    assert order == ["*", "server:started", "server:*", "server:started"]


async def test_subscribing_after_an_emit_is_seen_by_the_next_emit() -> None:
    bus = EventBus()
    got: Received = []
    await bus.emit("a:b")  # caches the (empty) route for "a:b"
    bus.subscribe("a:*", recorder(got))
    await bus.emit("a:b")
    assert got == [("a:b", None)]


SEGMENTS = st.sampled_from(["a", "b", "ab", "server", "servers", "x-y", "p_1"])
NAMES = st.lists(SEGMENTS, min_size=1, max_size=3).map(":".join)
PATTERNS = st.one_of(st.just("*"), NAMES, NAMES.map(lambda name: name + ":*"))


def reference_match(pattern: str, name: str) -> bool:
    """Segment-wise, independent of the bus's prefix strings."""
    if pattern == "*":
        return True
    want, have = pattern.split(":"), name.split(":")
    if want[-1] == "*":
        return len(have) >= len(want) and have[: len(want) - 1] == want[:-1]
    return want == have


@settings(max_examples=200, deadline=None)
@given(patterns=st.lists(PATTERNS, min_size=1, max_size=6), names=st.lists(NAMES, max_size=8))
async def test_matching_agrees_with_a_reference_implementation(
    patterns: list[str], names: list[str]
) -> None:
    bus = EventBus()
    got: list[tuple[int, str]] = []
    for i, pattern in enumerate(patterns):

        def note(e: str, d: Any, i: int = i) -> None:
            got.append((i, e))

        bus.subscribe(pattern, note)
    for name in names:
        await bus.emit(name)
    expected = [(i, n) for n in names for i, p in enumerate(patterns) if reference_match(p, n)]
    assert got == expected


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "must not be empty"),
        ("a b", "whitespace"),
        (" server:*", "whitespace"),
        ("a\x00b", "control characters"),
        ("server*", r"'\*' is only allowed as the whole pattern"),
        ("*:started", r"'\*' is only allowed"),
        ("server:*:x", r"'\*' is only allowed"),
        ("server:**", r"'\*' is only allowed"),
        ("**", r"'\*' is only allowed"),
        ("a:b*", r"'\*' is only allowed"),
        (":*", "empty segment"),
        ("a::b", "empty segment"),
        ("a:", "empty segment"),
        (":a", "empty segment"),
    ],
)
async def test_invalid_patterns_are_rejected_at_subscribe(pattern: str, message: str) -> None:
    bus = EventBus()
    with pytest.raises(ValueError, match=message):
        bus.subscribe(pattern, recorder([]))
    assert bus.count() == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("*", "wildcards are only for subscription patterns"),
        ("server:*", "wildcards are only for subscription patterns"),
        ("a::b", "empty segment"),
        ("server:", "empty segment"),
    ],
)
async def test_invalid_event_names_are_rejected_at_emit(name: str, message: str) -> None:
    bus = EventBus()
    got: Received = []
    bus.subscribe("*", recorder(got))
    with pytest.raises(ValueError, match=message):
        await bus.emit(name)
    with pytest.raises(ValueError, match=message):
        await bus.deliver_local(name)
    assert got == []


def test_validators_accept_the_documented_forms() -> None:
    for name in ["server:started", "plugin:enabled", "example-plugin:task-completed", "my_event"]:
        assert validate_event_name(name) == name
        assert validate_pattern(name) == name
    assert validate_pattern("*") == "*"
    assert validate_pattern("example-plugin:*") == "example-plugin:*"


async def test_wrong_types_are_rejected() -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="must be a str"):
        bus.subscribe(3, recorder([]))  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="must be callable"):
        bus.subscribe("a", "not a function")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="handler_timeout must be positive"):
        EventBus(handler_timeout=0)


# -- handlers and ordering --------------------------------------------------------------------


async def test_sync_and_async_handlers_both_receive_event_and_data() -> None:
    bus = EventBus()
    sync_got: Received = []
    async_got: Received = []
    bus.subscribe("plugin:enabled", recorder(sync_got))
    bus.subscribe("plugin:enabled", async_recorder(async_got))
    await bus.emit("plugin:enabled", {"name": "example"})
    assert sync_got == async_got == [("plugin:enabled", {"name": "example"})]


async def test_single_async_subscriber_is_awaited_before_emit_returns() -> None:
    bus = EventBus()
    got: Received = []
    bus.subscribe("a", async_recorder(got))
    await bus.emit("a", 1)
    assert got == [("a", 1)]  # the handler suspended once, and emit still waited for it


async def test_a_handler_returning_a_plain_awaitable_is_awaited() -> None:
    bus = EventBus()
    done: list[Any] = []

    def handler(event: str, data: Any) -> asyncio.Future[None]:
        fut = asyncio.get_running_loop().create_future()

        def finish() -> None:
            done.append(data)
            fut.set_result(None)

        asyncio.get_running_loop().call_soon(finish)
        return fut

    bus.subscribe("a", handler)
    await bus.emit("a", 7)
    assert done == [7]


@pytest.mark.parametrize("subscribers", [1, 3])
async def test_one_subscriber_sees_events_in_emit_order_without_overlap(subscribers: int) -> None:
    bus, log = EventBus(), []

    async def handler(event: str, data: int) -> None:
        log.append(("start", data))
        for _ in range(data % 4):  # uneven amounts of waiting
            await asyncio.sleep(0)
        log.append(("end", data))

    for _ in range(subscribers):
        bus.subscribe("tick", handler, owner="only-the-first")
    for i in range(40):
        await bus.emit("tick", i)
    firsts = [entry for entry in log if entry[0] == "start"][::subscribers]
    assert [data for _, data in firsts] == list(range(40))
    if subscribers == 1:
        expected = [(kind, i) for i in range(40) for kind in ("start", "end")]
        assert log == expected


async def test_async_handlers_of_one_emit_run_concurrently() -> None:
    bus = EventBus(handler_timeout=1.0)
    first_waiting, second_waiting = asyncio.Event(), asyncio.Event()

    async def first(event: str, data: Any) -> None:
        first_waiting.set()
        await second_waiting.wait()  # only finishes if `second` runs meanwhile

    async def second(event: str, data: Any) -> None:
        second_waiting.set()
        await first_waiting.wait()

    subs = [bus.subscribe("go", first), bus.subscribe("go", second)]
    async with asyncio.timeout(2):
        await bus.emit("go")
    assert [s.error_count for s in subs] == [0, 0]


async def test_a_pattern_gets_every_matching_event() -> None:
    bus = EventBus()
    seen: Received = []
    sub = bus.subscribe("a:*", recorder(seen))
    for _ in range(3):
        await bus.emit("a:x")
    await bus.emit("b:x")
    assert seen == [("a:x", None)] * 3
    assert (sub.error_count, sub.last_error) == (0, None)


# -- containment ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_failing_handler_is_contained_counted_and_logged(kind: str) -> None:
    bus = EventBus()
    before: Received = []
    after: Received = []

    def sync_boom(event: str, data: Any) -> None:
        raise RuntimeError("boom")

    async def async_boom(event: str, data: Any) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("boom")

    bus.subscribe("server:*", recorder(before))
    bad = bus.subscribe("server:*", sync_boom if kind == "sync" else async_boom, owner="bad-one")
    bus.subscribe("server:*", async_recorder(after))
    with capture_logs() as logs:
        await bus.emit("server:started", 1)
        await bus.emit("server:started", 2)
    assert before == after == [("server:started", 1), ("server:started", 2)]
    assert bad.error_count == 2
    assert bad.last_error == "RuntimeError: boom"
    failures = [entry for entry in logs if entry["event"] == "event handler failed"]
    assert len(failures) == 2
    assert failures[0]["event_name"] == "server:started"
    assert failures[0]["owner"] == "bad-one"
    assert failures[0]["pattern"] == "server:*"
    assert failures[0]["log_level"] == "error"


@pytest.mark.parametrize("others", [0, 1])
async def test_a_handler_that_times_out_is_contained(others: int) -> None:
    bus = EventBus(handler_timeout=0.05)
    got: Received = []
    never = asyncio.Event()

    async def hangs(event: str, data: Any) -> None:
        await never.wait()

    slow = bus.subscribe("a", hangs, owner="slow-plugin")
    for _ in range(others):
        bus.subscribe("a", async_recorder(got))
    began = time.monotonic()
    with capture_logs() as logs:
        await bus.emit("a", 1)
    assert time.monotonic() - began < 1.0
    assert got == [("a", 1)] * others
    assert slow.error_count == 1
    assert slow.last_error == "TimeoutError: handler did not finish within 0.05s"
    [entry] = [e for e in logs if e["event"] == "event handler timed out"]
    assert (entry["owner"], entry["pattern"], entry["event_name"]) == ("slow-plugin", "a", "a")
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0  # the timeout did not leak a cancellation into the emitter
    await asyncio.sleep(0)


async def test_a_handler_raising_its_own_timeout_error_is_a_failure_not_a_timeout() -> None:
    bus = EventBus()

    async def handler(event: str, data: Any) -> None:
        await asyncio.sleep(0)
        raise TimeoutError("upstream slow")

    sub = bus.subscribe("a", handler)
    with capture_logs() as logs:
        await bus.emit("a")
    assert sub.last_error == "TimeoutError: upstream slow"
    assert [e["event"] for e in logs] == ["event handler failed"]


@pytest.mark.parametrize("suspend_first", [False, True])
async def test_a_handler_cancelling_itself_does_not_cancel_the_emitter(
    suspend_first: bool,
) -> None:
    bus = EventBus()

    async def handler(event: str, data: Any) -> None:
        if suspend_first:
            await asyncio.sleep(0)
        raise asyncio.CancelledError

    sub = bus.subscribe("a", handler)
    with capture_logs() as logs:
        await bus.emit("a")
    assert (sub.error_count, sub.last_error) == (1, "CancelledError")
    assert [e["event"] for e in logs] == ["event handler failed"]


@pytest.mark.parametrize("subscribers", [1, 2])
async def test_cancelling_the_emitter_cancels_its_handlers_without_counting_errors(
    subscribers: int,
) -> None:
    bus = EventBus()
    started, cancelled = asyncio.Event(), []

    async def handler(event: str, data: Any) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(data)
            raise

    subs = [bus.subscribe("a", handler) for _ in range(subscribers)]
    emitter = asyncio.create_task(bus.emit("a", "x"))
    await started.wait()
    emitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await emitter
    assert cancelled == ["x"] * subscribers
    assert [s.error_count for s in subs] == [0] * subscribers


async def test_a_sync_handler_that_blocks_the_loop_is_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bus_module, "_SLOW_SYNC_HANDLER", 0.001)
    bus = EventBus()
    bus.subscribe("a", lambda e, d: time.sleep(0.005), owner="sleepy")
    with capture_logs() as logs:
        await bus.emit("a")
    [entry] = [e for e in logs if e["event"] == "event handler blocked the event loop"]
    assert entry["owner"] == "sleepy"


# -- subscriptions: dispose, counts -----------------------------------------------------------


async def test_dispose_is_idempotent_and_stops_delivery() -> None:
    bus = EventBus()
    got: Received = []
    sub = bus.subscribe("a", recorder(got))
    await bus.emit("a", 1)
    sub.dispose()
    sub.dispose()
    await bus.emit("a", 2)
    assert got == [("a", 1)]
    assert not sub.active
    assert bus.count() == 0


async def test_disposing_during_delivery_is_safe() -> None:
    bus, got = EventBus(), []
    subs: list[Subscription] = []

    def first(event: str, data: Any) -> None:
        got.append(("first", data))
        subs[0].dispose()  # itself
        subs[2].dispose()  # one whose turn has not come
        bus.subscribe("a", recorder(got))  # a newcomer: only gets later events

    subs.append(bus.subscribe("a", first))
    subs.append(bus.subscribe("a", async_recorder(got)))
    subs.append(bus.subscribe("a", recorder(got)))
    await bus.emit("a", 1)
    assert got == [("first", 1), ("a", 1)]
    got.clear()
    await bus.emit("a", 2)
    assert got == [("a", 2), ("a", 2)]
    assert bus.count() == 2


async def test_counts_and_listings_by_owner() -> None:
    bus = EventBus()
    a1 = bus.subscribe("server:*", recorder([]), owner="plugin-a")
    a2 = bus.subscribe("plugin:enabled", recorder([]), owner="plugin-a")
    b1 = bus.subscribe("*", recorder([]), owner="plugin-b")
    core = bus.subscribe("server:started", recorder([]))
    assert (bus.count(), bus.count("plugin-a"), bus.count("plugin-b"), bus.count("x")) == (
        4,
        2,
        1,
        0,
    )
    assert bus.subscriptions("plugin-a") == [a1, a2]
    assert bus.subscriptions() == [a1, a2, b1, core]
    assert len({a1.id, a2.id, b1.id, core.id}) == 4
    assert (a1.pattern, a1.owner, core.owner) == ("server:*", "plugin-a", None)
    for sub in bus.subscriptions("plugin-a"):
        sub.dispose()
    assert (bus.count(), bus.count("plugin-a")) == (2, 0)
    assert "disposed" in repr(a1)


async def test_the_route_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_module, "_ROUTE_CACHE_MAX", 3)
    bus = EventBus()
    got: Received = []
    bus.subscribe("*", recorder(got))
    for i in range(10):
        await bus.emit(f"e{i}")
    assert len(bus._routes) <= 3
    assert len(got) == 10


# -- publisher seam ---------------------------------------------------------------------------


class FakePublisher:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, Any, str | None]] = []
        self.fail = fail

    async def __call__(self, event: str, data: Any, source: str | None) -> None:
        self.calls.append((event, data, source))
        if self.fail:
            raise ConnectionError("redis is down")


async def test_publisher_is_called_once_per_emit_and_not_for_deliver_local() -> None:
    publisher = FakePublisher()
    bus = EventBus(publisher=publisher)
    got: Received = []
    bus.subscribe("*", recorder(got), every_instance=True)
    await bus.emit("server:started", {"id": 1}, source="core")
    await bus.emit("nobody:listens")
    await bus.deliver_local("remote:event", 2, source="other-instance")
    assert publisher.calls == [
        ("server:started", {"id": 1}, "core"),
        ("nobody:listens", None, None),
    ]
    assert got == [("server:started", {"id": 1}), ("nobody:listens", None), ("remote:event", 2)]


async def test_events_from_other_instances_reach_only_every_instance_subscribers() -> None:
    """Once per cluster by default: a remote event is for ``every_instance`` listeners only."""
    bus = EventBus()
    default: Received = []
    everywhere: Received = []
    bus.subscribe("game:*", recorder(default))
    bus.subscribe("game:*", recorder(everywhere), every_instance=True)
    await bus.emit("game:local", 1)
    await bus.deliver_local("game:remote", 2, source="other-instance")
    assert default == [("game:local", 1)]
    assert everywhere == [("game:local", 1), ("game:remote", 2)]


async def test_a_bridge_echo_does_not_loop() -> None:
    """A bridge hands remote events to deliver_local, so it never sees them again."""
    bus = EventBus()
    remote: list[tuple[str, Any]] = []

    async def bridge(event: str, data: Any, source: str | None) -> None:
        remote.append((event, data))
        await bus.deliver_local(event, data, source="echo")  # as if it came back from Redis

    bus.publisher = bridge
    got: Received = []
    bus.subscribe("a", recorder(got), every_instance=True)
    await bus.emit("a", 1)
    assert remote == [("a", 1)]
    assert got == [("a", 1), ("a", 1)]


async def test_a_failing_publisher_is_logged_and_local_delivery_goes_on() -> None:
    publisher = FakePublisher(fail=True)
    bus = EventBus(publisher=publisher)
    got: Received = []
    bus.subscribe("a", recorder(got))
    with capture_logs() as logs:
        await bus.emit("a", 1)
    assert got == [("a", 1)]
    assert [e["event"] for e in logs] == ["event publisher failed"]


async def test_a_hanging_publisher_times_out() -> None:
    async def hangs(event: str, data: Any, source: str | None) -> None:
        await asyncio.Event().wait()

    bus = EventBus(handler_timeout=0.05, publisher=hangs)
    got: Received = []
    bus.subscribe("a", recorder(got))
    with capture_logs() as logs:
        await bus.emit("a", 1)
    assert got == [("a", 1)]
    assert [e["event"] for e in logs] == ["event publisher timed out"]
