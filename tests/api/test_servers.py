import httpx
import pytest

from tests.conftest import ClientFactory

ENDPOINTS = [
    ("GET", "/api/servers", "server.read"),
    ("POST", "/api/servers", "server.write"),
    ("GET", "/api/servers/1", "server.read"),
    ("DELETE", "/api/servers/1", "server.write"),
    ("POST", "/api/servers/1/start", "server.write"),
    ("POST", "/api/servers/1/stop", "server.write"),
]
NEW = {"name": "Survival", "game": "minecraft", "node": "node-1"}


async def create(client: httpx.AsyncClient, **over: str) -> dict[str, object]:
    r = await client.post("/api/servers", json={**NEW, **over})
    assert r.status_code == 201, r.text
    data: dict[str, object] = r.json()["data"]
    return data


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
async def test_every_endpoint_needs_login(
    anon: httpx.AsyncClient, method: str, path: str, permission: str
) -> None:
    r = await anon.request(method, path, json=NEW if method == "POST" else None)
    assert r.status_code == 401
    assert r.json()["success"] is False


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
async def test_every_endpoint_needs_its_permission(
    client_for: ClientFactory, method: str, path: str, permission: str
) -> None:
    client = await client_for(permissions=["user.read"])
    r = await client.request(method, path, json=NEW if method == "POST" else None)
    assert r.status_code == 403
    assert r.json() == {"success": False, "error": f"Missing permission: {permission}"}


async def test_read_permission_cannot_write_but_wildcard_can(client_for: ClientFactory) -> None:
    reader = await client_for(permissions=["server.read"])
    writer = await client_for(permissions=["server.*"])
    assert (await reader.post("/api/servers", json=NEW)).status_code == 403
    server = await create(writer)
    assert (await reader.get(f"/api/servers/{server['id']}")).status_code == 200
    assert (await reader.post(f"/api/servers/{server['id']}/start")).status_code == 403
    assert (await writer.post(f"/api/servers/{server['id']}/start")).status_code == 200


async def test_create_list_get_delete(admin: httpx.AsyncClient) -> None:
    a = await create(admin, name="A")
    await create(admin, name="B")
    assert a["status"] == "stopped"
    assert a["ownerId"] is not None
    listing = (await admin.get("/api/servers")).json()["data"]
    assert listing["total"] == 2
    assert [s["name"] for s in listing["items"]] == ["A", "B"]
    page = (await admin.get("/api/servers", params={"limit": 1, "offset": 1})).json()["data"]
    assert [s["name"] for s in page["items"]] == ["B"]
    got = (await admin.get(f"/api/servers/{a['id']}")).json()["data"]
    assert got == a
    assert (await admin.delete(f"/api/servers/{a['id']}")).status_code == 200
    gone = await admin.get(f"/api/servers/{a['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"success": False, "error": "Server not found"}
    assert (await admin.get("/api/servers")).json()["data"]["total"] == 1


async def test_status_transitions_and_conflicts(admin: httpx.AsyncClient) -> None:
    sid = (await create(admin))["id"]
    stop_stopped = await admin.post(f"/api/servers/{sid}/stop")
    assert stop_stopped.status_code == 409
    assert stop_stopped.json()["error"] == (
        f"Cannot stop server {sid}: it is stopped, but needs to be running"
    )
    started = await admin.post(f"/api/servers/{sid}/start")
    assert started.status_code == 200
    assert started.json()["data"]["status"] == "running"
    again = await admin.post(f"/api/servers/{sid}/start")
    assert again.status_code == 409
    assert "it is running, but needs to be stopped" in again.json()["error"]
    delete_running = await admin.delete(f"/api/servers/{sid}")
    assert delete_running.status_code == 409
    assert "Cannot delete" in delete_running.json()["error"]
    # A refusal changed nothing.
    assert (await admin.get(f"/api/servers/{sid}")).json()["data"]["status"] == "running"
    stopped = await admin.post(f"/api/servers/{sid}/stop")
    assert stopped.json()["data"]["status"] == "stopped"
    assert (await admin.delete(f"/api/servers/{sid}")).status_code == 200


async def test_unknown_server_is_404_for_every_operation(admin: httpx.AsyncClient) -> None:
    for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/start"), ("POST", "/stop")]:
        r = await admin.request(method, f"/api/servers/999{suffix}")
        assert r.status_code == 404, (method, suffix)
        assert r.json()["error"] == "Server not found"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"game": "minecraft"}, "body.name: Field required"),
        ({"name": "", "game": "x"}, "body.name"),
        ({"name": "x" * 101, "game": "x"}, "body.name"),
        ({"name": "x", "game": "x", "owner": 3}, "body.owner"),
        ({"name": 5, "game": "x"}, "body.name"),
    ],
)
async def test_create_validation_is_400(
    admin: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    r = await admin.post("/api/servers", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["error"]


async def test_bad_path_and_query_params_are_400(admin: httpx.AsyncClient) -> None:
    r = await admin.get("/api/servers/abc")
    assert r.status_code == 400
    assert "path.server_id" in r.json()["error"]
    q = await admin.get("/api/servers", params={"limit": 0})
    assert q.status_code == 400
    assert "query.limit" in q.json()["error"]


async def test_server_operations_emit_core_events(admin: httpx.AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, object]] = []

    async def record(name: str, data: dict[str, object]) -> None:
        seen.append((name, data["server"]["status"]))  # type: ignore[index]

    app.state.services.emit = record
    sid = (await create(admin))["id"]
    await admin.post(f"/api/servers/{sid}/start")
    await admin.post(f"/api/servers/{sid}/stop")
    await admin.delete(f"/api/servers/{sid}")
    assert seen == [
        ("server:created", "stopped"),
        ("server:started", "running"),
        ("server:stopped", "stopped"),
        ("server:deleted", "stopped"),
    ]
