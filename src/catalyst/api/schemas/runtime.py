"""How the admin API shows a plugin's runtime: which one, its child process, restarts, the
sandbox layers that hold (from :meth:`catalyst.plugins.record.PluginRecord.runtime_status`)."""

from __future__ import annotations

from typing import Literal

from catalyst.api.schemas.base import Number, SparseModel, WireModel
from catalyst.plugins.process.status import RuntimeStatus


class ExitInfo(WireModel):
    """How the plugin's child process last ended, and the last lines it wrote to stderr."""

    reason: str
    at: str
    stderr_tail: str


class SandboxInfo(WireModel):
    """The isolation layers of the running child: ``full`` when every layer holds, ``partial``
    when some are missing (each named in ``missing`` with its reason), ``none`` in process."""

    level: Literal["full", "partial", "none"]
    layers: dict[str, bool]
    missing: list[str]
    landlock_abi: int


class PluginRuntime(SparseModel):
    """``runtime`` always; the admin's view also has the process keys (null when not running).
    The reduced list of ``GET /api/ui/plugins`` has ``runtime`` only: the browser needs it to
    sandbox a ``process`` plugin's frontend."""

    runtime: Literal["process", "inprocess"]
    pid: int | None = None
    memory_bytes: int | None = None
    cpu_seconds: Number | None = None
    memory_limit_mb: int | None = None
    restarts: int = 0
    crashes: int = 0
    last_exit: ExitInfo | None = None
    sandbox: SandboxInfo | None = None


def runtime_view(status: RuntimeStatus) -> PluginRuntime:
    """Every key, for the admin API."""
    last = status.last_exit
    box = status.sandbox
    return PluginRuntime(
        runtime=status.runtime,
        pid=status.pid,
        memory_bytes=status.memory_bytes,
        cpu_seconds=status.cpu_seconds,
        memory_limit_mb=status.memory_limit_mb,
        restarts=status.restarts,
        crashes=status.crashes,
        last_exit=ExitInfo(reason=last.reason, at=last.at, stderr_tail=last.stderr_tail)
        if last
        else None,
        sandbox=SandboxInfo(
            level=box.level,
            layers=dict(box.layers),
            missing=list(box.missing),
            landlock_abi=box.landlock_abi,
        ),
    )


def runtime_kind(status: RuntimeStatus) -> PluginRuntime:
    """The runtime only, for any logged-in user."""
    return PluginRuntime(runtime=status.runtime)
