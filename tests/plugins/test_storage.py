"""The plugin key-value storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import PluginStorage, utcnow
from catalyst.errors import BadRequest
from catalyst.plugins.storage import INT64_MAX, INT64_MIN, StorageError, StorageService

WORKER = Path(__file__).with_name("_increment_worker.py")

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def storage(sessions: Sessions) -> StorageService:
    return StorageService(sessions, "alpha")


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


async def stored_row(sessions: Sessions, plugin: str, key: str) -> tuple[int, datetime] | None:
    async with sessions() as db:
        row = (
            await db.execute(
                select(PluginStorage.size, PluginStorage.updated_at).where(
                    PluginStorage.plugin_name == plugin, PluginStorage.key == key
                )
            )
        ).first()
    return None if row is None else (row[0], row[1])


# -- get / set / delete / list / clear ---------------------------------------------------------


async def test_set_then_get_round_trips_every_json_type(storage: StorageService) -> None:
    values: dict[str, Any] = {
        "dict": {"a": 1, "nested": {"list": [1, 2.5, "x", None, True]}},
        "list": [1, "two", [3]],
        "str": "héllo ✓",
        "int": 42,
        "negative": -(2**62),
        "float": 2.5,
        "true": True,
        "false": False,
        "none": None,
        "empty": "",
    }
    for key, value in values.items():
        await storage.set(key, value)
    for key, value in values.items():
        got = await storage.get(key, default="missing")
        assert got == value
        assert type(got) is type(value)


async def test_get_missing_key_returns_default(storage: StorageService) -> None:
    assert await storage.get("nope") is None
    assert await storage.get("nope", default=7) == 7
    await storage.set("null", None)
    assert await storage.get("null", default=7) is None  # a stored null is not "missing"


async def test_set_overwrites_value_and_size(storage: StorageService, sessions: Sessions) -> None:
    await storage.set("k", 1)
    await storage.set("k", {"now": "bigger"})
    assert await storage.get("k") == {"now": "bigger"}
    assert await storage.list() == {"k": {"now": "bigger"}}
    row = await stored_row(sessions, "alpha", "k")
    assert row is not None
    assert row[0] == compact({"now": "bigger"})


async def test_delete_reports_whether_something_was_deleted(storage: StorageService) -> None:
    await storage.set("k", "v")
    assert await storage.delete("k") is True
    assert await storage.get("k", default="gone") == "gone"
    assert await storage.delete("k") is False


async def test_list_returns_matching_keys_sorted(storage: StorageService) -> None:
    for key in ["b", "a:2", "ab", "a:1", "a", "B"]:
        await storage.set(key, key.upper())
    everything = await storage.list()
    assert list(everything) == ["B", "a", "a:1", "a:2", "ab", "b"]
    assert everything["a:1"] == "A:1"
    assert await storage.list("a:") == {"a:1": "A:1", "a:2": "A:2"}
    assert list(await storage.list("a")) == ["a", "a:1", "a:2", "ab"]
    assert await storage.list("zzz") == {}


async def test_list_prefix_has_no_wildcards(storage: StorageService) -> None:
    for key in ["50%off", "500off", "5", "a_1", "ab1", "A_1", "x\\y", "xzy"]:
        await storage.set(key, 1)
    assert list(await storage.list("50%")) == ["50%off"]
    assert list(await storage.list("a_")) == ["a_1"]
    assert list(await storage.list("a")) == ["a_1", "ab1"]  # case-sensitive, also on SQLite
    assert list(await storage.list("x\\")) == ["x\\y"]
    assert list(await storage.list("%")) == []
    assert list(await storage.list("_")) == []


async def test_plugins_are_isolated(sessions: Sessions) -> None:
    alpha = StorageService(sessions, "alpha")
    beta = StorageService(sessions, "beta")
    await alpha.set("shared", "from alpha")
    await beta.set("shared", "from beta")
    await beta.set("only-beta", 1)
    assert await alpha.get("shared") == "from alpha"
    assert await beta.get("shared") == "from beta"
    assert await alpha.list() == {"shared": "from alpha"}
    assert await alpha.get("only-beta") is None

    assert await alpha.delete("shared") is True
    assert await beta.get("shared") == "from beta"
    assert await alpha.delete("only-beta") is False
    assert await beta.get("only-beta") == 1

    await alpha.increment("shared")
    assert await beta.get("shared") == "from beta"
    assert await alpha.usage() == compact(1) + len("shared")

    assert await alpha.clear() == 1
    assert await beta.list() == {"only-beta": 1, "shared": "from beta"}


async def test_clear_removes_every_key_and_counts_them(storage: StorageService) -> None:
    assert await storage.clear() == 0
    for i in range(3):
        await storage.set(f"k{i}", i)
    assert await storage.clear() == 3
    assert await storage.list() == {}
    assert await storage.usage() == 0


# -- limits ------------------------------------------------------------------------------------


async def test_value_over_max_value_bytes_is_refused_and_not_written(sessions: Sessions) -> None:
    storage = StorageService(sessions, "alpha", max_value_bytes=10)
    await storage.set("exact", "x" * 8)  # '"xxxxxxxx"' is exactly 10 bytes
    with pytest.raises(
        StorageError, match=r"^Value for key 'k' is 22 bytes; the limit is 10 bytes$"
    ):
        await storage.set("k", "x" * 20)
    assert await storage.get("k", default="absent") == "absent"

    with pytest.raises(StorageError, match="Value for key 'exact' is 11 bytes"):
        await storage.set("exact", "x" * 9)
    assert await storage.get("exact") == "x" * 8


async def test_quota_exceeded_is_refused_and_existing_data_intact(sessions: Sessions) -> None:
    storage = StorageService(sessions, "alpha", quota_bytes=100)
    await storage.set("a", "x" * 48)  # 50 bytes of value + 1 of key
    assert await storage.usage() == 51
    with pytest.raises(StorageError, match="quota") as refused:
        await storage.set("b", "y" * 48)  # would make 102
    message = str(refused.value)
    assert "102 bytes" in message
    assert "100 bytes" in message
    assert "'b'" in message
    assert await storage.get("b") is None
    assert await storage.get("a") == "x" * 48
    assert await storage.usage() == 51

    # growing an existing key past the quota is refused too, and leaves the old value
    with pytest.raises(StorageError, match="quota"):
        await storage.set("a", "x" * 99)
    assert await storage.get("a") == "x" * 48


async def test_overwriting_with_same_size_value_within_a_full_quota_is_allowed(
    sessions: Sessions,
) -> None:
    storage = StorageService(sessions, "alpha", quota_bytes=11)
    await storage.set("k", "x" * 8)  # 10 + 1 = 11: the quota, exactly
    await storage.set("k", "y" * 8)
    assert await storage.get("k") == "y" * 8
    assert await storage.usage() == 11
    with pytest.raises(StorageError, match="quota"):
        await storage.set("k", "z" * 9)


async def test_usage_counts_value_sizes_and_key_bytes(storage: StorageService) -> None:
    assert await storage.usage() == 0
    await storage.set("ab", "x")  # '"x"' = 3, key = 2
    await storage.set("é", [1, 2])  # '[1,2]' = 5, key = 2 bytes in UTF-8
    assert await storage.usage() == 3 + 2 + 5 + 2


@pytest.mark.parametrize("key", ["", "k" * 256, 5, None, b"bytes", "nul\x00char", "\ud800"])
async def test_bad_keys_are_refused(storage: StorageService, key: Any) -> None:
    for call in (
        lambda: storage.get(key),
        lambda: storage.set(key, 1),
        lambda: storage.delete(key),
        lambda: storage.increment(key),
    ):
        with pytest.raises(StorageError):
            await call()
    assert await storage.list() == {}


async def test_longest_key_is_accepted(storage: StorageService) -> None:
    await storage.set("k" * 255, 1)
    assert await storage.get("k" * 255) == 1


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({1, 2}, "not JSON-serialisable"),
        (object(), "not JSON-serialisable"),
        (float("nan"), "not JSON-serialisable"),
        (float("inf"), "not JSON-serialisable"),
        ([1, {"x": -float("inf")}], "not JSON-serialisable"),
        ({1: "int key"}, "object key 1"),
        ((1, 2), "tuple"),
        ({"deep": [b"bytes"]}, "not JSON-serialisable"),
        (2**64, "64-bit"),
        (["lone \ud800 surrogate"], "not valid Unicode"),
    ],
)
async def test_non_json_values_are_refused(
    storage: StorageService, value: Any, problem: str
) -> None:
    await storage.set("k", "before")
    with pytest.raises(StorageError, match=problem) as refused:
        await storage.set("k", value)
    assert "'k'" in str(refused.value)
    assert await storage.get("k") == "before"


async def test_circular_values_are_refused(storage: StorageService) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(StorageError, match="Circular"):
        await storage.set("k", loop)


def test_storage_error_is_a_bad_request() -> None:
    assert issubclass(StorageError, BadRequest)
    assert StorageError("x").status_code == 400


# -- increment ---------------------------------------------------------------------------------


async def test_increment_starts_at_zero(storage: StorageService, sessions: Sessions) -> None:
    assert await storage.increment("n") == 1
    assert await storage.increment("n") == 2
    assert await storage.increment("m", 5) == 5
    assert await storage.get("n") == 2
    row = await stored_row(sessions, "alpha", "n")
    assert row is not None
    assert row[0] == 1


async def test_increment_by_negative_and_float(storage: StorageService) -> None:
    result = await storage.increment("n", -3)
    assert result == -3
    assert type(result) is int
    assert await storage.increment("n", 10) == 7

    half = await storage.increment("n", 0.5)
    assert half == 7.5
    assert type(half) is float
    after = await storage.increment("n", 2)  # a float stored, an int added: a float
    assert after == 9.5
    assert type(after) is float
    assert await storage.get("n") == 9.5

    assert await storage.increment("f", -1.25) == -1.25
    whole = await storage.increment("f", 1.25)  # 0.0: still a float when `by` is one
    assert whole == 0
    assert type(whole) is float


async def test_increment_of_an_integral_float(database_url: str, storage: StorageService) -> None:
    await storage.set("two", 2.0)
    three = await storage.increment("two")
    assert three == 3
    # SQLite keeps a top-level 2.0 as the integer 2 (documented); PostgreSQL keeps the float
    assert type(three) is (int if database_url.startswith("sqlite") else float)
    assert type(await storage.get("two")) is type(three)


async def test_increment_keeps_size_and_updated_at(
    storage: StorageService, sessions: Sessions
) -> None:
    await storage.set("n", 9)
    before = await stored_row(sessions, "alpha", "n")
    assert before is not None
    async with asyncio.timeout(5):  # until the clock the host stamps rows with has moved on
        while utcnow() <= before[1]:
            await asyncio.sleep(0)
    assert await storage.increment("n") == 10
    after = await stored_row(sessions, "alpha", "n")
    assert after is not None
    assert after[0] == 2
    assert after[1] > before[1]

    for _ in range(3):
        result = await storage.increment("f", 0.1)
    assert result == 0.1 + 0.1 + 0.1  # 0.30000000000000004, as Python adds
    row = await stored_row(sessions, "alpha", "f")
    assert row is not None
    assert row[0] == compact(0.1 + 0.1 + 0.1)
    assert await storage.usage() == 2 + 1 + compact(0.1 + 0.1 + 0.1) + 1


@pytest.mark.parametrize("value", ["abc", "5", [1], {"n": 1}, True, None])
async def test_increment_of_a_non_number_is_refused(
    storage: StorageService, sessions: Sessions, value: Any
) -> None:
    await storage.set("k", value)
    before = await stored_row(sessions, "alpha", "k")
    with pytest.raises(StorageError, match=r"value of key 'k' is not a number"):
        await storage.increment("k")
    assert await storage.get("k", default="missing") == value
    assert await stored_row(sessions, "alpha", "k") == before


@pytest.mark.parametrize("by", ["1", True, None, float("nan"), float("inf"), 2**63])
async def test_increment_by_a_non_number_is_refused(storage: StorageService, by: Any) -> None:
    with pytest.raises(StorageError, match="'k'"):
        await storage.increment("k", by)
    assert await storage.get("k", default="missing") == "missing"


async def test_increment_past_64_bits_is_refused(storage: StorageService) -> None:
    await storage.set("big", INT64_MAX)
    with pytest.raises(StorageError, match="out of range"):
        await storage.increment("big")
    assert await storage.get("big") == INT64_MAX
    await storage.set("small", INT64_MIN)
    with pytest.raises(StorageError, match="out of range"):
        await storage.increment("small", -1)
    assert await storage.increment("big", -1) == INT64_MAX - 1


async def test_increment_respects_the_quota(sessions: Sessions) -> None:
    storage = StorageService(sessions, "alpha", quota_bytes=4)
    assert await storage.increment("a", 10) == 10  # 2 + 1 bytes
    with pytest.raises(StorageError, match="quota"):
        await storage.increment("b")  # another 1 + 1 bytes
    assert await storage.get("b") is None
    with pytest.raises(StorageError, match="quota"):
        await storage.increment("a", 990)  # 1000 is two bytes more
    assert await storage.get("a") == 10
    assert await storage.usage() == 3
    assert await storage.increment("a", 90) == 100  # 3 + 1 bytes: the quota, exactly


# -- concurrency -------------------------------------------------------------------------------


async def test_concurrent_increments_in_one_process_are_exact(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        services = [StorageService(session_factory(e), "counter") for e in engines]
        results = await asyncio.gather(
            *(services[i % len(services)].increment("hits") for i in range(200))
        )
        # atomic: every call saw a different value, none was lost
        assert sorted(results) == list(range(1, 201))
        assert await services[0].get("hits") == 200
    finally:
        for engine in engines:
            await engine.dispose()


async def test_concurrent_sets_cannot_overshoot_the_quota(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        # each key takes 10 + 3 bytes: the quota holds exactly 10 of them
        services = [StorageService(session_factory(e), "alpha", quota_bytes=130) for e in engines]
        outcomes = await asyncio.gather(
            *(services[i % len(services)].set(f"k{i:02}", "x" * 8) for i in range(30)),
            return_exceptions=True,
        )
        unexpected = [o for o in outcomes if o is not None and not isinstance(o, StorageError)]
        assert unexpected == []
        assert sum(isinstance(o, StorageError) for o in outcomes) == 20
        assert len(await services[0].list()) == 10
        assert await services[0].usage() == 130
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.slow
async def test_concurrent_increments_from_two_processes_are_exact(
    database_url: str, sessions: Sessions
) -> None:
    args = [str(WORKER), database_url, "counter", "hits", "1000", "20"]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:  # both are connected before either starts counting
            assert proc.stdout is not None
            assert proc.stderr is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if line != b"ready\n":
                pytest.fail(f"worker failed to start: {(line + await proc.stderr.read())!r}")
        outputs = await asyncio.wait_for(
            asyncio.gather(*(proc.communicate(b"go\n") for proc in procs)), 120
        )
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    spans = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        _, start, end = out.decode().split()
        spans.append((float(start), float(end)))
    (start_a, end_a), (start_b, end_b) = spans
    assert start_a < end_b, "the two processes did not overlap"
    assert start_b < end_a, "the two processes did not overlap"
    assert await StorageService(sessions, "counter").get("hits") == 2000


# -- property ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values)
async def test_set_then_get_returns_an_equal_value(storage: StorageService, value: Any) -> None:
    await storage.set("k", value)
    assert await storage.get("k") == value
    assert await storage.list() == {"k": value}
