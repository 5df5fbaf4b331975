"""``deploy/nginx.conf`` as shipped (only its ports and log path replaced), run by a real nginx in
front of two real instances on PostgreSQL and Redis: requests reach both, a WebSocket connects
through it, the client's address and scheme arrive as nginx saw them, bodies over the limit stop
at nginx, and a stopped instance's share goes to the other.

nginx is a deploy-doc check, not a service the project needs: without it the test skips, in CI
too (``apt-get install nginx-light``)."""

from __future__ import annotations

import getpass
import json
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.conftest import FreshDatabases, require_postgres
from tests.plugin_helpers import EXAMPLE, write_plugin
from tests.serve_cluster import cluster_env, login, require_redis, start, stop, wait_serving
from tests.test_serve_process import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)

PEER = """
from catalyst.sdk import PluginContext, Request


def on_load(ctx: PluginContext) -> None:
    @ctx.get("/peer")
    async def peer(request: Request) -> dict[str, object]:
        client = request.client.host if request.client else None
        return {"client": client, "scheme": request.url.scheme}
"""


def render(config: str, listen: int, upstreams: list[int], access_log: Path) -> str:
    """The shipped config with this test's ports and log file (each replaced exactly)."""
    config, listens = re.subn(r"(?m)^(\s*)listen 80;", rf"\1listen 127.0.0.1:{listen};", config)
    found = re.findall(r"(?m)^\s*server 127\.0\.0\.1:(\d+)", config)
    assert listens == 1, "deploy/nginx.conf listens on port 80 once"
    assert len(found) == len(upstreams), f"deploy/nginx.conf lists upstreams {found}"
    for old, new in zip(found, upstreams, strict=True):
        config = config.replace(f"server 127.0.0.1:{old} ", f"server 127.0.0.1:{new} ", 1)
    config, logs = re.subn(r"access_log /var/log/nginx/\S+ ", f"access_log {access_log} ", config)
    assert logs == 1
    return config


@dataclass
class Deployed:
    nginx: subprocess.Popen[str]
    port: int
    instances: dict[str, tuple[subprocess.Popen[str], int]]
    access_log: Path
    headers: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def upstreams_of(self, path: str) -> list[str]:
        """The instance (upstream address) nginx logged for each request of ``path``."""
        lines = self.access_log.read_text().splitlines()
        return [
            m.group(1) for line in lines if f'"GET {path} ' in line and (m := UPSTREAM.search(line))
        ]


UPSTREAM = re.compile(r"upstream=(\S+)")


