"""Multiprocess mode: real ``catalyst serve`` processes writing to one ``PROMETHEUS_MULTIPROC_DIR``
(as the workers of ``catalyst serve --workers N`` do) are scraped as one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from catalyst import metrics
from tests.metrics.helpers import value
from tests.plugin_helpers import write_plugin
from tests.serve_subprocess import serving
from tests.test_serve_process import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def shared_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A multiprocess folder made by ``prepare_multiprocess`` (the variable it exports is put
    back after the test: this test process is not in multiprocess mode)."""
    monkeypatch.setenv(metrics.MULTIPROC_ENV, "")
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left by an earlier run")
    prepared = metrics.prepare_multiprocess(folder)
    assert os.environ[metrics.MULTIPROC_ENV] == str(prepared)
    assert list(prepared.iterdir()) == []  # stale files cleared
    return prepared


def test_two_processes_are_aggregated_and_a_dead_ones_gauges_leave(
    tmp_path: Path, shared_dir: Path
) -> None:
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "mp-probe", "def on_enable(ctx):\n    pass\n")
    env = {metrics.MULTIPROC_ENV: str(shared_dir), "CATALYST_METRICS_PUBLIC": "true"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        serving(tmp_path / "a", plugins, ["mp-probe"], env) as a,
        serving(tmp_path / "b", plugins, ["mp-probe"], env) as b,
    ):
        for _ in range(2):
            assert httpx.get(f"{a.base}/livez").status_code == 200
        for _ in range(3):
            assert httpx.get(f"{b.base}/livez").status_code == 200
        token = a.headers["Authorization"].removeprefix("Bearer ")
        ws_url = a.base.replace("http://", "ws://") + f"/ws?token={token}"
        with connect(ws_url) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
            from_b = httpx.get(f"{b.base}/metrics").text  # a client of A, scraped on B
        livez = {"route": "/livez", "method": "GET", "status": "200"}
        assert value(from_b, "catalyst_http_requests_total", **livez) == 5
        assert value(from_b, "catalyst_http_request_duration_seconds_count", **livez) == 5
        assert value(from_b, "catalyst_ws_clients") == 1
        assert value(from_b, "catalyst_ws_messages_total", direction="out") >= 1
        enabled = {"plugin": "mp-probe", "state": "enabled"}
        assert value(from_b, "catalyst_plugin_state", **enabled) == 1  # livemax, not 2

        a_pid = a.proc.pid
        assert list(shared_dir.glob(f"gauge_live*_{a_pid}.db"))
        a.proc.terminate()  # a graceful stop: the worker marks itself dead on its way out
        assert a.proc.wait(timeout=30) == 0, a.output()
        assert not list(shared_dir.glob(f"gauge_live*_{a_pid}.db"))
        from_b = httpx.get(f"{b.base}/metrics").text
        assert value(from_b, "catalyst_http_requests_total", **livez) == 5  # counters stay
        assert value(from_b, "catalyst_ws_clients") == 0
        # A unloaded its plugin on the way out, after it left the totals: B's view is B's
        assert value(from_b, "catalyst_plugin_state", plugin="mp-probe", state="unloaded") == 0
        assert value(from_b, "catalyst_plugin_state", **enabled) == 1


def test_processes_share_the_separate_metrics_port(tmp_path: Path, shared_dir: Path) -> None:
    port = free_port()
    env = {metrics.MULTIPROC_ENV: str(shared_dir), "CATALYST_METRICS_PORT": str(port)}
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        serving(tmp_path / "a", plugins, [], env) as a,
        serving(tmp_path / "b", plugins, [], env) as b,
    ):
        httpx.get(f"{a.base}/livez")
        httpx.get(f"{b.base}/livez")
        assert httpx.get(f"{a.base}/metrics").status_code == 404  # only on the port
        for _ in range(4):  # whichever process answers, it reads both
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            assert value(text, "catalyst_http_requests_total", route="/livez") == 2
