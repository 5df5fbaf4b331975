import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ADMIN_PASSWORD, ClientFactory, harness_of


@pytest.fixture
async def with_admin(app: FastAPI) -> None:
    await harness_of(app).create_admin()  # "admin" / ADMIN_PASSWORD


@pytest.mark.usefixtures("with_admin")
async def test_login_returns_token_user_and_session_cookie(anon: httpx.AsyncClient) -> None:
    r = await anon.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    assert body["data"]["token"]
    assert body["data"]["user"]["username"] == "admin"
    assert body["data"]["user"]["permissions"] == ["*"]
    assert "password" not in str(body["data"]["user"]).lower()
    cookie = r.headers["set-cookie"].lower()
    assert "catalyst_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


@pytest.mark.usefixtures("with_admin")
async def test_cookie_and_bearer_both_authenticate(anon: httpx.AsyncClient) -> None:
    r = await anon.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    token = r.json()["data"]["token"]
    # The client kept the cookie.
    me = await anon.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["data"]["username"] == "admin"
    anon.cookies.clear()
    assert (await anon.get("/api/auth/me")).status_code == 401
    bearer = await anon.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200


@pytest.mark.usefixtures("with_admin")
async def test_wrong_password_and_unknown_user_are_401(anon: httpx.AsyncClient) -> None:
    for username, password in [("admin", "nope"), ("ghost", "nope")]:
        r = await anon.post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 401
        assert r.json() == {"success": False, "error": "Invalid username or password"}


async def test_me_without_login_is_401_json(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/api/auth/me")
    assert r.status_code == 401
    assert r.json()["success"] is False
    assert "Not authenticated" in r.json()["error"]
    bad = await anon.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


@pytest.mark.usefixtures("with_admin")
async def test_logout_revokes_the_token(anon: httpx.AsyncClient) -> None:
    r = await anon.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    token = r.json()["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await anon.get("/api/auth/me", headers=headers)).status_code == 200
    out = await anon.post("/api/auth/logout", headers=headers)
    assert out.status_code == 200
    assert "catalyst_session=" in out.headers["set-cookie"]
    anon.cookies.clear()
    assert (await anon.get("/api/auth/me", headers=headers)).status_code == 401


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "body.username: Field required"),
        ({"username": "admin"}, "body.password: Field required"),
        ({"username": "", "password": "x"}, "body.username"),
        ({"username": "a", "password": "x", "extra": 1}, "body.extra"),
    ],
)
async def test_login_validation_errors_are_400_with_paths(
    anon: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    r = await anon.post("/api/auth/login", json=body)
    assert r.status_code == 400
    assert r.json()["success"] is False
    assert fragment in r.json()["error"]


async def test_login_with_malformed_json_is_400(anon: httpx.AsyncClient) -> None:
    r = await anon.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["success"] is False


@pytest.mark.usefixtures("with_admin")
async def test_failed_logins_are_rate_limited_per_username(
    app: FastAPI, anon: httpx.AsyncClient
) -> None:
    limit = app.state.services.settings.login_max_attempts
    for _ in range(limit):
        r = await anon.post("/api/auth/login", json={"username": "admin", "password": "bad"})
        assert r.status_code == 401
    blocked = await anon.post("/api/auth/login", json={"username": "admin", "password": "bad"})
    assert blocked.status_code == 429
    assert blocked.json()["success"] is False
    assert "Too many failed logins" in blocked.json()["error"]
    assert int(blocked.headers["Retry-After"]) >= 1
    # Even the right password is refused while blocked.
    right = await anon.post(
        "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert right.status_code == 429
    # Another username from the same client is not blocked.
    other = await anon.post("/api/auth/login", json={"username": "someone", "password": "bad"})
    assert other.status_code == 401


async def test_rate_limit_window_expires_and_success_resets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from catalyst.auth.ratelimit import LoginRateLimiter
    from catalyst.errors import TooManyRequests

    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])  # the limits library reads the wall clock
    limiter = LoginRateLimiter(2, 100, 60.0)
    await limiter.failed("Admin", "1.2.3.4")
    await limiter.failed("admin", "1.2.3.4")
    with pytest.raises(TooManyRequests):
        await limiter.check("admin", "1.2.3.4")
    with pytest.raises(TooManyRequests):
        await limiter.check("admin", "5.6.7.8")  # the username is limited from any address
    now[0] += 61.0
    await limiter.check("admin", "1.2.3.4")  # window passed
    await limiter.failed("admin", "1.2.3.4")
    await limiter.succeeded("admin", "1.2.3.4")
    await limiter.failed("admin", "1.2.3.4")
    await limiter.check("admin", "1.2.3.4")  # success cleared the earlier failure


async def test_user_with_permissions_sees_them(client_for: ClientFactory) -> None:
    client = await client_for(permissions=["server.read"])
    me = await client.get("/api/auth/me")
    assert me.json()["data"]["permissions"] == ["server.read"]
