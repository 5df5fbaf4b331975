"""What the admin sees of a plugin's runtime: which runtime, its child process, restarts, the
sandbox layers that hold. In-process plugins report ``runtime="inprocess"`` and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Runtime = Literal["process", "inprocess"]
SandboxLevel = Literal["full", "partial", "none"]


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    """Which isolation layers the running child has. ``level`` is ``full`` when every layer
    holds, ``partial`` when some are missing (named in ``missing`` with the reason), ``none``
    for an in-process plugin."""

    level: SandboxLevel
    #: Layer name → True when applied: ``landlock``, ``seccomp``, ``no_new_privs``, ``rlimits``,
    #: ``clean_env``, ``no_inherited_fds``.
    layers: dict[str, bool] = field(default_factory=dict)
    #: Human-readable reasons for each missing layer ("landlock: kernel has no Landlock").
    missing: list[str] = field(default_factory=list)
    #: The Landlock ABI the kernel offers (0: none).
    landlock_abi: int = 0


@dataclass(frozen=True, slots=True)
class ExitInfo:
    """How a child ended: ``reason`` in words ("exit code 1", "killed by SIGSEGV",
    "out of memory (300 MiB > 256 MiB)", "unresponsive: no pong in 10 s"), when, and the last
    lines it wrote to stderr."""

    reason: str
    at: str
    stderr_tail: str


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    runtime: Runtime
    pid: int | None = None
    #: Unique memory of the child (its private pages; what it costs beyond the template), in
    #: bytes (None: not running).
    memory_bytes: int | None = None
    #: User + system CPU time of the child, in seconds.
    cpu_seconds: float | None = None
    memory_limit_mb: int | None = None
    #: Crashes in the current crash window, and in all since the host started.
    restarts: int = 0
    crashes: int = 0
    last_exit: ExitInfo | None = None
    sandbox: SandboxStatus = field(default_factory=lambda: SandboxStatus("none"))
