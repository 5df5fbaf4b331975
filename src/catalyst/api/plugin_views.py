"""How plugins look in the admin API: the runtime's records mapped into the answer models of
:mod:`catalyst.api.schemas.plugins` (the list item, the reduced item and the detail view)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from catalyst.api.plugin_instances import code_mismatch
from catalyst.api.schemas.plugins import (
    ConfigSchema,
    HookError,
    HookOverrun,
    ManifestProblem,
    PluginDetail,
    PluginEventSpec,
    PluginInstance,
    PluginListener,
    PluginReloaded,
    PluginRoute,
    PluginStall,
    PluginSummary,
    PluginTask,
    ReloadError,
)
from catalyst.api.schemas.runtime import runtime_kind, runtime_view
from catalyst.plugins.config_schema import masked, schema_json
from catalyst.plugins.dependencies import dependents
from catalyst.plugins.grants import pending
from catalyst.plugins.manager import PluginManager
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.registrations import TaskSpec
from catalyst.plugins.task_runs import TaskStatus
from catalyst.plugins.watchdog import Stall


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _requested(raw: dict[str, Any]) -> list[str]:
    """The permissions an invalid manifest requests, as far as they can be read."""
    permissions = raw.get("permissions")
    if not isinstance(permissions, list):
        return []
    return list(dict.fromkeys(p for p in permissions if isinstance(p, str)))


def _summary_fields(record: PluginRecord) -> dict[str, Any]:
    manifest = record.source.manifest
    raw = record.source.raw or {}

    def meta(key: str, default: Any = None) -> Any:
        value = raw.get(key, default)
        return value if isinstance(value, str) else default

    reload_error, hook_error = record.reload_error, record.hook_error
    return {
        "name": record.name,
        "version": manifest.version if manifest else meta("version", "0.0.0"),
        "display_name": (manifest.display_name if manifest else meta("displayName", "")).strip()
        or record.name,
        "description": manifest.description if manifest else meta("description", ""),
        "author": manifest.author if manifest else meta("author", ""),
        "status": record.state,
        "enabled": record.enabled,
        "loaded_at": _iso(record.loaded_at),
        "enabled_at": _iso(record.enabled_at) if record.enabled else None,
        "installed_at": _iso(record.installed_at),
        "error": record.error,
        "errors": [ManifestProblem(path=e.path, message=e.message) for e in record.source.errors],
        "warnings": [
            ManifestProblem(path=w.path, message=w.message) for w in record.source.warnings
        ],
        "reload_error": ReloadError.model_validate(reload_error) if reload_error else None,
        "permissions": manifest.requested_permissions if manifest else _requested(raw),
        "granted_permissions": sorted(record.granted),
        "pending_permissions": pending(record),
        "hook_error": HookError.model_validate(hook_error) if hook_error else None,
        "hook_overruns": [HookOverrun.model_validate(o) for o in record.overruns],
        "has_backend": bool(manifest and manifest.backend),
        "has_frontend": bool(manifest and manifest.frontend),
        "frontend_entry": manifest.frontend.entry if manifest and manifest.frontend else None,
        "runtime": runtime_view(record.runtime_status()),
    }


def summary(record: PluginRecord, warning: str | None = None) -> PluginSummary:
    """The list item; ``warning`` (why ``on_disable`` failed) only on the answer to a disable."""
    if warning is None:
        return PluginSummary(**_summary_fields(record))
    return PluginSummary(**_summary_fields(record), warning=warning)


def reloaded(record: PluginRecord, duration_ms: float) -> PluginReloaded:
    return PluginReloaded(**_summary_fields(record), duration_ms=duration_ms)


def ui_summary(record: PluginRecord) -> PluginSummary | None:
    """What any logged-in user may know of a plugin: only an enabled one with a browser module,
    and none of the admin's details (errors, permissions)."""
    if not record.enabled or record.source.manifest is None or not record.source.manifest.frontend:
        return None
    return summary(record).model_copy(
        update={
            "error": None,
            "errors": [],
            "warnings": [],
            "reload_error": None,
            "permissions": [],
            "granted_permissions": [],
            "pending_permissions": [],
            "hook_error": None,
            "hook_overruns": [],
            "installed_at": None,
            "runtime": runtime_kind(record.runtime_status()),
        }
    )


