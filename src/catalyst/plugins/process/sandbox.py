"""TEMPORARY stand-in until the sandbox branch lands: clean environment and descriptors only."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalyst.plugins.process.status import SandboxStatus


@dataclass(frozen=True)
class SandboxSpec:
    plugin: str
    plugin_folder: Path
    data_folder: Path
    net_outbound: bool
    memory_mb: int
    extra_env: Mapping[str, str] = field(default_factory=dict)


def probe() -> SandboxStatus:
    return SandboxStatus("partial", {}, ["sandbox: not built yet"])


def clean_environment(spec: SandboxSpec) -> dict[str, str]:
    tmp = spec.data_folder / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(spec.data_folder),
        "TMPDIR": str(tmp),
        "PYTHONDONTWRITEBYTECODE": "1",
        **spec.extra_env,
    }


def close_inherited_fds(keep: Iterable[int]) -> None:
    kept = sorted({0, 1, 2, *keep})
    low = 0
    for fd in kept:
        if low < fd:  # closerange(n, n) would close every descriptor from n up
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)


def apply(spec: SandboxSpec) -> SandboxStatus:
    return SandboxStatus(
        "partial", {"clean_env": True, "no_inherited_fds": True}, ["sandbox: not built yet"]
    )
