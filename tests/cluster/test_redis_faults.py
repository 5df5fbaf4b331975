"""Redis trouble (issue 12): with Redis gone every instance keeps serving its own requests and
says so in ``/readyz`` (without failing it); when Redis is back, what a lost message missed is
repaired at once (a reconcile after the reconnect, not the periodic one: it is 300 s here).

The cluster (``watched``) runs on its own ``redis-server``, which the test stops and restarts.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable

from tests.cluster.harness import ADMIN_PASSWORD, Cluster, Instance, eventually, never
from tests.cluster.own_redis import OwnRedis


def readyz_redis(on: Instance) -> str:
    """The Redis state ``/readyz`` reports (answered 200 whatever it is), from this instance."""
    r = on.get("/readyz")
    assert r.status_code == 200, f"{on.id} /readyz: {r.status_code} {r.text}"
    data = r.json()["data"]
    assert data["instance"] == on.id, data
    state: str = data["redis"]
    return state


def redis_is(on: Instance, state: str) -> Callable[[], bool]:
    return lambda: readyz_redis(on) == state


def redis_complaints(log: str) -> list[str]:
    """Warning and error records of the log that are about Redis."""
    found = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") in ("warning", "error", "critical") and "redis" in line.lower():
            found.append(str(record.get("event")))
    return found


def setting(on: Instance) -> str:
    r = on.route("probe", "/setting")
    assert r.status_code == 200, r.text
    value: str = r.json()["value"]
    return value


def test_instances_keep_serving_without_redis_and_converge_when_it_returns(
    watched: Cluster, own_redis: OwnRedis
) -> None:
    a, b = watched.a, watched.b
    for instance in (a, b):
        eventually(redis_is(instance, "ok"), 5, what=f"{instance.id}: redis ok")
    marks = {i.id: i.log_size() for i in (a, b)}
    own_redis.stop()
    try:
        for instance in (a, b):
            eventually(redis_is(instance, "down"), 5, what=f"{instance.id}: redis down")
            health = instance.get("/api/health")
            assert health.status_code == 200
            assert health.json()["data"]["redis"] == "down"
            assert instance.route("probe", "/whoami").json()["instance"] == instance.id
            assert instance.login("admin", ADMIN_PASSWORD)  # logins need no Redis either
        value = uuid.uuid4().hex
        a.ok("PUT", "/api/plugins/probe/config", json={"config": {"value": value}})
        assert setting(a) == value  # A's own request is served; B cannot hear of it now
        token = a.login("admin", ADMIN_PASSWORD)
        assert a.post("/api/auth/logout", token=token).status_code == 200
        # the outage goes on for a while (back-off retries): the state never flaps to "ok"
        never(lambda: readyz_redis(a) == "ok" or readyz_redis(b) == "ok", 2.0, what="redis ok")
        for instance in (a, b):  # "logs it once" (once per part that uses Redis)
            said = Counter(redis_complaints(instance.log_since(marks[instance.id])))
            assert said, f"{instance.id} did not log the outage"
            repeated = {event: n for event, n in said.items() if n > 1}
            assert not repeated, f"{instance.id} logged the outage again and again: {repeated}"
    finally:
        own_redis.start()
    took = eventually(lambda: setting(b) == value, 30, what="B repaired after Redis returned")
    assert took.seconds <= 10.0, f"B saw the change {took.seconds:.1f} s after Redis returned"
    for instance in (a, b):
        eventually(redis_is(instance, "ok"), 10, what=f"{instance.id}: redis ok")


def test_changes_converge_again_after_the_reconnect(watched: Cluster) -> None:
    """The backplane works again after the outage: a new change travels within 1 s."""
    value = uuid.uuid4().hex
    watched.b.ok("PUT", "/api/plugins/probe/config", json={"config": {"value": value}})
    took = eventually(lambda: setting(watched.a) == value, 5, what="A sees B's change").seconds
    assert took <= 1.0, f"A saw B's change after {took:.2f} s"
