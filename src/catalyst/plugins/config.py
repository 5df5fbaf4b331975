"""Plugin config values: validated against the manifest schema, kept in the database.

Values live in the ``plugins.config`` column, apart from the schema, so they survive reloads,
restarts and plugin updates. The effective config (defaults overlaid with saved values) is cached
per plugin and rebuilt when values or the schema change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.db.models import Plugin
from catalyst.errors import BadRequest, NotFound
from catalyst.http.bounded import join_bounded, shorten
from catalyst.plugins.config_schema import ConfigField, effective_config, validate_changes
from catalyst.sdk.errors import ConfigError

Schema = Mapping[str, ConfigField]
OnChange = Callable[[str, dict[str, Any]], Awaitable[None]]


class ConfigValidationError(BadRequest, ConfigError):
    """Some values were refused; ``errors`` maps each key to why. Nothing was saved."""

    def __init__(self, plugin: str, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        detail = join_bounded(
            (f"{shorten(k, 60)}: {shorten(v, 120)}" for k, v in errors.items()), most=8
        )
        BadRequest.__init__(self, f"Invalid config for plugin {plugin!r}: {detail}")


class ConfigStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        schema_of: Callable[[str], Schema | None],
    ) -> None:
        self._sessions = sessions
        self._schema_of = schema_of
        self._saved: dict[str, dict[str, Any]] = {}
        self._effective: dict[str, dict[str, Any]] = {}
        #: Called after values changed, with only the keys that changed.
        self.on_change: OnChange | None = None

    def remember(self, plugin: str, saved: Mapping[str, Any]) -> None:
        """Take the saved values read from the database (at discovery or rescan)."""
        self._saved[plugin] = dict(saved)
        self._effective.pop(plugin, None)

    def forget(self, plugin: str) -> None:
        self._saved.pop(plugin, None)
        self._effective.pop(plugin, None)

    def schema_changed(self, plugin: str) -> None:
        self._effective.pop(plugin, None)

    def saved(self, plugin: str) -> dict[str, Any]:
        return dict(self._saved.get(plugin, {}))

    def effective(self, plugin: str) -> dict[str, Any]:
        cached = self._effective.get(plugin)
        if cached is None:
            schema = self._schema_of(plugin) or {}
            cached = effective_config(schema, self._saved.get(plugin, {}))
            self._effective[plugin] = cached
        return dict(cached)

    async def update(self, plugin: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate all ``changes``; save them all or none. Returns the keys that changed."""
        schema = self._schema_of(plugin)
        if schema is None:
            raise NotFound("Plugin not found")
        accepted, errors = validate_changes(schema, changes)
        if errors:
            raise ConfigValidationError(plugin, errors)
        before = self.effective(plugin)
        async with self._sessions() as db, db.begin():
            row = await db.get(Plugin, plugin, with_for_update=True)
            if row is None:
                raise NotFound("Plugin not found")
            merged = {**(row.config or {}), **accepted}
            row.config = merged
        self.remember(plugin, merged)
        after = self.effective(plugin)
        changed = {k: after[k] for k in accepted if before.get(k) != after.get(k)}
        if changed and self.on_change is not None:
            await self.on_change(plugin, changed)
        return changed
