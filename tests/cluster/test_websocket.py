"""WebSocket across instances (issue 12): a client connected to B receives what a plugin on A
sends it (by client id, by user, by broadcast), and admins on every instance get the host's pushes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.cluster.harness import Cluster, Instance
from tests.cluster.wsclient import Message, WsClient


@pytest.fixture
def admin_on_b(cluster: Cluster) -> Iterator[WsClient]:
    with WsClient(cluster.b.base, cluster.b.headers["Authorization"].split()[1]) as client:
        yield client


def send(on: Instance, path: str, **body: object) -> str:
    nonce = uuid.uuid4().hex[:10]
    r = on.route("ws", path, "POST", json={"nonce": nonce, **body})
    assert r.status_code == 200, r.text
    return nonce


def carrying(kind: str, nonce: str) -> Callable[[Message], bool]:
    def match(message: Message) -> bool:
        data = message.get("data") or {}
        return message.get("type") == kind and data.get("nonce") == nonce

    return match


def test_send_on_a_reaches_a_client_on_b(cluster: Cluster, admin_on_b: WsClient) -> None:
    nonce = send(cluster.a, "/send", clientId=admin_on_b.client_id)
    _, message = admin_on_b.wait_for(carrying("plugin:ws:direct", nonce), 2)
    assert message["data"]["from"] == "a"


def test_send_to_user_on_a_reaches_the_users_clients_on_b_and_c(
    cluster: Cluster, admin_on_b: WsClient
) -> None:
    token = cluster.c.headers["Authorization"].split()[1]
    with WsClient(cluster.c.base, token) as on_c:
        user_id = admin_on_b.user["id"]
        nonce = send(cluster.a, "/send-user", userId=user_id)
        for client in (admin_on_b, on_c):
            client.wait_for(carrying("plugin:ws:user", nonce), 2)


def test_broadcast_on_a_reaches_clients_on_b_with_the_permission(
    cluster: Cluster, admin_on_b: WsClient
) -> None:
    username, password = f"v-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    cluster.a.ok(
        "POST", "/api/users", json={"username": username, "role": "viewer", "password": password}
    )
    with WsClient(cluster.b.base, cluster.b.login(username, password)) as viewer_on_b:
        everyone = send(cluster.a, "/broadcast")
        writers = send(cluster.a, "/broadcast", permission="admin.write")
        for client in (admin_on_b, viewer_on_b):
            client.wait_for(carrying("plugin:ws:all", everyone), 2)
        admin_on_b.wait_for(carrying("plugin:ws:all", writers), 2)
        # The viewer lacks admin.write; messages from one sender keep their order, so once a
        # later broadcast reached the viewer, the filtered one would have arrived before it.
        last = send(cluster.a, "/broadcast")
        viewer_on_b.wait_for(carrying("plugin:ws:all", last), 2)
        leaked = [m for m in viewer_on_b.of_type("plugin:ws:all") if m["data"]["nonce"] == writers]
        assert leaked == []


def test_star_send_on_a_reaches_clients_on_b(cluster: Cluster, admin_on_b: WsClient) -> None:
    nonce = send(cluster.a, "/send", clientId="*")
    admin_on_b.wait_for(carrying("plugin:ws:direct", nonce), 2)


def test_each_message_arrives_once(cluster: Cluster, admin_on_b: WsClient) -> None:
    """Fan-out must not duplicate: the client on B gets one copy of a broadcast from A."""
    nonce = send(cluster.a, "/broadcast")
    admin_on_b.wait_for(carrying("plugin:ws:all", nonce), 2)
    after = send(cluster.a, "/broadcast")  # ordered after the first: its arrival bounds the wait
    admin_on_b.wait_for(carrying("plugin:ws:all", after), 2)
    copies = [m for m in admin_on_b.of_type("plugin:ws:all") if m["data"]["nonce"] == nonce]
    assert len(copies) == 1


def test_enabling_a_plugin_on_a_pushes_plugins_updated_to_an_admin_on_b(
    cluster: Cluster, admin_on_b: WsClient
) -> None:
    mark = admin_on_b.mark()
    cluster.a.ok("POST", "/api/plugins/toggle/enable", json={"enabled": True})
    try:

        def toggle_enabled(message: Message) -> bool:
            data = message.get("data") or {}
            plugin = data.get("plugin") or {}
            return (
                message.get("type") == "plugins:updated"
                and data.get("name") == "toggle"
                and plugin.get("enabled") is True
            )

        admin_on_b.wait_for(toggle_enabled, 2, after=mark)
    finally:
        cluster.a.ok("POST", "/api/plugins/toggle/enable", json={"enabled": False})


def test_a_plugin_log_line_on_a_reaches_an_admin_on_b(
    cluster: Cluster, admin_on_b: WsClient
) -> None:
    nonce = send(cluster.a, "/log")

    def logged(message: Message) -> bool:
        data = message.get("data") or {}
        record = data.get("record") or {}
        return (
            message.get("type") == "plugin:log"
            and data.get("name") == "ws"
            and (record.get("fields") or {}).get("nonce") == nonce
        )

    admin_on_b.wait_for(logged, 2)


def test_a_server_started_on_a_pushes_servers_updated_to_an_admin_on_b(
    cluster: Cluster, admin_on_b: WsClient
) -> None:
    name = f"s-{uuid.uuid4().hex[:8]}"
    server = cluster.a.ok("POST", "/api/servers", json={"name": name, "game": "minecraft"})
    cluster.a.ok("POST", f"/api/servers/{server['id']}/start")

    def started(message: Message) -> bool:
        data = message.get("data") or {}
        return (
            message.get("type") == "servers:updated"
            and data.get("event") == "server:started"
            and (data.get("server") or {}).get("name") == name
        )

    admin_on_b.wait_for(started, 2)
