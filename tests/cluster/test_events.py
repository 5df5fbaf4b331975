"""Events in a cluster (issue 12): a default listener hears an event once in the cluster (where
it was emitted); an ``every_instance=True`` listener hears it on every instance. Core events too.

The ``evt`` plugin counts in its (shared) storage: ``default:<nonce>`` per default delivery,
``every:<nonce>:<instance>`` per every-instance delivery, and per instance the deliveries of the
core event ``plugin:configured`` for its own config.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.cluster.harness import Cluster, Instance, eventually, never


def counts(on: Instance) -> dict[str, Any]:
    r = on.route("evt", "/counts")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def emit(on: Instance, **data: Any) -> str:
    nonce = uuid.uuid4().hex[:10]
    r = on.route("evt", "/emit", "POST", json={"nonce": nonce, **data})
    assert r.status_code == 200, r.text
    return nonce


def test_an_emit_on_a_reaches_the_default_listener_once_in_the_cluster(cluster: Cluster) -> None:
    nonce = emit(cluster.b)  # B: any instance, not only the first
    # emit returns once the local handlers finished: the default delivery is done by now
    found = counts(cluster.a)
    assert found.get(f"default:{nonce}") == 1, found
    assert f"default-on:{nonce}:b" in found  # on the instance that emitted it
    # and no other instance delivers it again, even after the every-instance ones arrived
    eventually(lambda: len([k for k in counts(cluster.a) if k.startswith(f"every:{nonce}:")]) == 3)
    never(lambda: counts(cluster.a).get(f"default:{nonce}", 0) > 1, 0.5, what="a second delivery")


def test_an_emit_on_a_reaches_the_every_instance_listener_on_every_instance(
    cluster: Cluster,
) -> None:
    nonce = emit(cluster.a)
    expected = {f"every:{nonce}:{i.id}": 1 for i in cluster.instances}

    def delivered() -> bool:
        found = counts(cluster.c)
        return {k: v for k, v in found.items() if k.startswith(f"every:{nonce}:")} == expected

    took = eventually(delivered, 5, what="the every-instance listener ran on a, b and c").seconds
    assert took <= 1.0, f"every instance heard it after {took:.2f} s"
    never(lambda: counts(cluster.c).get(f"every:{nonce}:b", 0) > 1, 0.3, what="a double delivery")


def test_core_events_follow_the_same_rule(cluster: Cluster) -> None:
    """A config change made on A emits ``plugin:configured`` once for default listeners, and on
    every instance for ``every_instance`` ones (the other instances apply the change too)."""
    before = counts(cluster.a)

    def delta(key: str, found: dict[str, Any]) -> int:
        return int(found.get(key, 0)) - int(before.get(key, 0))

    cluster.a.ok("PUT", "/api/plugins/evt/config", json={"config": {"value": uuid.uuid4().hex}})

    def everywhere() -> dict[str, Any] | None:
        found = counts(cluster.a)
        heard = all(delta(f"core-every:{i.id}", found) == 1 for i in cluster.instances)
        return found if heard else None

    found = eventually(everywhere, 5, what="plugin:configured on every instance").value
    total = sum(delta(f"core-default:{i.id}", found) for i in cluster.instances)
    assert total == 1, found
    assert delta("core-default:a", found) == 1, found
    never(
        lambda: (
            sum(delta(f"core-default:{i.id}", counts(cluster.a)) for i in cluster.instances) > 1
        ),
        0.5,
        what="a second default delivery of plugin:configured",
    )
