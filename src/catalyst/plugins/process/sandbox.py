"""The sandbox a plugin's child process puts on itself, right after the fork, single-threaded,
before any plugin code runs (Linux x86_64 and aarch64, ctypes only). The host never calls
``apply``. Layers (names as in ``SandboxStatus.layers``):

``no_new_privs``
    ``PR_SET_NO_NEW_PRIVS``: no exec can gain privileges; Landlock and seccomp need it.
``rlimits``
    ``RLIMIT_AS`` = the child's address space at ``apply`` + ``memory_mb`` MiB. The child is
    forked from a template that has Python and the plugin runtime imported, so its address space
    already holds that runtime before any plugin code runs. Measured VmSize of a forked child
    (x86_64, Python 3.11): bare interpreter 12 MiB; with this module imported 21 MiB; with
    ``catalyst.sdk`` and msgpack 58 MiB; with the whole host (``catalyst.services``) 103 MiB,
    a third of it mapped but never touched. A fixed limit would charge the plugin for whatever the
    template imported and change with it; so ``memory_mb`` is the room the plugin gets on top of
    what the fork gave it. Each thread reserves its stack (8 MiB) and may reserve a 64 MiB malloc
    arena from that room (glibc falls back to the main arena when it cannot).
    ``RLIMIT_FSIZE`` 256 MiB (Python ignores SIGXFSZ: a larger write raises OSError EFBIG),
    ``RLIMIT_CORE`` 0, ``RLIMIT_NOFILE`` 1024, ``RLIMIT_NPROC`` 4096 (counted per user, including
    threads, and ignored for root: seccomp is what stops fork). Soft = hard, never raised.
``capabilities``
    As root: every capability dropped from the bounding set, the ambient set cleared, and
    effective/permitted/inheritable zeroed with ``capset``. Holds when ``/proc/self/status`` then
    shows no capability; as another user it holds when the process has none to begin with.
``landlock``
    Every file-system right the ABI knows is handled. Read-only (read file, read dir, execute)
    beneath the plugin folder, the Python runtime (``sys.prefix``, ``sys.base_prefix``,
    ``sys.exec_prefix``, each existing ``sys.path`` entry, the ``catalyst`` package), ``/usr``,
    ``/lib``, ``/lib64``, ``/bin``, ``/etc/ssl``, ``/usr/share/zoneinfo``, the files
    ``/etc/localtime``, ``/etc/hosts``, ``/etc/resolv.conf``, ``/etc/nsswitch.conf``,
    ``/dev/urandom``, and ``/proc/self``; read-write ``/dev/null``; every right beneath the data
    folder. Nothing else: not the host's data folder (database, secret key), not the repo root.
    A read-only path that contains the data folder (a ``sys.path`` entry at the repo root, say)
    is left out, since it would open the host's data folder and other plugins' data.
``landlock_net`` (ABI ≥ 4)
    TCP bind is handled and never allowed; TCP connect is handled (so denied) unless
    ``net_outbound``.
``landlock_scopes`` (ABI ≥ 6)
    No signals to, and no abstract unix sockets of, processes outside this sandbox (the host).
``seccomp``
    See ``seccomp.program``: fork, vfork and clone without ``CLONE_THREAD`` → EPERM (threads
    work), clone3 → ENOSYS, ptrace, process_vm_*, mount and the new mount API, chroot, unshare,
    setns, bpf, perf_event_open, kexec, keys, modules, reboot, swap, io_uring → EPERM; AF_UNIX
    sockets → EPERM (Landlock does not mediate connect() to a socket file); without
    ``net_outbound`` sockets of AF_INET, AF_INET6, AF_PACKET → EPERM; with it ``listen`` → EPERM
    (Landlock does not see the port ``listen`` picks for an unbound socket); other arches and
    the x32 table → killed / ENOSYS. Known gap: Landlock has no UDP rules, so with
    ``net_outbound`` a UDP socket can be bound.
``clean_env``, ``no_inherited_fds``
    The caller does these with ``clean_environment`` and ``close_inherited_fds`` before ``apply``;
    ``apply`` reports them by looking: ``os.environ`` equals ``clean_environment(spec)``, and the
    only open descriptors are 0, 1, 2 and ``keep_fds``.

Landlock and seccomp bind the calling thread only: ``apply`` refuses to run with other threads.
A layer that cannot be applied is listed in ``missing`` with the reason; none is claimed that
did not hold.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import catalyst
from catalyst.plugins.process import landlock, seccomp
from catalyst.plugins.process.status import SandboxLevel, SandboxStatus

LAYERS = (
    "landlock",
    "landlock_net",
    "landlock_scopes",
    "seccomp",
    "no_new_privs",
    "rlimits",
    "capabilities",
    "clean_env",
    "no_inherited_fds",
)
PATH = "/usr/local/bin:/usr/bin:/bin"
MiB = 1024 * 1024
FSIZE_LIMIT = 256 * MiB
NOFILE_LIMIT = 1024
NPROC_LIMIT = 4096
_SYSTEM_READ_ONLY = (
    "/usr", "/lib", "/lib64", "/bin", "/etc/ssl", "/etc/localtime", "/etc/hosts",
    "/etc/resolv.conf", "/etc/nsswitch.conf", "/usr/share/zoneinfo", "/dev/urandom", "/proc/self",
)  # fmt: skip
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_GET_NO_NEW_PRIVS = 39
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAPSET = {"x86_64": 126, "aarch64": 91}
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class SandboxError(RuntimeError):
    """The sandbox cannot be applied safely (another thread would stay unrestricted)."""


@dataclass(frozen=True)
class SandboxSpec:
    plugin: str
    plugin_folder: Path  # read-only, and the working directory
    data_folder: Path  # read-write; the host creates it (data/plugins/<name>/)
    net_outbound: bool  # "net.outbound" granted
    memory_mb: int  # manifest limits.memory_mb
    extra_env: Mapping[str, str] = field(default_factory=dict)


@functools.cache
def _kernel() -> tuple[int, int, bool, str]:
    abi, err = landlock.abi_version()
    ok, reason = seccomp.available()
    return abi, err, ok, reason


def probe() -> SandboxStatus:
    """What this kernel offers, without applying anything (cached: two syscalls once)."""
    abi, err, seccomp_ok, seccomp_reason = _kernel()
    layers = dict.fromkeys(LAYERS, True)
    missing: list[str] = []
    if abi == 0:
        name = errno.errorcode.get(err, str(err))
        missing.append(f"landlock: kernel offers no Landlock ({name})")
    if abi < 4:
        missing.append(f"landlock_net: Landlock ABI {abi} has no TCP rules (needs 4)")
    if abi < 6:
        missing.append(f"landlock_scopes: Landlock ABI {abi} has no scopes (needs 6)")
    layers.update(landlock=abi >= 1, landlock_net=abi >= 4, landlock_scopes=abi >= 6)
    if not seccomp_ok:
        layers["seccomp"] = False
        missing.append(f"seccomp: {seccomp_reason}")
    return _status(layers, missing, abi)


def _status(layers: dict[str, bool], missing: list[str], abi: int) -> SandboxStatus:
    level: SandboxLevel = "full" if all(layers.values()) else "partial"
    return SandboxStatus(level=level, layers=layers, missing=missing, landlock_abi=abi)


def _expected_env(spec: SandboxSpec) -> dict[str, str]:
    env = dict(spec.extra_env)
    env.update(
        PATH=PATH,
        LANG="C.UTF-8",
        HOME=str(spec.data_folder),
        TMPDIR=str(spec.data_folder / "tmp"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def clean_environment(spec: SandboxSpec) -> dict[str, str]:
    """The child's whole environment: PATH, LANG, HOME (the data folder), TMPDIR (created in it),
    PYTHONDONTWRITEBYTECODE, and the plugin's ``extra_env``, which cannot override those five.
    Nothing from the host's environment."""
    (spec.data_folder / "tmp").mkdir(parents=True, exist_ok=True)
    return _expected_env(spec)


