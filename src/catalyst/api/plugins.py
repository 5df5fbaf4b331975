"""The admin API of plugins: ``admin.read`` to look, ``admin.write`` to change."""

from __future__ import annotations

import asyncio
import mimetypes
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from catalyst import audit as audit_log
from catalyst.api import plugin_views as views
from catalyst.api.plugin_instances import instances_of
from catalyst.api.responses import JSONResponse
from catalyst.api.schemas.base import Envelope
from catalyst.api.schemas.plugins import (
    LogRecord,
    PluginDetail,
    PluginReloaded,
    PluginSummary,
    PluginTask,
    RescanChanges,
)
from catalyst.auth.deps import CurrentPrincipal, get_services, require
from catalyst.auth.sessions import Principal
from catalyst.errors import BadRequest, InvalidTransition, NotFound, ServiceUnavailable
from catalyst.plugins import frontend_files
from catalyst.plugins.manager import PluginManager
from catalyst.services import Services

router = APIRouter(prefix="/api/plugins", tags=["plugins"], default_response_class=JSONResponse)
ui_router = APIRouter(prefix="/api/ui", tags=["plugins"], default_response_class=JSONResponse)
Reader = Annotated[Principal, Depends(require("admin.read"))]
Writer = Annotated[Principal, Depends(require("admin.write"))]
RUN_NOW_WAIT = 2.0  # seconds run-now waits for the run before answering "still running"


def manager(request: Request) -> PluginManager:
    return get_services(request).plugins


Manager = Annotated[PluginManager, Depends(manager)]
ServicesDep = Annotated[Services, Depends(get_services)]


class EnableBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool


class PermissionsBody(BaseModel):
    """Consent to (``grant``) or withdraw (``revoke``) permissions the plugin requests."""

    model_config = ConfigDict(extra="forbid")
    grant: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )
    revoke: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )


class ConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: dict[str, Any]


async def audit(
    services: Services, who: Principal, action: str, target: str, **details: Any
) -> None:
    await audit_log.record(services.db, who.username, action, target, **details)


@router.get("")
async def list_plugins(plugins: Manager, _: Reader) -> Envelope[list[PluginSummary]]:
    return Envelope(data=[views.summary(r) for _, r in sorted(plugins.records.items())])


@router.post("/rescan")
async def rescan(plugins: Manager, services: ServicesDep, who: Writer) -> Envelope[RescanChanges]:
    changes = await plugins.rescan(everywhere=True)
    await audit(services, who, "plugin.rescan", "*", **changes)
    return Envelope(data=RescanChanges.model_validate(changes), message="Plugins rescanned")


async def task_rows(plugins: PluginManager, name: str) -> dict[str, dict[str, Any]]:
    """The cluster's status rows of the plugin's tasks (empty without a ledger, or when the
    database does not answer: the answer then shows this instance's view)."""
    ledger = plugins.scheduler.ledger
    if ledger is None:
        return {}
    await plugins.scheduler.written(name)  # this instance's runs that just ended are shown
    return await ledger.statuses(name)


@router.get("/{name}")
async def get_plugin(
    name: str, plugins: Manager, services: ServicesDep, _: Reader
) -> Envelope[PluginDetail]:
    record = plugins.get(name)
    instances = await instances_of(services.instances, record)
    return Envelope(data=views.detail(plugins, record, await task_rows(plugins, name), instances))


@router.post("/{name}/enable")
async def enable_plugin(
    name: str, body: EnableBody, plugins: Manager, services: ServicesDep, who: Writer
) -> Envelope[PluginSummary]:
    """Enable (granting, by the admin's consent, every permission it requests) or disable."""
    warning = None
    if body.enabled:
        await plugins.enable(name, who.username)
    else:
        warning = await plugins.disable(name)
    await audit(services, who, "plugin.enable" if body.enabled else "plugin.disable", name)
    word = "enabled" if body.enabled else "disabled"
    data = views.summary(plugins.get(name), warning=warning or None)
    if warning:  # disabled all the same; say what went wrong
        return Envelope(data=data, message=f"Plugin disabled, but its {warning}")
    return Envelope(data=data, message=f"Plugin {word} successfully")