def _wait_port(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    if NGINX is None:
        pytest.skip(
            "nginx is not installed (apt-get install nginx-light): deploy/nginx.conf unchecked"
        )
    require_postgres()
    require_redis()
    tmp = tmp_path_factory.mktemp("deploy")
    plugins = tmp / "plugins"
    shutil.copytree(EXAMPLE, plugins / "example-plugin")
    write_plugin(plugins, "peer", PEER)
    databases = FreshDatabases("postgresql", tmp)
    base_env = cluster_env(
        tmp,
        databases.new(),
        plugins,
        CATALYST_PLUGIN_AUTO_ENABLE=json.dumps(["example-plugin", "peer"]),
        CATALYST_FORWARDED_ALLOW_IPS="127.0.0.1",  # as docs/deploy.md sets it
    )
    instances: dict[str, tuple[subprocess.Popen[str], int]] = {}
    nginx: subprocess.Popen[str] | None = None
    try:
        for name in ("a", "b"):
            port, folder = free_port(), tmp / name
            folder.mkdir()
            env = {**base_env, "CATALYST_INSTANCE_ID": name, "CATALYST_DATA_DIR": str(folder)}
            instances[name] = (start(["--port", str(port)], env, folder, folder / "log"), port)
        for name, (proc, port) in instances.items():
            wait_serving(f"http://127.0.0.1:{port}", proc, tmp / name / "log", "/readyz")
        listen, access_log = free_port(), tmp / "access.log"
        ports = [port for _, port in instances.values()]
        (tmp / "catalyst.conf").write_text(render(CONFIG.read_text(), listen, ports, access_log))
        (tmp / "nginx.conf").write_text(
            f"user {getpass.getuser()};\n"  # ignored (with a notice) unless nginx runs as root
            "worker_processes 1;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            + "".join(f"    {kind}_temp_path {tmp / kind};\n" for kind in TEMP_PATHS)
            + f"    include {tmp / 'catalyst.conf'};\n}}\n"
        )
        nginx = subprocess.Popen(
            [NGINX, "-e", "stderr", "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g",
             f"daemon off; pid {tmp / 'nginx.pid'}; error_log stderr;"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        _wait_port(listen, nginx)
        base = f"http://127.0.0.1:{listen}"
        yield Deployed(nginx, listen, instances, access_log, login(base))
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.terminate()
            nginx.wait(timeout=10)
        for proc, _ in instances.values():
            stop(proc)
        databases.drop_all()


TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def test_requests_through_nginx_reach_both_instances(deployed: Deployed) -> None:
    expected = {f"127.0.0.1:{port}" for _, port in deployed.instances.values()}
    for path in ("/readyz", "/api/plugins/example-plugin/hello"):
        for _ in range(4):
            assert httpx.get(f"{deployed.base}{path}").status_code == 200
        assert set(deployed.upstreams_of(path)) == expected, path
    # When /readyz names the instance (CATALYST_INSTANCE_ID), both names come back.
    named = {instance_of(httpx.get(f"{deployed.base}/readyz").json()["data"]) for _ in range(4)}
    assert named in ({None}, {"a", "b"})


def instance_of(readiness: dict[str, Any]) -> str | None:
    """The instance ``/readyz`` names, in its data or in its details, if it names one."""
    found = readiness.get("instance") or (readiness.get("details") or {}).get("instance")
    return found if isinstance(found, str) else None


def test_a_websocket_connects_through_nginx(deployed: Deployed) -> None:
    token = deployed.headers["Authorization"].removeprefix("Bearer ")
    url = f"ws://127.0.0.1:{deployed.port}/ws?token={token}"
    # The browser's Origin is the address it used: nginx passes that Host on, so it matches.
    with connect(url, origin=Origin(deployed.base), open_timeout=10) as ws:
        welcome = json.loads(ws.recv(timeout=10))
        assert welcome["type"] == "welcome"
        assert welcome["data"]["user"]["username"] == "admin"
        ws.send(json.dumps({"type": "plugin:example-plugin:ping", "data": {"n": 1}}))
        while (message := json.loads(ws.recv(timeout=10)))["type"] != "plugin:example-plugin:pong":
            pass
        assert message["data"]["original"] == {"n": 1}
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=Origin("http://elsewhere.example"), open_timeout=10)
    assert refused.value.response.status_code == 403


def test_the_client_address_and_scheme_are_those_nginx_saw(deployed: Deployed) -> None:
    """From 127.0.0.3, claiming another address and https: the plugin sees 127.0.0.3, http."""
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(transport=transport, headers=deployed.headers) as client:
        r = client.get(
            f"{deployed.base}/api/plugins/peer/peer",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
    assert r.status_code == 200, r.text
    assert r.json() == {"client": "127.0.0.3", "scheme": "http"}


def test_a_body_over_the_limit_stops_at_nginx(deployed: Deployed) -> None:
    r = httpx.post(
        f"{deployed.base}/api/plugins/example-plugin/echo",
        content=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    deadline = time.monotonic() + 5  # nginx writes its log line as it finishes the request
    while not (lines := [x for x in deployed.access_log.read_text().splitlines() if " 413 " in x]):
        assert time.monotonic() < deadline, "no 413 in nginx's access log"
        time.sleep(0.02)
    assert lines[-1].count("upstream=-") == 1  # no instance was asked


def test_a_stopped_instance_s_requests_go_to_the_other(deployed: Deployed) -> None:
    """Last (it stops an instance): no request fails, nginx moves on to the live one."""
    proc, _ = deployed.instances["b"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    for _ in range(6):
        assert httpx.get(f"{deployed.base}/api/plugins/example-plugin/hello").status_code == 200
    _, port_a = deployed.instances["a"]
    assert deployed.upstreams_of("/api/plugins/example-plugin/hello")[-1].endswith(f":{port_a}")
