"""Cluster tests: real instances over one PostgreSQL database and Redis (issue 12).

Every test here needs both services; under ``CI=true`` a missing one fails the run, elsewhere it
skips. Each module starts its own cluster (module-scoped fixture); a failing test's report carries
the tail of every running instance's log.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.cluster.harness import LIVE, Cluster, PluginSource
from tests.cluster.own_redis import OwnRedis
from tests.cluster.plugins import EVT, PROBE, TICK, TOGGLE, WS
from tests.conftest import require_postgres, require_redis

HERE = Path(__file__).parent
FIXTURE_PLUGINS = HERE.parent / "fixture_plugins"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _postgres_and_redis() -> None:
    require_postgres()
    require_redis()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and LIVE:
        report.sections.append(("cluster logs", "\n".join(c.logs(30) for c in LIVE)))
    return report


#: Every plugin the shared cluster runs; all but ``toggle`` are enabled at start.
MAIN_PLUGINS: dict[str, PluginSource] = {
    "probe": PROBE,
    "toggle": TOGGLE,
    "tick": TICK,
    "evt": EVT,
    "ws": WS,
    "hot": FIXTURE_PLUGINS / "hot",
}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three instances (a, b, c) on the machine's Redis, shared by the modules whose tests
    do not disturb each other (one start instead of one per module). Hot reload is off, so
    only the cluster can carry an API reload from one instance to another."""
    with Cluster.start(
        3,
        root=tmp_path_factory.mktemp("cluster"),
        plugins=MAIN_PLUGINS,
        auto_enable=[name for name in MAIN_PLUGINS if name != "toggle"],
        env={"CATALYST_HOT_RELOAD": "false"},
    ) as started:
        yield started


@pytest.fixture(scope="session")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    """A private redis-server the Redis-fault tests stop and start (never the machine's)."""
    with OwnRedis(tmp_path_factory.mktemp("redis")).running() as server:
        yield server


@pytest.fixture(scope="session")
def watched(tmp_path_factory: pytest.TempPathFactory, own_redis: OwnRedis) -> Iterator[Cluster]:
    """Two instances on ``own_redis`` with their file watchers on (CATALYST_HOT_RELOAD=true) and
    the periodic reconcile far away (300 s), so only a reconcile after a Redis reconnect can
    repair what a lost message missed."""
    with Cluster.start(
        2,
        root=tmp_path_factory.mktemp("watched"),
        plugins={"probe": PROBE, "hot": FIXTURE_PLUGINS / "hot"},
        auto_enable=["probe", "hot"],
        redis_url=own_redis.url,
        env={"CATALYST_HOT_RELOAD": "true", "CATALYST_CLUSTER_RECONCILE_SECONDS": "300"},
    ) as started:
        yield started
