"""Item 10 figures: config changes lost by concurrent saves, before and after the fix.

For each backend (SQLite, and PostgreSQL when ``CATALYST_TEST_POSTGRES_URL`` answers), run
``ROUNDS`` rounds of 20 concurrent admin saves of 20 different keys, and the same through
``ctx.set_config`` from 20 concurrent plugin requests; count the keys whose saved value the
database lost, and those the host's in-memory copy holds stale.

    uv run python bench/config_race.py                       # this tree only
    uv run python bench/config_race.py --before-commit 7d5dfcc  # also the code before the fix
    uv run python bench/config_race.py --before /path/src    # also another tree's src folder

The baseline runs the same measurement in a subprocess with its ``src`` first on PYTHONPATH
(``--before-commit`` extracts ``src`` of that commit with ``git archive`` into a temp folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

KEYS = [f"k{i}" for i in range(20)]
ROUNDS = 20
CODE = """
def on_load(ctx):
    @ctx.post("/set")
    async def set_it(request):
        body = await request.json()
        await ctx.set_config(body["key"], body["value"])
        return {"ok": True}
"""
PG_URL = os.environ.get(
    "CATALYST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def _pg_admin(sql: str) -> bool:
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(PG_URL).set(drivername="postgresql")
    try:
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False), timeout=3)
    except Exception:  # noqa: BLE001 - no PostgreSQL: SQLite only
        return False
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
    return True


async def _measure(url: str, tmp: Path) -> dict[str, int]:
    import httpx
    from sqlalchemy import select

    from catalyst.app import create_app
    from catalyst.auth.bootstrap import ensure_admin
    from catalyst.db import migrate
    from catalyst.db.engine import create_engine
    from catalyst.db.models import Plugin
    from catalyst.settings import Settings

    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    plugins = tmp / "plugins"
    folder = plugins / "race"
    (folder / "backend").mkdir(parents=True)
    manifest = {
        "name": "race",
        "version": "1.0.0",
        "displayName": "Race",
        "description": "config race",
        "author": "bench",
        "catalystVersion": ">=1.0.0",
        "permissions": [],
        "backend": {"entry": "backend/plugin.py"},
        "config": {k: {"type": "integer", "default": -1, "description": k} for k in KEYS},
    }
    (folder / "plugin.json").write_text(json.dumps(manifest))
    (folder / "backend" / "plugin.py").write_text(textwrap.dedent(CODE))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        data_dir=tmp / "data",
        plugins_dir=plugins,
        secret_key="bench",
        log_format="json",
        log_level="error",
        plugin_auto_enable=["race"],
    )
    app = create_app(settings)
    counts = {"lost_http": 0, "stale_http": 0, "lost_ctx": 0, "stale_ctx": 0, "saves": 0}
    async with app.router.lifespan_context(app):
        services = app.state.services
        await ensure_admin(services.db, "admin", "bench-password")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
            r = await c.post(
                "/api/auth/login", json={"username": "admin", "password": "bench-password"}
            )
            c.headers["Authorization"] = f"Bearer {r.json()['data']['token']}"
            for way in ("http", "ctx"):
                for n in range(ROUNDS):
                    value = n + (1000 if way == "ctx" else 0)
                    if way == "http":
                        calls = [
                            c.put("/api/plugins/race/config", json={"config": {k: value}})
                            for k in KEYS
                        ]
                    else:
                        calls = [
                            c.post("/api/plugins/race/set", json={"key": k, "value": value})
                            for k in KEYS
                        ]
                    await asyncio.gather(*calls)
                    counts["saves"] += len(KEYS)
                    async with services.db() as db:
                        row: dict[str, Any] = await db.scalar(
                            select(Plugin.config).where(Plugin.name == "race")
                        )
                    cache = services.plugins.config.effective("race")
                    counts[f"lost_{way}"] += sum(row.get(k) != value for k in KEYS)
                    counts[f"stale_{way}"] += sum(
                        cache.get(k) != row.get(k) for k in KEYS if row.get(k) == value
                    )
    return counts


async def measure_all() -> dict[str, dict[str, int]]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = await _measure(f"sqlite+aiosqlite:///{tmp}/race.db", Path(tmp) / "sqlite")
        from sqlalchemy.engine import make_url

        name = f"catalyst_bench_{uuid.uuid4().hex[:10]}"
        if await _pg_admin(f'CREATE DATABASE "{name}"'):
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            try:
                out["postgresql"] = await _measure(url, Path(tmp) / "pg")
            finally:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


def _run(src: Path | None) -> dict[str, dict[str, int]]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    proc = subprocess.run(
        [sys.executable, __file__, "--json"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a baseline tree's src folder")
    parser.add_argument("--before-commit", help="a baseline commit of this repository")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(asyncio.run(measure_all())))
        return
    runs = {"after": _run(None)}
    if args.before_commit:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(__file__).resolve().parent.parent
            archive = subprocess.run(
                ["git", "archive", args.before_commit, "src"],
                cwd=root,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            runs = {"before": _run(Path(tmp) / "src"), **runs}
    elif args.before:
        runs = {"before": _run(args.before), **runs}
    print(f"{ROUNDS} rounds x {len(KEYS)} concurrent saves of different keys, per way")
    print(
        f"{'run':<7}{'backend':<12}{'lost http':>10}{'stale http':>11}{'lost ctx':>9}"
        f"{'stale ctx':>10}{'saves':>7}"
    )
    for run, result in runs.items():
        for backend, c in result.items():
            print(
                f"{run:<7}{backend:<12}{c['lost_http']:>10}{c['stale_http']:>11}"
                f"{c['lost_ctx']:>9}{c['stale_ctx']:>10}{c['saves']:>7}"
            )


if __name__ == "__main__":
    main()
