"""Item 9 figures: how long requests take to fail while PostgreSQL hangs or refuses.

The app (default timeouts) reaches PostgreSQL through a TCP proxy that stops forwarding (a
network hang) or closes (a database that is down). For each, print the seconds and status of an
authenticated API call (session already verified), one whose session is looked up during the
outage, ``/api/health``, ``/readyz`` and ``/livez``. Each call is abandoned after 20 s. (Before
the fix ``/readyz`` and ``/livez`` did not exist: the admin UI's catch-all answered them 200.)

    uv run python bench/db_outage.py                          # this tree
    uv run python bench/db_outage.py --before-commit 7d5dfcc  # also the code before the fix
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "CATALYST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
GIVE_UP = 20.0


async def _admin(sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _timed(client: Any, path: str) -> str:
    started = time.monotonic()
    try:
        async with asyncio.timeout(GIVE_UP):
            r = await client.get(path)
    except TimeoutError:
        return f">{GIVE_UP:.0f} s (no answer)"
    except Exception as exc:  # noqa: BLE001 - what the client saw
        return f"{time.monotonic() - started:.2f} s {type(exc).__name__}"
    return f"{time.monotonic() - started:.2f} s {r.status_code}"


async def _measure(mode: str) -> dict[str, str]:
    import httpx
    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(ROOT))
    from catalyst.app import create_app
    from catalyst.auth.bootstrap import ensure_admin
    from catalyst.db import migrate
    from catalyst.db.engine import create_engine
    from catalyst.settings import Settings
    from tests.db.tcp_proxy import TcpProxy

    name = f"catalyst_bench_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    results: dict[str, str] = {}
    try:
        engine = create_engine(url.render_as_string(hide_password=False))
        await migrate.upgrade(engine)
        await engine.dispose()
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=proxied,
                data_dir=Path(tmp),
                plugins_dir=Path(tmp),
                secret_key="bench",
                log_format="json",
                log_level="critical",
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                await ensure_admin(app.state.services.db, "admin", "bench-password")
                transport = httpx.ASGITransport(app=app)
                clients = []
                for _ in range(2):
                    c = httpx.AsyncClient(transport=transport, base_url="http://b")
                    r = await c.post(
                        "/api/auth/login", json={"username": "admin", "password": "bench-password"}
                    )
                    c.headers["Authorization"] = f"Bearer {r.json()['data']['token']}"
                    clients.append(c)
                used, fresh = clients
                await used.get("/api/servers")
                if mode == "hang":
                    proxy.hang()
                else:
                    await proxy.refuse()
                results["GET /api/servers"] = await _timed(used, "/api/servers")
                results["GET /api/servers (new session)"] = await _timed(fresh, "/api/servers")
                results["GET /api/health"] = await _timed(used, "/api/health")
                results["GET /readyz"] = await _timed(used, "/readyz")
                results["GET /livez"] = await _timed(used, "/livez")
                await proxy.stop()  # let shutdown finish promptly
                for c in clients:
                    await c.aclose()
    finally:
        await proxy.stop()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def _run(src: Path | None, mode: str) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    proc = subprocess.run(
        [sys.executable, __file__, "--json", mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before-commit", help="a baseline commit of this repository")
    parser.add_argument("--json", choices=["hang", "refuse"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(asyncio.run(_measure(args.json))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        trees: dict[str, Path | None] = {}
        if args.before_commit:
            archive = subprocess.run(
                ["git", "archive", args.before_commit, "src"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            trees["before"] = Path(tmp) / "src"
        trees["after"] = None
        for mode in ("hang", "refuse"):
            print(f"PostgreSQL {mode}s:")
            for run, src in trees.items():
                for call, figure in _run(src, mode).items():
                    print(f"  {run:<7}{call:<34}{figure}")


if __name__ == "__main__":
    main()
