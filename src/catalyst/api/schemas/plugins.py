"""What the plugin admin API answers: the list item, the detail view and their parts."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from catalyst.api.schemas.base import Number, SparseModel, WireModel, omitted
from catalyst.api.schemas.runtime import PluginRuntime
from catalyst.plugins.config_schema import ConfigType
from catalyst.plugins.state import PluginState


class ManifestProblem(WireModel):
    """A problem (or a compatibility warning) at a JSON path of ``plugin.json``."""

    path: str
    message: str


class ReloadError(WireModel):
    """Why the latest reload was refused (the previous version kept serving)."""

    message: str
    traceback: str | None
    at: str | None


class HookError(WireModel):
    """An exit hook (``on_disable``) that failed although the plugin was disabled."""

    hook: str
    message: str
    traceback: str | None
    at: str


class HookOverrun(WireModel):
    """A sync hook's thread still running after its timeout."""

    hook: str
    since: str
    timeout_s: Number = Field(alias="timeoutS")


class PluginSummary(WireModel):
    """A plugin as ``GET /api/plugins`` lists it."""

    name: str
    version: str
    display_name: str
    description: str
    author: str
    status: PluginState
    enabled: bool
    loaded_at: str | None
    enabled_at: str | None
    installed_at: str | None
    error: str | None
    errors: list[ManifestProblem]
    #: Accepted only for compatibility with the original system (unknown keys, its names).
    warnings: list[ManifestProblem]
    reload_error: ReloadError | None
    permissions: list[str]
    granted_permissions: list[str]
    #: Requested by a newer version but not granted: waits for an admin's consent.
    pending_permissions: list[str]
    hook_error: HookError | None
    hook_overruns: list[HookOverrun]
    has_backend: bool
    has_frontend: bool
    frontend_entry: str | None
    #: Which runtime runs the plugin; for the admin also its process, restarts and sandbox.
    runtime: PluginRuntime
    #: Only on the answer to a disable whose ``on_disable`` failed (disabled all the same).
    warning: str = omitted()


class PluginReloaded(PluginSummary):
    """The answer to a reload: the plugin, and how long the reload took."""

    duration_ms: Number


class ConfigOption(WireModel):
    value: str
    label: str


class ConfigFieldSchema(WireModel):
    """One config field as the admin UI renders it (a secret's default masked)."""

    type: ConfigType
    label: str
    description: str
    default: Any
    required: bool
    secret: bool
    options: list[ConfigOption] = omitted()
    min: Number = omitted()
    max: Number = omitted()


class ConfigSchema(RootModel[dict[str, ConfigFieldSchema]]):
    """The plugin's config fields by key."""


class PluginRoute(WireModel):
    method: str
    url: str
    permission: str | None
    public: bool
    timeout: Number = omitted()


class PluginTask(SparseModel):
    """A scheduled task; the run status keys are there once the task is scheduled. Last run,
    duration, error and the counts are the cluster's (the same from every instance, kept across
    restarts); ``nextRun``, ``claimedElsewhere`` and ``repeatCount`` are this instance's;
    ``running`` is true while it runs on any instance (``runningOn``)."""

    id: str
    name: str
    cron: str
    owner: str | None = None
    next_run: str | None = None
    last_run: str | None = None
    last_duration: Number | None = None
    last_error: str | None = None
    run_count: int = 0
    skipped_count: int = 0
    claimed_elsewhere: int = 0
    error_count: int = 0
    repeat_count: int = 0
    running: bool = False
    running_on: str | None = None
    """The instance of the cluster running it now (None when no instance is)."""


class PluginListener(WireModel):
    event: str
    errors: int
    last_error: str | None


class PluginEventSpec(WireModel):
    """An event the plugin declares: its payload's shape and what it means."""

    payload: dict[str, Any]
    description: str


class PluginStall(WireModel):
    """An event-loop stall the watchdog blamed on the plugin."""

    time: Number
    duration_ms: int
    kind: str | None
    name: str | None
    function: str | None


class PluginInstance(WireModel):
    """A live instance of the cluster that knows the plugin, as it last reported: the state of
    the plugin there and the code version it loaded (a hash of the plugin folder)."""

    id: str
    host: str
    pid: int
    code_hash: str | None
    #: The plugin's state on that instance (an instance of another version may name others).
    state: str
    loaded_at: str | None
    seen_at: str
    #: The instance that answered.
    is_self: bool = Field(alias="self")


class PluginDetail(PluginSummary):
    """A plugin as ``GET /api/plugins/{name}`` shows it."""

    catalyst_version: str | None
    config: dict[str, Any]
    config_schema: ConfigSchema
    routes: list[PluginRoute]
    middleware: int
    ws_handlers: list[str]
    tasks: list[PluginTask]
    listeners: list[PluginListener]
    dependencies: dict[str, str]
    dependents: list[str]
    events: dict[str, PluginEventSpec]
    error_detail: str | None
    counts: dict[str, int]
    stalls: list[PluginStall]
    #: This instance's code version of the plugin (None while nothing is loaded).
    code_hash: str | None
    #: Live instances report different code versions of the plugin.
    code_mismatch: bool
    #: The live instances that know the plugin, this one first.
    instances: list[PluginInstance]


class LogRecord(WireModel):
    """One record of a plugin's log stream."""

    seq: int
    time: Number
    level: str
    message: str
    fields: dict[str, Any]


class RescanChanges(WireModel):
    """The plugin folders a rescan picked up and forgot."""

    added: list[str]
    removed: list[str]
