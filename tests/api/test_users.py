"""Accounts and roles through ``/api/users`` and ``/api/roles``, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import ClientFactory, harness_of


async def create(admin: httpx.AsyncClient, username: str, role: str, **extra: Any) -> Any:
    r = await admin.post("/api/users", json={"username": username, "role": role, **extra})
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def client_as(app: FastAPI, username: str, password: str) -> httpx.AsyncClient:
    return await harness_of(app).login(username, password)


async def me_status(app: FastAPI, token: str) -> int:
    async with harness_of(app).new_client(token) as c:
        r = await c.get("/api/auth/me")
        return r.status_code


async def try_login(app: FastAPI, username: str, password: str) -> int:
    async with harness_of(app).new_client() as c:
        r = await c.post("/api/auth/login", json={"username": username, "password": password})
        return r.status_code


async def user_id(admin: httpx.AsyncClient, username: str) -> int:
    items = (await admin.get("/api/users")).json()["data"]["items"]
    return next(u["id"] for u in items if u["username"] == username)  # type: ignore[no-any-return]


async def test_create_with_a_builtin_role_generates_a_password_once_and_lists_no_hash(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    data = await create(admin, "alice", "operator")
    password = data["password"]
    assert isinstance(password, str)
    assert len(password) >= 12
    assert data["user"]["roles"] == ["operator"]
    assert data["user"]["enabled"] is True
    assert "admin.read" in data["user"]["permissions"]
    assert "server.*" in data["user"]["permissions"]
    given = await create(admin, "bob", "viewer", password="bob-password-1")
    assert given["password"] is None  # nothing generated, nothing echoed

    listing = await admin.get("/api/users")
    assert listing.status_code == 200
    text = listing.text
    assert "argon2" not in text
    assert "hash" not in text.lower()
    assert password not in text
    names = {u["username"]: u for u in listing.json()["data"]["items"]}
    assert names["alice"]["roles"] == ["operator"]
    assert names["admin"]["admin"] is True
    assert listing.json()["data"]["total"] == 3
    one = await admin.get(f"/api/users/{names['alice']['id']}")
    assert one.json()["data"]["username"] == "alice"
    assert (await admin.get("/api/users/999999")).status_code == 404
    assert (await admin.get("/api/users/3000000000")).status_code == 404  # > PostgreSQL int4
    assert (await admin.post("/api/users/3000000000/disable")).status_code == 404
    assert (await admin.get(f"/api/users/{2**63}")).status_code == 400

    alice = await client_as(app, "alice", password)
    assert (await alice.post("/api/servers", json={"name": "s", "game": "g"})).status_code == 201
    assert (await alice.get("/api/plugins")).status_code == 200
    assert (await alice.get("/api/users")).status_code == 403
    bob = await client_as(app, "bob", "bob-password-1")
    assert (await bob.post("/api/servers", json={"name": "s", "game": "g"})).status_code == 403
    await alice.aclose()
    await bob.aclose()


async def test_bad_requests_are_400_or_409_with_the_envelope(admin: httpx.AsyncClient) -> None:
    await create(admin, "carol", "viewer")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"username": "carol", "role": "viewer"}, 409, "already exists"),
        ({"username": "dave", "role": "no-such-role"}, 400, "Unknown role"),
        ({"username": "dave", "role": "viewer", "admin": True}, 400, "Extra inputs"),
        ({"username": "x" * 65, "role": "viewer"}, 400, "at most 64"),
        ({"username": "bad name!", "role": "viewer"}, 400, "Invalid username"),
        ({"username": "dave", "role": "viewer", "password": "short"}, 400, "at least 8"),
    ]
    for body, status, message in cases:
        r = await admin.post("/api/users", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["success"] is False
        assert message in r.json()["error"], r.text
    r = await admin.put("/api/users/999999/role", json={"role": "viewer", "x": 1})
    assert r.status_code == 400


async def test_custom_roles_are_checked_against_the_catalog(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    bad = await admin.post("/api/roles", json={"name": "ops", "permissions": ["nope.read"]})
    assert bad.status_code == 400
    assert "nope.read" in bad.json()["error"]
    for grants in (["zzz.*"], ["http.public"], ["http.*"], ["server"], [""]):
        bad = await admin.post("/api/roles", json={"name": "ops", "permissions": grants})
        assert bad.status_code == 400, grants
    r = await admin.post(
        "/api/roles",
        json={"name": "support", "description": "Help desk", "permissions": ["user.read"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"] == {
        "name": "support",
        "description": "Help desk",
        "permissions": ["user.read"],
        "builtin": False,
    }
    assert (
        await admin.post("/api/roles", json={"name": "support", "permissions": []})
    ).status_code == 409
    password = (await create(admin, "sam", "support"))["password"]
    sam = await client_as(app, "sam", password)
    assert (await sam.get("/api/users")).status_code == 200
    assert (await sam.get("/api/servers")).status_code == 403
    # A role change takes effect on the next request, though sessions are cached.
    r = await admin.patch("/api/roles/support", json={"permissions": ["user.read", "server.*"]})
    assert r.status_code == 200, r.text
    assert (await sam.get("/api/servers")).status_code == 200
    assert (
        await sam.post("/api/users", json={"username": "z", "role": "viewer"})
    ).status_code == 403

    roles = (await admin.get("/api/roles")).json()["data"]
    by_name = {x["name"]: x for x in roles["items"]}
    assert [x["name"] for x in roles["items"][:3]] == ["admin", "operator", "viewer"]
    assert by_name["admin"]["builtin"] is True
    assert by_name["admin"]["permissions"] == ["*"]
    assert by_name["support"]["users"] == 1
    assert "user.write" in roles["catalog"]
    assert "http.public" not in roles["catalog"]  # a plugin's permission, not a person's
    builtin = await admin.patch("/api/roles/admin", json={"permissions": ["server.read"]})
    assert builtin.status_code == 400
    assert "built-in" in builtin.json()["error"]
    assert (await admin.patch("/api/roles/missing", json={"description": "x"})).status_code == 404
    assert (await admin.patch("/api/roles/support", json={})).status_code == 400
    await sam.aclose()


async def test_disabling_ends_existing_sessions_at_once(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    password = (await create(admin, "erin", "viewer"))["password"]
    erin = await client_as(app, "erin", password)
    token = erin.headers["Authorization"].removeprefix("Bearer ")
    assert await me_status(app, token) == 200  # now cached by the session store
    uid = await user_id(admin, "erin")
    r = await admin.post(f"/api/users/{uid}/disable")
    assert r.status_code == 200
    assert r.json()["data"]["enabled"] is False
    assert await me_status(app, token) == 401
    assert (await erin.get("/api/servers")).status_code == 401
    assert await try_login(app, "erin", password) == 401
    assert (await admin.post(f"/api/users/{uid}/enable")).status_code == 200
    assert await try_login(app, "erin", password) == 200
    assert await me_status(app, token) == 401  # the old session stays ended
    await erin.aclose()


async def test_a_role_change_applies_to_cached_sessions_at_once(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    password = (await create(admin, "fay", "viewer"))["password"]
    fay = await client_as(app, "fay", password)
    assert (await fay.post("/api/servers", json={"name": "s", "game": "g"})).status_code == 403
    uid = await user_id(admin, "fay")
    r = await admin.put(f"/api/users/{uid}/role", json={"role": "operator"})
    assert r.status_code == 200
    assert r.json()["data"]["roles"] == ["operator"]
    assert (await fay.post("/api/servers", json={"name": "s", "game": "g"})).status_code == 201
    await admin.put(f"/api/users/{uid}/role", json={"role": "viewer"})
    assert (await fay.post("/api/servers", json={"name": "t", "game": "g"})).status_code == 403
    await fay.aclose()


async def test_reset_password_revokes_sessions(app: FastAPI, admin: httpx.AsyncClient) -> None:
    old = (await create(admin, "gus", "viewer"))["password"]
    gus = await client_as(app, "gus", old)
    token = gus.headers["Authorization"].removeprefix("Bearer ")
    assert await me_status(app, token) == 200
    uid = await user_id(admin, "gus")
    r = await admin.post(f"/api/users/{uid}/password")
    assert r.status_code == 200, r.text
    new = r.json()["data"]["password"]
    assert new
    assert new != old
    assert await me_status(app, token) == 401
    assert await try_login(app, "gus", old) == 401
    assert await try_login(app, "gus", new) == 200
    r = await admin.post(f"/api/users/{uid}/password", json={"password": "chosen-password"})
    assert r.status_code == 200
    assert r.json()["data"]["password"] is None
    assert await try_login(app, "gus", "chosen-password") == 200
    short = await admin.post(f"/api/users/{uid}/password", json={"password": "x"})
    assert short.status_code == 400
    await gus.aclose()


async def test_the_last_enabled_admin_cannot_be_disabled_or_demoted(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    me = await user_id(admin, "admin")
    r = await admin.post(f"/api/users/{me}/disable")
    assert r.status_code == 409
    assert "no enabled admin" in r.json()["error"]
    r = await admin.put(f"/api/users/{me}/role", json={"role": "operator"})
    assert r.status_code == 409
    assert (await admin.get("/api/auth/me")).json()["data"]["roles"] == ["admin"]
    # A custom role that grants everything counts as admin; taking "*" from it is guarded too.
    await admin.post("/api/roles", json={"name": "root", "permissions": ["*"]})
    assert (await admin.put(f"/api/users/{me}/role", json={"role": "root"})).status_code == 200
    r = await admin.patch("/api/roles/root", json={"permissions": ["server.*"]})
    assert r.status_code == 409
    # With a second admin, stepping down is allowed.
    await create(admin, "hal", "admin")
    assert (await admin.put(f"/api/users/{me}/role", json={"role": "viewer"})).status_code == 200
    assert (await admin.get("/api/users")).status_code == 403  # at once
    assert await try_login(app, "admin", "admin-password-for-tests") == 200


async def test_admins_disabling_each_other_at_once_leave_one(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    from catalyst.domain.roles import Actor
    from catalyst.domain.users import UserService
    from catalyst.errors import Conflict

    for i in range(5):
        await create(admin, f"boss{i}", "admin")
    svc = UserService(app.state.services.db, app.state.services.sessions)
    names = ["admin"] + [f"boss{i}" for i in range(5)]
    results = await asyncio.gather(
        *(svc.set_enabled(Actor(actor), target, False) for actor in names for target in names),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Conflict)]
    assert refused
    assert all(not isinstance(r, Exception) or r in refused for r in results), results
    rows, _ = await svc.list_users()
    assert sum(1 for u in rows if u.is_active and "*" in u.permissions) == 1


async def test_user_read_may_list_and_user_write_may_change(
    client_for: ClientFactory, admin: httpx.AsyncClient
) -> None:
    reader = await client_for(permissions=["user.read"])
    assert (await reader.get("/api/users")).status_code == 200
    assert (await reader.get("/api/roles")).status_code == 200
    assert (
        await reader.post("/api/users", json={"username": "j", "role": "viewer"})
    ).status_code == 403
    assert (
        await reader.post("/api/roles", json={"name": "r", "permissions": []})
    ).status_code == 403
    nobody = await client_for(permissions=["server.read"])
    assert (await nobody.get("/api/users")).status_code == 403
    anon = await client_for()
    assert (await anon.get("/api/users")).status_code == 401
    writer = await client_for(permissions=["user.*", "server.read", "admin.read"])
    r = await writer.post("/api/users", json={"username": "kim", "role": "viewer"})
    assert r.status_code == 201


async def test_nobody_hands_out_more_than_they_hold(
    client_for: ClientFactory, admin: httpx.AsyncClient
) -> None:
    """``user.write`` without ``*`` must not be a way to become, or take over, an admin."""
    writer = await client_for(permissions=["user.*", "server.read", "admin.read"])
    me = (await writer.get("/api/auth/me")).json()["data"]
    admin_id = await user_id(admin, "admin")
    refused = [
        await writer.post("/api/users", json={"username": "evil", "role": "admin"}),
        await writer.post("/api/users", json={"username": "evil", "role": "operator"}),
        await writer.put(f"/api/users/{me['id']}/role", json={"role": "admin"}),
        await writer.post(f"/api/users/{admin_id}/password"),
        await writer.post(f"/api/users/{admin_id}/disable"),
        await writer.put(f"/api/users/{admin_id}/role", json={"role": "viewer"}),
        await writer.post("/api/roles", json={"name": "mine", "permissions": ["*"]}),
        await writer.patch(f"/api/roles/{me['roles'][0]}", json={"permissions": ["*"]}),
    ]
    for r in refused:
        assert r.status_code == 403, r.text
        assert "you do not hold" in r.json()["error"]
    # Within what it holds, it may act.
    ok = await writer.post("/api/roles", json={"name": "readers", "permissions": ["server.read"]})
    assert ok.status_code == 201
    assert (
        await writer.post("/api/users", json={"username": "rita", "role": "readers"})
    ).status_code == 201
    assert (await admin.get("/api/users/" + str(admin_id))).json()["data"]["enabled"] is True


async def test_nul_and_odd_names_are_400_or_404_not_500(admin: httpx.AsyncClient) -> None:
    me = await user_id(admin, "admin")
    cases = [
        ("post", "/api/users", {"username": "a\x00b", "role": "viewer"}, 400),
        ("post", "/api/users", {"username": "ab", "role": "vie\x00wer"}, 400),
        ("put", f"/api/users/{me}/role", {"role": "x\x00"}, 400),
        ("post", "/api/roles", {"name": "n", "description": "a\x00", "permissions": []}, 400),
        ("post", "/api/roles", {"name": "n\x00", "permissions": []}, 400),
        ("patch", "/api/roles/a%00b", {"description": "x"}, 404),  # NUL in a path: 404
    ]
    for method, url, body, status in cases:
        r = await admin.request(method.upper(), url, json=body)
        assert r.status_code == status, (url, body, r.text)
        assert r.json()["success"] is False


async def test_every_change_is_audited_with_its_actor_and_no_password(
    admin: httpx.AsyncClient,
) -> None:
    created = await create(admin, "lee", "viewer", password="lee-password-1")
    uid = created["user"]["id"]
    await admin.post("/api/roles", json={"name": "helpers", "permissions": ["server.read"]})
    await admin.patch("/api/roles/helpers", json={"description": "Helpers"})
    await admin.put(f"/api/users/{uid}/role", json={"role": "helpers"})
    await admin.post(f"/api/users/{uid}/disable")
    await admin.post(f"/api/users/{uid}/enable")
    await admin.post(f"/api/users/{uid}/password", json={"password": "secret-new-password"})
    r = await admin.get("/api/audit", params={"actor": "admin", "limit": 200})
    entries = r.json()["data"]["items"]
    actions = [(e["action"], e["target"]) for e in reversed(entries)]
    assert actions == [
        ("user.create", "lee"),
        ("role.create", "helpers"),
        ("role.update", "helpers"),
        ("user.role", "lee"),
        ("user.disable", "lee"),
        ("user.enable", "lee"),
        ("user.password_reset", "lee"),
    ]
    assert "secret-new-password" not in r.text
    assert "lee-password-1" not in r.text
    role_change = next(e for e in entries if e["action"] == "user.role")
    assert role_change["details"] == {"role": "helpers", "previous": ["viewer"]}


async def test_a_verification_racing_an_account_change_is_not_cached(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    """A token verified from a read made before a change commits must not stay cached."""
    password = (await create(admin, "mo", "viewer"))["password"]
    mo = await client_as(app, "mo", password)
    token = mo.headers["Authorization"].removeprefix("Bearer ")
    uid = await user_id(admin, "mo")
    store = app.state.services.sessions
    store.forget_user(uid)
    original = store._sessions

    def racing() -> Any:
        store.forget_user(uid)  # the change commits while this verification reads
        return original()

    store._sessions = racing
    try:
        assert await store.verify(token) is not None
    finally:
        store._sessions = original
    assert all(p.user_id != uid for _, p in store._cache.values())
    assert await store.verify(token) is not None
    assert any(p.user_id == uid for _, p in store._cache.values())
    await mo.aclose()
