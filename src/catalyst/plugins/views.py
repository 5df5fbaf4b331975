"""How plugins look in the admin API: the list item and the detail view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalyst.plugins.config_schema import masked, schema_json
from catalyst.plugins.dependencies import dependents
from catalyst.plugins.grants import pending
from catalyst.plugins.manager import PluginManager
from catalyst.plugins.record import PluginRecord


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _requested(raw: dict[str, Any]) -> list[str]:
    """The permissions an invalid manifest requests, as far as they can be read."""
    permissions = raw.get("permissions")
    if not isinstance(permissions, list):
        return []
    return list(dict.fromkeys(p for p in permissions if isinstance(p, str)))


def summary(record: PluginRecord) -> dict[str, Any]:
    manifest = record.source.manifest
    raw = record.source.raw or {}

    def meta(key: str, default: Any = None) -> Any:
        value = raw.get(key, default)
        return value if isinstance(value, str) else default

    return {
        "name": record.name,
        "version": manifest.version if manifest else meta("version", "0.0.0"),
        "displayName": (manifest.display_name if manifest else meta("displayName", "")).strip()
        or record.name,
        "description": manifest.description if manifest else meta("description", ""),
        "author": manifest.author if manifest else meta("author", ""),
        "status": record.state.value,
        "enabled": record.enabled,
        "loadedAt": _iso(record.loaded_at),
        "enabledAt": _iso(record.enabled_at) if record.enabled else None,
        "installedAt": _iso(record.installed_at),
        "error": record.error,
        "errors": [{"path": e.path, "message": e.message} for e in record.source.errors],
        "warnings": [{"path": w.path, "message": w.message} for w in record.source.warnings],
        "reloadError": record.reload_error,
        "permissions": list(manifest.permissions) if manifest else _requested(raw),
        "grantedPermissions": sorted(record.granted),
        "pendingPermissions": pending(record),
        "hookError": record.hook_error,
        "hookOverruns": list(record.overruns),
        "hasBackend": bool(manifest and manifest.backend),
        "hasFrontend": bool(manifest and manifest.frontend),
        "frontendEntry": manifest.frontend.entry if manifest and manifest.frontend else None,
    }


def ui_summary(record: PluginRecord) -> dict[str, Any] | None:
    """What any logged-in user may know of a plugin: only an enabled one with a browser module,
    and none of the admin's details (errors, permissions)."""
    if not record.enabled or record.source.manifest is None or not record.source.manifest.frontend:
        return None
    return {
        **summary(record),
        "error": None,
        "errors": [],
        "warnings": [],
        "reloadError": None,
        "permissions": [],
        "grantedPermissions": [],
        "pendingPermissions": [],
        "hookError": None,
        "hookOverruns": [],
        "installedAt": None,
    }


def config_values(manager: PluginManager, record: PluginRecord) -> dict[str, Any]:
    """The plugin's config as the admin API shows it: saved over defaults, secrets masked."""
    manifest = record.source.manifest
    if manifest is None:
        return {}
    return masked(manifest.config, manager.config.effective(record.name))


def detail(manager: PluginManager, record: PluginRecord) -> dict[str, Any]:
    manifest = record.source.manifest
    schema = manifest.config if manifest else {}
    instance = record.instance
    tasks: list[dict[str, Any]] = []
    if instance is not None:
        for spec in instance.tasks.values():
            status = spec.live.status.to_json() if spec.live else {}
            tasks.append({**status, "id": spec.id, "name": spec.name, "cron": spec.cron})
    listeners = [
        {"event": s.pattern, "errors": s.error_count, "lastError": s.last_error}
        for s in manager.host.bus.subscriptions(record.name)
    ]
    return {
        **summary(record),
        "catalystVersion": manifest.catalyst_version if manifest else None,
        "config": config_values(manager, record),
        "configSchema": schema_json(schema),
        "routes": [r.describe() for r in instance.routes] if instance else [],
        "middleware": len(instance.middleware) if instance else 0,
        "wsHandlers": (
            [f"plugin:{record.name}:{t}" for t in sorted(instance.ws_handlers)] if instance else []
        ),
        "tasks": tasks,
        "listeners": listeners,
        "dependencies": dict(manifest.dependencies) if manifest else {},
        "dependents": dependents(manager.graph(), record.name),
        "events": {k: v.model_dump() for k, v in manifest.events.items()} if manifest else {},
        "errorDetail": record.error_detail,
        "counts": instance.counts() if instance else {},
        "stalls": list(record.stalls),
    }