def _open_fds() -> set[int]:
    listing = os.listdir("/proc/self/fd")  # the listing's own descriptor is closed by now
    return {int(name) for name in listing if _is_open(int(name))}


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def close_inherited_fds(keep: Iterable[int]) -> None:
    """Close every descriptor but 0, 1, 2 and ``keep``."""
    kept = sorted({0, 1, 2, *keep})
    try:
        highest = max(_open_fds(), default=0)
    except OSError:
        highest = 0
    top = max(highest + 1, os.sysconf("SC_OPEN_MAX"))
    low = 0
    for fd in kept:
        if fd > low:
            os.closerange(low, fd)
        low = max(low, fd + 1)
    os.closerange(low, top)


def apply(spec: SandboxSpec, keep_fds: Iterable[int] = ()) -> SandboxStatus:
    """Apply every layer this kernel offers (module docstring) and report which hold."""
    status = _read_status()
    if int(status.get("Threads", "1")) > 1:
        raise SandboxError(f"{status['Threads']} threads: Landlock and seccomp bind one thread")
    layers = dict.fromkeys(LAYERS, False)
    missing: list[str] = []
    layers["clean_env"] = dict(os.environ) == _expected_env(spec)
    if not layers["clean_env"]:
        extra = sorted(set(os.environ) ^ set(_expected_env(spec)))
        missing.append(f"clean_env: environment differs from clean_environment() ({extra})")
    stray = _open_fds() - {0, 1, 2, *keep_fds}
    layers["no_inherited_fds"] = not stray
    if stray:
        missing.append(f"no_inherited_fds: descriptors still open {sorted(stray)}")
    os.chdir(spec.plugin_folder)

    done, err = seccomp.prctl(_PR_SET_NO_NEW_PRIVS, 1)
    layers["no_new_privs"] = done == 0 and seccomp.prctl(_PR_GET_NO_NEW_PRIVS)[0] == 1
    if not layers["no_new_privs"]:
        missing.append(f"no_new_privs: {os.strerror(err)}")
    _layer(layers, missing, "rlimits", lambda: _set_rlimits(spec, int(status["VmSize"]) * 1024))
    _layer(layers, missing, "capabilities", _drop_capabilities)

    abi, err, seccomp_ok, seccomp_reason = _kernel()
    if abi == 0:
        name = errno.errorcode.get(err, str(err))
        missing.append(f"landlock: kernel offers no Landlock ({name})")
    elif not layers["no_new_privs"]:
        missing.append("landlock: needs no_new_privs")
    else:
        _layer(layers, missing, "landlock", lambda: _landlock(spec, abi))
    layers["landlock_net"] = layers["landlock"] and abi >= 4
    layers["landlock_scopes"] = layers["landlock"] and abi >= 6
    if not layers["landlock_net"]:
        missing.append(f"landlock_net: not in force (Landlock ABI {abi}, TCP rules need 4)")
    if not layers["landlock_scopes"]:
        missing.append(f"landlock_scopes: not in force (Landlock ABI {abi}, scopes need 6)")

    if not seccomp_ok:
        missing.append(f"seccomp: {seccomp_reason}")
    elif not layers["no_new_privs"]:
        missing.append("seccomp: needs no_new_privs")
    else:
        _layer(layers, missing, "seccomp", lambda: seccomp.install(spec.net_outbound))
    return _status(layers, missing, abi)


