"""Which runtime a plugin gets, and starting a process-runtime generation.

The registry asks :func:`runtime_of` for each load; for ``process`` it calls :func:`start`, which
spawns the child, wires its calls to :mod:`catalyst.plugins.process.host_calls`, gives the host a
``ctx`` of its own for the plugin (what the test harness and the host's hook caller hold), and
starts the liveness watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from catalyst.auth.permissions import HOST_FULL
from catalyst.plugins.context import PluginContext
from catalyst.plugins.context_core import PluginHost
from catalyst.plugins.logs import PluginLogger
from catalyst.plugins.manifest import PluginManifest
from catalyst.plugins.process import host_calls
from catalyst.plugins.process.remote import ProcessGeneration, StartFailed, spawn
from catalyst.plugins.registrations import Publisher
from catalyst.plugins.scheduler import Scheduler

__all__ = ["RuntimeOptions", "StartFailed", "runtime_of", "start"]


@dataclass(frozen=True)
class RuntimeOptions:
    """The host's settings for process-runtime plugins."""

    ping_interval: float = 5.0
    ping_timeout: float = 10.0
    restart_max: int = 5
    restart_window: float = 60.0
    memory_max_mb: int = 1024
    force: Literal["process", "inprocess"] | None = None


def runtime_of(
    manifest: PluginManifest, options: RuntimeOptions, granted: frozenset[str]
) -> Literal["process", "inprocess"]:
    """Where the plugin's code runs now. An ``inprocess`` plugin runs in the process runtime
    until an admin consents to ``host.full``: dropping a folder into the plugins directory never
    runs code inside the host without that consent."""
    if options.force is not None:
        return options.force
    if manifest.runtime == "inprocess" and HOST_FULL not in granted:
        return "process"
    return manifest.runtime


def memory_mb(manifest: PluginManifest, options: RuntimeOptions) -> int:
    """The plugin's memory limit: what its manifest asks, at most the host's cap."""
    return min(manifest.limits.memory_mb, options.memory_max_mb)


async def start(
    name: str,
    folder: Path,
    manifest: PluginManifest,
    *,
    options: RuntimeOptions,
    granted: frozenset[str],
    config: dict[str, Any],
    host: PluginHost,
    logger: PluginLogger,
    scheduler: Scheduler,
    publisher: Publisher,
    timeout: float,  # noqa: ASYNC109 - passed on to the handshake and the import
) -> ProcessGeneration:
    gen = await spawn(
        name,
        folder,
        manifest,
        data_folder=host.data_dir(name),  # its HOME, the only place it may write
        granted=granted,
        config=config,
        host=host,
        logger=logger,
        scheduler=scheduler,
        publisher=publisher,
        timeout=timeout,
        serve_call=host_calls.serve,
        memory_mb=memory_mb(manifest, options),
    )
    gen.ctx = PluginContext(gen, manifest, host, logger)
    gen.watch(options.ping_interval, options.ping_timeout, memory_mb(manifest, options))
    return gen