@router.post("/{name}/permissions")
async def change_permissions(
    name: str, body: PermissionsBody, plugins: Manager, who: Writer
) -> Envelope[PluginSummary]:
    """Grant (consent to) permissions the plugin requests, e.g. its ``pendingPermissions``
    after a new version asked for more, or revoke some; each change is audited."""
    if not body.grant and not body.revoke:
        raise BadRequest("Name at least one permission to grant or revoke")
    await plugins.change_permissions(name, body.grant, body.revoke, who.username)
    return Envelope(data=views.summary(plugins.get(name)), message="Plugin permissions updated")


@router.post("/{name}/reload")
async def reload_plugin(
    name: str, plugins: Manager, services: ServicesDep, who: Writer
) -> Envelope[PluginReloaded]:
    duration = await plugins.reload(name, who.username, everywhere=True)
    await audit(services, who, "plugin.reload", name, durationMs=round(duration, 2))
    data = views.reloaded(plugins.get(name), round(duration, 2))
    return Envelope(data=data, message="Plugin reloaded successfully")


@router.put("/{name}/config")
async def update_config(
    name: str, body: ConfigBody, plugins: Manager, services: ServicesDep, who: Writer
) -> Envelope[dict[str, Any]]:
    changed = await plugins.update_config(name, body.config)
    await audit(services, who, "plugin.config", name, keys=sorted(changed))
    config = views.config_values(plugins, plugins.get(name))
    return Envelope(data=config, message="Plugin configuration updated")


@router.get("/{name}/logs")
async def plugin_logs(
    name: str,
    plugins: Manager,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    since: Annotated[int, Query(ge=0)] = 0,
    level: Annotated[str | None, Query(pattern="^(debug|info|warning|error)$")] = None,
) -> Envelope[list[LogRecord]]:
    records = plugins.get(name).logs.tail(limit, since, level)
    return Envelope(data=[LogRecord.model_validate(r) for r in records])


@router.post("/{name}/tasks/{task_id}/run")
async def run_task(
    name: str, task_id: str, plugins: Manager, services: ServicesDep, who: Writer
) -> Envelope[PluginTask]:
    record = plugins.get(name)
    spec = record.instance.tasks.get(task_id) if record.instance else None
    if spec is None:
        raise NotFound(f"Task {task_id!r} not found in plugin {name!r}")
    live = spec.live
    if live is None:
        raise InvalidTransition(f"tasks of plugin {name!r}", "run", record.state.value, ["enabled"])
    # Once in the cluster: here, unless it runs on another live instance now (409, as here).
    elsewhere = await live.running_elsewhere()
    if elsewhere is not None:
        busy = f"running on instance {elsewhere!r}"
        raise InvalidTransition(f"task {spec.name!r}", "run", busy, ["idle"])
    run = live.start_now()  # 409 when a run is still going
    await audit(services, who, "plugin.task.run", f"{name}/{task_id}")
    # Answer promptly: a quick task has finished by then, a long one goes on after the answer.
    done, _ = await asyncio.wait([run], timeout=RUN_NOW_WAIT)
    # the task as GET /api/plugins/{name} lists it: its plugin-level id, not the scheduler's
    shared = views.shared_status(spec, await task_rows(plugins, name))
    data = views.task(spec.id, spec.name, spec.cron, live.status, shared)
    return Envelope(data=data, message="Task ran" if done else "Task started; it is still running")


_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}


@router.get("/{name}/frontend/{path:path}")
async def plugin_frontend_file(
    name: str, path: str, plugins: Manager, _: CurrentPrincipal
) -> FileResponse:
    """A file of the plugin's browser module, from its dedicated frontend folder only.

    Hidden files, Python sources and ``plugin.json`` are never served (see
    :mod:`catalyst.plugins.frontend_files`)."""
    record = plugins.get(name)
    manifest = record.source.manifest
    if manifest is None or manifest.frontend is None:
        raise NotFound(f"Plugin {name!r} has no frontend")
    if not record.enabled:
        raise ServiceUnavailable("Plugin is disabled")
    target = frontend_files.served_file(record.source.path, manifest.frontend.entry, path)
    if target is None:
        raise NotFound(f"No file {path!r} in the frontend of plugin {name!r}")
    media = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "text/plain"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "no-cache"})


@ui_router.get("/plugins")
async def ui_plugins(plugins: Manager, _: CurrentPrincipal) -> Envelope[list[PluginSummary]]:
    """For any logged-in user: the enabled plugins whose browser modules the UI should load."""
    found = (views.ui_summary(r) for _, r in sorted(plugins.records.items()))
    return Envelope(data=[item for item in found if item is not None])