def _layer(
    layers: dict[str, bool], missing: list[str], name: str, step: Callable[[], None]
) -> None:
    try:
        step()
    except (OSError, ValueError) as exc:
        missing.append(f"{name}: {exc}")
        return
    layers[name] = True


def _read_status() -> dict[str, str]:
    status: dict[str, str] = {}
    with open("/proc/self/status") as lines:
        for line in lines:
            key, _, value = line.partition(":")
            status[key] = value.split()[0] if value.split() else ""
    return status


def _set_rlimits(spec: SandboxSpec, vm_size: int) -> None:
    limits = {
        resource.RLIMIT_AS: vm_size + spec.memory_mb * MiB,
        resource.RLIMIT_FSIZE: FSIZE_LIMIT,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NOFILE: NOFILE_LIMIT,
        resource.RLIMIT_NPROC: NPROC_LIMIT,
    }
    for which, wanted in limits.items():
        _, hard = resource.getrlimit(which)
        value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(which, (value, value))


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _drop_capabilities() -> None:
    if os.geteuid() == 0:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        for cap in range(last + 1):
            done, err = seccomp.prctl(_PR_CAPBSET_DROP, cap)
            if done < 0 and err != errno.EINVAL:
                raise OSError(err, f"PR_CAPBSET_DROP {cap}: {os.strerror(err)}")
        seccomp.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
        number = _CAPSET.get(os.uname().machine)
        if number is None:
            raise OSError(errno.ENOSYS, f"capset number unknown on {os.uname().machine}")
        header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)()
        done, err = seccomp.syscall(number, ctypes.byref(header), ctypes.byref(data))
        if done < 0:
            raise OSError(err, f"capset: {os.strerror(err)}")
    status = _read_status()
    held = [key for key in ("CapEff", "CapPrm", "CapInh", "CapAmb") if int(status[key], 16)]
    if held:
        raise OSError(errno.EPERM, f"capabilities still held: {', '.join(held)}")


def _landlock(spec: SandboxSpec, abi: int) -> None:
    read_only = [
        spec.plugin_folder,
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
        *(Path(entry) for entry in sys.path if entry),
        Path(catalyst.__file__).parent,
        *(Path(path) for path in _SYSTEM_READ_ONLY),
    ]
    data = spec.data_folder.resolve()
    rules = [
        (path, landlock.READ_ONLY) for path in read_only if not data.is_relative_to(path.resolve())
    ]
    rules.append((Path("/dev/null"), landlock.READ_FILE | landlock.WRITE_FILE | landlock.TRUNCATE))
    rules.append((spec.data_folder, landlock.handled_fs(abi)))
    handled_net = landlock.NET_BIND_TCP | (0 if spec.net_outbound else landlock.NET_CONNECT_TCP)
    scoped = landlock.SCOPE_ABSTRACT_UNIX_SOCKET | landlock.SCOPE_SIGNAL
    landlock.restrict(
        abi, rules, handled_net=handled_net if abi >= 4 else 0, scoped=scoped if abi >= 6 else 0
    )
