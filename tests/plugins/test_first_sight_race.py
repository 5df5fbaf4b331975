"""Two hosts on one database finding a new plugin at the same moment (the workers of
``catalyst serve --workers N`` on a fresh database, or instances watching one shared plugin
folder): both create its row at once, one insert loses, and that host reads the winner's row
instead of putting the plugin in error."""

from __future__ import annotations

import asyncio
import shutil

from sqlalchemy import func, select

from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import AuditLog
from catalyst.plugins.state import PluginState
from catalyst.settings import Settings
from tests.conftest import HarnessFactory
from tests.plugin_helpers import EXAMPLE, manager_of, state_of


async def test_hosts_starting_together_both_enable_a_plugin_seen_for_the_first_time(
    settings: Settings, harness_factory: HarnessFactory
) -> None:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    hosts = await asyncio.gather(
        harness_factory(plugin_auto_enable=["example-plugin"]),
        harness_factory(plugin_auto_enable=["example-plugin"]),
    )
    for host in hosts:
        record = manager_of(host.app).records["example-plugin"]
        assert state_of(record) is PluginState.ENABLED, record.error
        assert record.granted == {"http.public", "server.read"}
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as db:
            grants = await db.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "plugin.permissions.grant")
            )
    finally:
        await engine.dispose()
    assert grants == 1  # the operator's consent is recorded once, by the host that created it
