"""Hot reload in a cluster (issue 12): an API reload on A reloads the plugin on every instance;
each instance's own file watcher still picks up a change in the shared plugins folder.

The ``hot`` fixture plugin answers ``GET /v`` with ``V`` from its ``backend/version.py``.
"""

from __future__ import annotations

import random

from tests.cluster.harness import Cluster, Instance, eventually


def set_version(cluster: Cluster, value: int) -> None:
    (cluster.plugins_dir / "hot" / "backend" / "version.py").write_text(f"V = {value}\n")


def version(on: Instance) -> int | None:
    r = on.route("hot", "/v")
    return int(r.json()["v"]) if r.status_code == 200 else None


def test_an_api_reload_on_a_reaches_every_instance(cluster: Cluster) -> None:
    before = version(cluster.b)
    assert before is not None
    value = before + random.randint(1, 1000)
    set_version(cluster, value)
    # Nothing watches the folder (CATALYST_HOT_RELOAD=false): the old code runs until told.
    assert version(cluster.b) == before
    cluster.a.ok("POST", "/api/plugins/hot/reload")
    assert version(cluster.a) == value

    def everywhere() -> bool:
        return version(cluster.b) == value and version(cluster.c) == value

    took = eventually(everywhere, 10, what="B and C serve the reloaded code").seconds
    assert took <= 3.0, f"B and C served the new code {took:.2f} s after A's reload"


def test_each_instances_file_watcher_picks_up_a_change_in_the_shared_folder(
    watched: Cluster,
) -> None:
    before = version(watched.a)
    assert before is not None
    assert version(watched.b) == before
    value = before + random.randint(1, 1000)
    set_version(watched, value)

    def everywhere() -> bool:
        return version(watched.a) == value and version(watched.b) == value

    took = eventually(everywhere, 10, what="A and B serve the changed code").seconds
    assert took <= 5.0, f"the watchers reloaded after {took:.2f} s"


def test_every_instance_reports_the_reloaded_code_version(cluster: Cluster) -> None:
    """The plugin's page lists each live instance with the code version it loaded (a hash of
    the plugin folder): after a reload everywhere, the three agree and no mismatch is flagged."""
    before = cluster.a.plugin("hot")["codeHash"]
    set_version(cluster, (version(cluster.a) or 0) + 1)
    cluster.a.ok("POST", "/api/plugins/hot/reload")

    def agreed(on: Instance) -> bool:
        data = on.plugin("hot")
        hashes = {i["id"]: i["codeHash"] for i in data["instances"]}
        return (
            set(hashes) == {"a", "b", "c"}
            and set(hashes.values()) == {data["codeHash"]}
            and data["codeHash"] != before
            and data["codeMismatch"] is False
        )

    eventually(lambda: all(agreed(i) for i in cluster.instances), 10, what="one code version")
