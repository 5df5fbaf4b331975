"""A seccomp filter (classic BPF, built here, installed with ``prctl``) and the raw kernel calls
the sandbox makes through ctypes. What the filter denies and why is in ``sandbox.py``."""

from __future__ import annotations

import ctypes
import errno
import platform
from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int


def _arg(value: Any) -> Any:
    if value is None:
        return ctypes.c_void_p(None)
    if isinstance(value, int):
        return ctypes.c_long(value)
    return value  # a ctypes pointer (byref)


def syscall(number: int, *args: Any) -> tuple[int, int]:
    """``syscall(2)``: (result, errno); errno is 0 on success."""
    ctypes.set_errno(0)
    result = int(_libc.syscall(ctypes.c_long(number), *(_arg(a) for a in args)))
    return result, ctypes.get_errno() if result < 0 else 0


def prctl(option: int, *args: Any) -> tuple[int, int]:
    """``prctl(2)`` with its unsigned long arguments: (result, errno)."""
    padded = [*args, 0, 0, 0, 0][:4]
    values = [a if not isinstance(a, int) else ctypes.c_ulong(a) for a in padded]
    ctypes.set_errno(0)
    result = int(_libc.prctl(ctypes.c_int(option), *values))
    return result, ctypes.get_errno() if result < 0 else 0


PR_GET_SECCOMP = 21
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # little-endian on both arches: the low half comes first
_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_CLONE_THREAD = 0x00010000
_AF_UNIX, _AF_INET, _AF_INET6, _AF_NETLINK, _AF_PACKET, _AF_VSOCK = 1, 2, 10, 16, 17, 40
_X32_SYSCALL_BIT = 0x40000000

# The syscalls denied with EPERM, and the few the filter looks into, per architecture.
_ARCHES: dict[str, dict[str, Any]] = {
    "x86_64": {
        "audit_arch": 0xC000003E,
        "deny": {
            "fork": 57, "vfork": 58, "ptrace": 101, "process_vm_readv": 310,
            "process_vm_writev": 311, "mount": 165, "umount2": 166, "pivot_root": 155,
            "chroot": 161, "unshare": 272, "setns": 308, "bpf": 321, "perf_event_open": 298,
            "kexec_load": 246, "kexec_file_load": 320, "keyctl": 250, "add_key": 248,
            "request_key": 249, "init_module": 175, "finit_module": 313, "delete_module": 176,
            "reboot": 169, "swapon": 167, "swapoff": 168,
        },
        "clone": 56, "clone3": 435, "socket": 41, "listen": 50,
    },
    "aarch64": {  # the generic table: no fork/vfork syscalls, glibc forks with clone
        "audit_arch": 0xC00000B7,
        "deny": {
            "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40,
            "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
            "bpf": 280, "perf_event_open": 241, "kexec_load": 104, "kexec_file_load": 294,
            "keyctl": 219, "add_key": 217, "request_key": 218, "init_module": 105,
            "finit_module": 273, "delete_module": 106, "reboot": 142, "swapon": 224,
            "swapoff": 225,
        },
        "clone": 220, "clone3": 435, "socket": 198, "listen": 201,
    },
}  # fmt: skip
# Same numbers on both arches: io_uring (its SOCKET op would skip the socket() check below) and
# the new mount API (mount by other means).
_COMMON_DENY = {
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442,
}  # fmt: skip


class SeccompUnsupported(Exception):
    """The filter cannot be built for this machine (its architecture is not known here)."""


def available() -> tuple[bool, str]:
    """Whether this kernel and machine can take the filter, and why not."""
    if platform.machine() not in _ARCHES:
        return False, f"no filter for architecture {platform.machine()}"
    mode, err = prctl(PR_GET_SECCOMP)
    if mode < 0:
        return False, f"kernel offers no seccomp ({errno.errorcode.get(err, err)})"
    return True, ""


Instruction = tuple[int, int | str, int | str, int]


def program(net_outbound: bool, machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions: wrong architecture → kill; the denied list →
    EPERM; clone3 → ENOSYS (libc falls back to clone, whose flags the filter can read); clone
    without CLONE_THREAD → EPERM; socket(AF_UNIX) → EPERM (socketpair stays); without
    ``net_outbound`` socket(AF_INET/AF_INET6/AF_PACKET) → EPERM, with it listen() → EPERM (any
    family: the filter cannot see a socket's family); everything else allowed."""
    machine = machine or platform.machine()
    arch = _ARCHES.get(machine)
    if arch is None:
        raise SeccompUnsupported(machine)
    code: list[Instruction] = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ, 0, "kill", arch["audit_arch"]),
        (_LD_W_ABS, 0, 0, _NR),
    ]
    if machine == "x86_64":
        code.append((_JGE, "enosys", 0, _X32_SYSCALL_BIT))  # the x32 table: same audit arch
    for number in sorted({*arch["deny"].values(), *_COMMON_DENY.values()}):
        code.append((_JEQ, "eperm", 0, number))
    code.append((_JEQ, "enosys", 0, arch["clone3"]))
    code.append((_JEQ, "clone", 0, arch["clone"]))
    code.append((_JEQ, "socket", 0, arch["socket"]))
    if net_outbound:  # Landlock sees bind(), not the implicit bind of listen() on an unbound socket
        code.append((_JEQ, "eperm", 0, arch["listen"]))
    code.append((_RET, 0, 0, _RET_ALLOW))
    labels = {"clone": len(code)}
    code += [(_LD_W_ABS, 0, 0, _ARG0_LOW), (_JSET, "allow", "eperm", _CLONE_THREAD)]
    labels["socket"] = len(code)
    code += [(_LD_W_ABS, 0, 0, _ARG0_LOW)]
    # Unix sockets never (Landlock does not mediate connecting to a socket file: the host's
    # database or Redis socket would be in reach); IP and packet sockets only with net.outbound.
    # Netlink (it lists every socket of the machine) only with net.outbound (name resolution).
    always = (_AF_UNIX, _AF_VSOCK)
    denied = always if net_outbound else (*always, _AF_INET, _AF_INET6, _AF_PACKET, _AF_NETLINK)
    code += [(_JEQ, "eperm", 0, family) for family in denied]
    for name, k in (
        ("allow", _RET_ALLOW),
        ("eperm", _RET_ERRNO | errno.EPERM),
        ("enosys", _RET_ERRNO | errno.ENOSYS),
        ("kill", _RET_KILL_PROCESS),
    ):
        labels[name] = len(code)
        code.append((_RET, 0, 0, k))
    return [(op, _jump(jt, i, labels), _jump(jf, i, labels), k) for i, (op, jt, jf, k) in
            enumerate(code)]  # fmt: skip


def _jump(target: int | str, index: int, labels: dict[str, int]) -> int:
    if isinstance(target, int):
        return target
    offset = labels[target] - index - 1
    if not 0 <= offset <= 255:
        raise ValueError(f"BPF jump to {target} out of range: {offset}")
    return offset


class _SockFilter(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


def install(net_outbound: bool) -> None:
    """Install the filter on the calling thread (no_new_privs must be set). Raises OSError."""
    instructions = program(net_outbound)
    filters = (_SockFilter * len(instructions))(*(_SockFilter(*i) for i in instructions))
    fprog = _SockFprog(len(instructions), filters)
    result, err = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog))
    if result < 0:
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}")
