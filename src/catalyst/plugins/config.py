"""Plugin config values: validated against the manifest schema, kept in the database.

Values live in the ``plugins.config`` column, apart from the schema, so they survive reloads,
restarts and plugin updates. The effective config (defaults overlaid with saved values) is cached
per plugin and rebuilt when values or the schema change.

Concurrent saves
    A save is a read-modify-write of the plugin's row inside one transaction that *starts by
    writing the row*: that takes PostgreSQL's row lock and SQLite's database write lock before
    anything is read, so concurrent saves (from this process or another instance on the same
    database) are serialised and none is lost. Within a process saves of one plugin also queue
    on an asyncio lock, so the cache is refreshed from each committed row in commit order and is
    never left stale.

Secrets at rest
    Values of secret fields (``secret: true``, or the ``secret``/``password`` types) are stored
    sealed by :class:`catalyst.crypto.SecretBox` and opened when read, so plugins and the admin
    API see plain values (masked as before). Clear values left by older versions, and values
    sealed with a previous key, are re-sealed by :meth:`ConfigStore.seal_stale` at start and by
    every save. A value no configured key opens is kept as it is, and :meth:`ConfigStore.problem`
    names it so the plugin is put in error instead of running without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst import audit
from catalyst.crypto import SecretBox, SecretKeyError, is_sealed
from catalyst.db.models import Plugin, fits_int64, utcnow
from catalyst.db.outage import guarded
from catalyst.errors import BadRequest, NotFound
from catalyst.http.bounded import join_bounded, shorten
from catalyst.log import get_logger
from catalyst.plugins.config_schema import ConfigField, effective_config, validate_changes
from catalyst.sdk.errors import ConfigError

Schema = Mapping[str, ConfigField]
OnChange = Callable[[str, dict[str, Any]], Awaitable[None]]

log = get_logger("plugins.config")

#: The audit actor of the re-encryption of clear or old-key secrets at start.
SEALER = "system:host"


class ConfigValidationError(BadRequest, ConfigError):
    """Some values were refused; ``errors`` maps each key to why. Nothing was saved."""

    def __init__(self, plugin: str, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        detail = join_bounded(
            (f"{shorten(k, 60)}: {shorten(v, 120)}" for k, v in errors.items()), most=8
        )
        BadRequest.__init__(self, f"Invalid config for plugin {plugin!r}: {detail}")


class _Opened:
    """A stored config opened: plain values, envelopes no key opens, and whether to re-seal."""

    def __init__(self) -> None:
        self.plain: dict[str, Any] = {}
        self.unreadable: dict[str, Any] = {}
        self.stale = False


class ConfigStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        schema_of: Callable[[str], Schema | None],
        box: SecretBox,
    ) -> None:
        self._raw_sessions = sessions
        self._sessions = guarded(sessions)  # an outage is a 503, not a plugin failure
        self._schema_of = schema_of
        self._box = box
        self._saved: dict[str, dict[str, Any]] = {}
        self._effective: dict[str, dict[str, Any]] = {}
        self._unreadable: dict[str, list[str]] = {}
        self._stale: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        #: Called after values changed, with only the keys that changed.
        self.on_change: OnChange | None = None

    def remember(self, plugin: str, stored: Mapping[str, Any]) -> None:
        """Take the values as stored in the database (at discovery or rescan)."""
        opened = self._open(plugin, stored)
        self._keep(plugin, opened.plain, list(opened.unreadable))
        if opened.stale:
            self._stale.add(plugin)

    def forget(self, plugin: str) -> None:
        self._saved.pop(plugin, None)
        self._effective.pop(plugin, None)
        self._unreadable.pop(plugin, None)
        self._stale.discard(plugin)

    def schema_changed(self, plugin: str) -> None:
        self._effective.pop(plugin, None)
        if any(self._is_secret(plugin, k) for k in self._saved.get(plugin, {})):
            self._stale.add(plugin)  # a field may have become secret: seal it on the next save

    def saved(self, plugin: str) -> dict[str, Any]:
        return dict(self._saved.get(plugin, {}))

    def problem(self, plugin: str) -> str | None:
        """Why ``plugin`` cannot get its config (secrets no key opens), or None."""
        keys = self._unreadable.get(plugin)
        if not keys:
            return None
        names = ", ".join(repr(k) for k in keys)
        return (
            f"Secret config value {names} of plugin {plugin!r} cannot be decrypted with the "
            "current secret key (CATALYST_SECRET_KEY changed? set CATALYST_SECRET_KEY_PREVIOUS "
            "to the old key and run `catalyst secrets rotate`, or save the value again)"
        )

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
        errors.update(
            (key, "must be an integer in the signed 64-bit range")
            for key, value in accepted.items()
            if isinstance(value, int) and not fits_int64(value)
        )
        if errors:
            raise ConfigValidationError(plugin, errors)
        async with self._lock(plugin):
            changed = await self._write(plugin, accepted)
        if changed and self.on_change is not None:
            await self.on_change(plugin, changed)
        return changed

    async def seal_stale(self) -> list[str]:
        """Re-save every plugin holding clear secrets or secrets sealed with an old key."""
        done = []
        for plugin in sorted(self._stale):
            async with self._lock(plugin):
                try:
                    await self._write(plugin, {})
                except NotFound:
                    continue
            done.append(plugin)
        if done:
            log.info("config_secrets_sealed", plugins=done)
            await audit.record(
                self._raw_sessions, SEALER, "secrets.seal", "plugins.config", plugins=done
            )
        return done

    # -- internals ---------------------------------------------------------------------------

    def _lock(self, plugin: str) -> asyncio.Lock:
        return self._locks.setdefault(plugin, asyncio.Lock())

    def _is_secret(self, plugin: str, key: str) -> bool:
        field = (self._schema_of(plugin) or {}).get(key)
        return field is not None and field.is_secret

    def _keep(self, plugin: str, plain: dict[str, Any], unreadable: list[str]) -> None:
        self._saved[plugin] = plain
        self._effective.pop(plugin, None)
        if unreadable:
            self._unreadable[plugin] = sorted(unreadable)
        else:
            self._unreadable.pop(plugin, None)

    def _open(self, plugin: str, stored: Mapping[str, Any]) -> _Opened:
        opened = _Opened()
        for key, value in (stored or {}).items():
            if is_sealed(value):
                try:
                    opened.plain[key] = self._box.open(value)
                except SecretKeyError:
                    opened.unreadable[key] = value
                    continue
                opened.stale |= not self._box.is_current(value)
            else:
                opened.plain[key] = value
                opened.stale |= value is not None and self._is_secret(plugin, key)
        return opened

    def _seal(
        self, plugin: str, plain: Mapping[str, Any], stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in plain.items():
            secret = self._is_secret(plugin, key) or is_sealed(stored.get(key))
            out[key] = self._box.seal(value) if secret and value is not None else value
        return out

    async def _write(self, plugin: str, accepted: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``accepted`` into the committed row under its write lock; refresh the cache."""
        schema = self._schema_of(plugin) or {}
        async with self._sessions() as db, db.begin():
            conn = await db.connection()
            # the first statement writes: row lock (PostgreSQL), database write lock (SQLite)
            touched = await conn.execute(
                update(Plugin).where(Plugin.name == plugin).values(updated_at=utcnow())
            )
            if touched.rowcount == 0:
                raise NotFound("Plugin not found")
            stored = (
                await conn.execute(select(Plugin.config).where(Plugin.name == plugin))
            ).scalar_one() or {}
            opened = self._open(plugin, stored)
            merged = {**opened.plain, **accepted}
            kept = {k: v for k, v in opened.unreadable.items() if k not in accepted}
            row = {**self._seal(plugin, merged, stored), **kept}
            await conn.execute(update(Plugin).where(Plugin.name == plugin).values(config=row))
        before = effective_config(schema, opened.plain)
        self._keep(plugin, merged, list(kept))
        self._stale.discard(plugin)
        after = self.effective(plugin)
        return {k: after[k] for k in accepted if before.get(k) != after.get(k)}
