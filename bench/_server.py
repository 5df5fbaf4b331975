"""A Catalyst server for benchmarks: the real app plus one bare host route to compare against.

Run as ``python bench/_server.py PORT PLUGINS_DIR DATA_DIR``; prints ``ready`` when serving.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn

from catalyst.app import create_app
from catalyst.auth.bootstrap import ensure_admin
from catalyst.auth.deps import CurrentPrincipal
from catalyst.db import migrate
from catalyst.db.engine import create_engine, session_factory
from catalyst.settings import Settings


async def prepare(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    await ensure_admin(session_factory(engine), "admin", "bench-password")
    await engine.dispose()


def main() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    port, plugins, data = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{data / 'bench.db'}",
        data_dir=data,
        plugins_dir=plugins,
        plugin_auto_enable=json.loads(os.environ.get("BENCH_AUTO_ENABLE", '["example-plugin"]')),
        log_format="json",
        log_level="warning",
    )
    asyncio.run(prepare(settings))
    app = create_app(settings)
    count = 0

    @app.get("/api/bench/hello")
    async def bare_hello(_: CurrentPrincipal) -> dict[str, Any]:
        nonlocal count
        count += 1
        return {"success": True, "message": "Hello from the example plugin!", "requestCount": count}

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    print("ready", flush=True)
    server.run()


if __name__ == "__main__":
    main()
