"""A plugin child's first steps after the fork: shed what it inherited, sandbox itself, run.

Order matters: descriptors are closed and the environment replaced before the sandbox is applied,
and the sandbox before any plugin code is imported (:mod:`catalyst.plugins.process.child` imports
it only when the host asks it to ``load``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import sys
import threading
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


M_ARENA_MAX = -8
THREAD_STACK = 2 * 1024 * 1024


def _thrifty_threads() -> None:
    """The address-space limit counts what each thread reserves: glibc's 64 MiB malloc arena per
    thread and an 8 MiB stack. One arena and 2 MiB stacks let a plugin run dozens of threads
    within its ``memoryMb`` instead of a handful."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)
    threading.stack_size(THREAD_STACK)


def run(raw: dict[str, Any], fd: int) -> int:
    spec = spec_of(raw)
    sandbox.close_inherited_fds([fd])
    env = sandbox.clean_environment(spec)
    os.environ.clear()
    os.environ.update(env)
    sys.dont_write_bytecode = True  # the variable is read at start-up only; we are forked
    os.chdir(spec.plugin_folder)
    _thrifty_threads()
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