def config_values(manager: PluginManager, record: PluginRecord) -> dict[str, Any]:
    """The plugin's config as the admin API shows it: saved over defaults, secrets masked."""
    manifest = record.source.manifest
    if manifest is None:
        return {}
    return masked(manifest.config, manager.config.effective(record.name))


def task(
    task_id: str,
    name: str,
    cron: str,
    status: TaskStatus | None,
    shared: Mapping[str, Any] | None = None,
) -> PluginTask:
    """A task by its plugin-level id; its run status once it is scheduled (``status``): this
    instance's, with the cluster's ``task_status`` row (``shared``) over it when there is one."""
    if status is None:
        return PluginTask(id=task_id, name=name, cron=cron)
    run: Mapping[str, Any] = shared if shared is not None else dataclasses.asdict(status)
    running_on = shared.get("running_on") if shared is not None else None
    return PluginTask(
        id=task_id,
        name=name,
        cron=cron,
        owner=status.owner,
        next_run=_iso(status.next_run),
        last_run=_iso(run["last_run"]),
        last_duration=run["last_duration"],
        last_error=run["last_error"],
        run_count=run["run_count"],
        skipped_count=run["skipped_count"],
        claimed_elsewhere=status.claimed_elsewhere,
        error_count=run["error_count"],
        repeat_count=status.repeat_count,
        running=status.running or running_on is not None,
        running_on=running_on,
    )


def stall(blocked: Stall) -> PluginStall:
    return PluginStall(
        time=blocked.at,
        duration_ms=round(blocked.duration * 1000),
        kind=blocked.kind,
        name=blocked.name,
        function=blocked.function,
    )


def shared_status(
    spec: TaskSpec, rows: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The cluster's status row of a scheduled task, if there is one."""
    return rows.get(spec.live.key) if spec.live is not None else None


def detail(
    manager: PluginManager,
    record: PluginRecord,
    rows: Mapping[str, Mapping[str, Any]],
    instances: list[PluginInstance],
) -> PluginDetail:
    """The detail view. ``rows``: the plugin's ``task_status`` rows by task key
    (``TaskLedger.statuses``); ``instances``: the live instances that know the plugin, this one
    first (:func:`catalyst.api.plugin_instances.instances_of`)."""
    manifest = record.source.manifest
    schema = manifest.config if manifest else {}
    instance = record.instance
    tasks = [
        task(
            spec.id,
            spec.name,
            spec.cron,
            spec.live.status if spec.live else None,
            shared_status(spec, rows),
        )
        for spec in (instance.tasks.values() if instance is not None else ())
    ]
    listeners = [
        PluginListener(event=s.pattern, errors=s.error_count, last_error=s.last_error)
        for s in manager.host.bus.subscriptions(record.name)
    ]
    events = manifest.events.items() if manifest else ()
    return PluginDetail(
        **_summary_fields(record),
        catalyst_version=manifest.catalyst_version if manifest else None,
        config=config_values(manager, record),
        config_schema=ConfigSchema.model_validate(schema_json(schema)),
        routes=[PluginRoute.model_validate(r.describe()) for r in instance.routes]
        if instance
        else [],
        middleware=len(instance.middleware) if instance else 0,
        ws_handlers=(
            [f"plugin:{record.name}:{t}" for t in sorted(instance.ws_handlers)] if instance else []
        ),
        tasks=tasks,
        listeners=listeners,
        dependencies=dict(manifest.dependencies) if manifest else {},
        dependents=dependents(manager.graph(), record.name),
        events={
            k: PluginEventSpec(payload=v.payload, description=v.description) for k, v in events
        },
        error_detail=record.error_detail,
        counts=instance.counts() if instance else {},
        stalls=[stall(s) for s in record.stalls],
        code_hash=record.code_hash,
        code_mismatch=code_mismatch(instances),
        instances=instances,
    )
