"""``catalyst serve --workers 2`` (issue 12): two processes answer on one port, sharing the
database and Redis, and a state change made through one reaches the other.

Each request opens a new connection, so the kernel may hand it to either worker; the ``probe``
plugin says which answered by its process id (each worker runs its own plugin process).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cluster.harness import ADMIN_PASSWORD, Cluster, Instance, eventually
from tests.cluster.plugins import PROBE


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with Cluster.start(
        1,
        root=tmp_path_factory.mktemp("workers"),
        plugins={"probe": PROBE},
        auto_enable=["probe"],
        extra_args=["--workers", "2"],
    ) as cluster:
        yield cluster.a


def fresh(on: Instance, path: str) -> dict[str, Any]:
    """A plugin route's answer over a new connection."""
    r = httpx.get(f"{on.base}/api/plugins/probe{path}", headers=on.headers, timeout=10)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_two_workers_answer_on_one_port(served: Instance) -> None:
    pids: set[int] = set()
    instances: set[str] = set()

    def both() -> bool:
        pids.add(fresh(served, "/whoami")["pid"])
        ready = httpx.get(f"{served.base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        instances.add(ready.json()["data"]["instance"])
        return len(pids) >= 2 and len(instances) >= 2

    eventually(both, 15, interval=0.01, what="answers from two worker processes")
    assert len(pids) == 2, pids
    assert len(instances) == 2, f"each worker has its own instance id: {instances}"


def test_a_config_change_through_one_worker_reaches_the_other(served: Instance) -> None:
    value = uuid.uuid4().hex
    served.ok("PUT", "/api/plugins/probe/config", json={"config": {"value": value}})
    latest: dict[int, str] = {}

    def converged() -> bool:
        answer = fresh(served, "/setting")
        latest[answer["pid"]] = answer["value"]
        return len(latest) >= 2 and set(latest.values()) == {value}

    took = eventually(converged, 10, interval=0.01, what="both workers see the value").seconds
    assert took <= 1.0, f"both workers saw the value after {took:.2f} s: {latest}"


def test_a_logout_through_one_worker_applies_in_the_other(served: Instance) -> None:
    token = served.login("admin", ADMIN_PASSWORD)
    for _ in range(8):  # over new connections: both workers have seen (and may cache) it
        assert httpx.get(f"{served.base}/api/auth/me", headers=bearer(token)).status_code == 200
    assert served.post("/api/auth/logout", token=token).status_code == 200
    answers: list[int] = []

    def refused_by_all() -> bool:
        answers.append(httpx.get(f"{served.base}/api/auth/me", headers=bearer(token)).status_code)
        return len(answers) >= 10 and set(answers[-10:]) == {401}

    took = eventually(refused_by_all, 10, interval=0.01, what="every worker refuses it").seconds
    assert took <= 1.0, f"a worker accepted the logged-out token for {took:.2f} s: {answers}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
