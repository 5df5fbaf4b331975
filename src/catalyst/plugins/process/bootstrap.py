"""A plugin child's first steps after the fork: shed what it inherited, sandbox itself, run.

Order matters: descriptors are closed and the environment replaced before the sandbox is applied,
and the sandbox before any plugin code is imported (:mod:`catalyst.plugins.process.child` imports
it only when the host asks it to ``load``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from catalyst.plugins.process import child, sandbox
from catalyst.plugins.process.status import SandboxStatus

#: Exit codes the host turns into words (see :func:`catalyst.plugins.process.link.exit_reason`).
EXIT_OK = 0
EXIT_PROTOCOL = 65
EXIT_OUT_OF_MEMORY = 66


def spec_of(raw: dict[str, Any]) -> sandbox.SandboxSpec:
    return sandbox.SandboxSpec(
        plugin=str(raw["plugin"]),
        plugin_folder=Path(raw["folder"]),
        data_folder=Path(raw["data_folder"]),
        net_outbound=bool(raw.get("net_outbound")),
        memory_mb=int(raw.get("memory_mb") or 256),
        extra_env=dict(raw.get("extra_env") or {}),
    )


def run(raw: dict[str, Any], fd: int) -> int:
    spec = spec_of(raw)
    sandbox.close_inherited_fds([fd])
    env = sandbox.clean_environment(spec)
    os.environ.clear()
    os.environ.update(env)
    sys.dont_write_bytecode = True  # the variable is read at start-up only; we are forked
    os.chdir(spec.plugin_folder)
    status: SandboxStatus = sandbox.apply(spec, keep_fds=[fd])
    try:
        import uvloop

        factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(child.main(fd, status))
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
