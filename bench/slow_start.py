"""Startup with plugins whose ``on_load`` hangs: how long until the host serves.

Measured in one run: the host with no slow plugin (baseline), then with 1 and with N plugins
whose ``on_load`` hangs past the hook timeout. Plugins start concurrently, so N slow plugins should
cost about one timeout, not N (before: N timeouts in sequence).

    uv run --frozen python bench/slow_start.py [N] [timeout_s]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from catalyst.app import create_app
from catalyst.db import migrate
from catalyst.db.engine import create_engine
from catalyst.settings import Settings

SLOW = "import asyncio\n\nasync def on_load(ctx):\n    await asyncio.sleep(3600)\n"
MANIFEST = (
    '{{"name": "{name}", "version": "1.0.0", "displayName": "Slow", "description": "Hangs",'
    ' "author": "Bench", "catalystVersion": ">=1.0.0",'
    ' "backend": {{"entry": "backend/plugin.py"}}}}'
)


async def startup_seconds(slow: int, timeout_s: float) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="catalyst-slow-start-"))
    plugins = tmp / "plugins"
    for i in range(slow):
        folder = plugins / f"slow-{i}"
        (folder / "backend").mkdir(parents=True)
        (folder / "plugin.json").write_text(MANIFEST.format(name=f"slow-{i}"))
        (folder / "backend" / "plugin.py").write_text(SLOW)
    plugins.mkdir(exist_ok=True)
    url = f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        data_dir=tmp / "data",
        plugins_dir=plugins,
        secret_key="bench",
        hot_reload=False,
        log_format="json",
        log_level="ERROR",
        plugin_hook_timeout=timeout_s,
    )
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    started = time.perf_counter()
    await lifespan.__aenter__()
    elapsed = time.perf_counter() - started
    await lifespan.__aexit__(None, None, None)
    return elapsed


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    timeout_s = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    base = await startup_seconds(0, timeout_s)
    one = await startup_seconds(1, timeout_s)
    many = await startup_seconds(n, timeout_s)
    print(f"hook timeout {timeout_s:g} s")
    print(f"no slow plugin:       {base:6.2f} s")
    print(f"1 slow plugin:        {one:6.2f} s  (+{one - base:.2f} s)")
    print(f"{n} slow plugins:       {many:6.2f} s  (+{many - base:.2f} s)")
    print(f"cost of {n} vs 1 slow plugin: x{(many - base) / max(one - base, 1e-9):.2f}")
    print(f"sequential start would add about {n * timeout_s:g} s")


if __name__ == "__main__":
    asyncio.run(main())
