"""Landlock through raw syscalls (ctypes): the file system, TCP and scope rules a plugin's child
puts on itself. See ``sandbox.py`` for what is allowed and why; this module only speaks to the
kernel (``Documentation/userspace-api/landlock.rst``)."""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from catalyst.plugins.process.seccomp import syscall

# Syscall numbers: the generic table (444-446) shared by x86_64, aarch64 and every other arch.
_CREATE_RULESET = 444
_ADD_RULE = 445
_RESTRICT_SELF = 446

_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
_FS_ABI1 = (1 << 13) - 1  # EXECUTE … MAKE_SYM
#: The rights that make sense on a file (not a directory); others on a file rule are EINVAL.
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

READ_ONLY = READ_FILE | READ_DIR | EXECUTE


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


class LandlockError(OSError):
    """A Landlock call failed: the ruleset is not in force."""


def abi_version() -> tuple[int, int]:
    """The Landlock ABI the kernel offers, and the errno when it offers none (0, ENOSYS for a
    kernel without Landlock, EOPNOTSUPP when it is built in but disabled at boot)."""
    result, err = syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    if result < 0:
        return 0, err
    return result, 0


def handled_fs(abi: int) -> int:
    """Every file-system right this ABI knows: all of them are handled (denied unless a rule
    allows them)."""
    rights = _FS_ABI1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def restrict(
    abi: int,
    rules: Iterable[tuple[Path, int]],
    *,
    handled_net: int,
    scoped: int,
) -> None:
    """Create a ruleset handling every fs right of ``abi`` (plus ``handled_net`` when ABI ≥ 4 and
    ``scoped`` when ABI ≥ 6, else they must be 0), allow each ``(path, rights)`` beneath its path
    (rights are masked to what the ABI knows, and to file rights for a non-directory; missing paths
    are skipped), and restrict the calling thread. Raises ``LandlockError`` on any failure."""
    fs = handled_fs(abi)
    if (handled_net and abi < 4) or (scoped and abi < 6):
        raise ValueError(f"Landlock ABI {abi} cannot handle net {handled_net} / scopes {scoped}")
    attr = _RulesetAttr(fs, handled_net, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct as this ABI knows it
    ruleset, err = syscall(_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise LandlockError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        for path, rights in rules:
            _add_path_rule(ruleset, path, rights & fs)
        done, err = syscall(_RESTRICT_SELF, ruleset, 0)
        if done < 0:
            raise LandlockError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(ruleset)


def _add_path_rule(ruleset: int, path: Path, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
        attr = _PathBeneathAttr(rights, fd)
        done, err = syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(attr), 0)
        if done < 0:
            code = errno.errorcode.get(err, str(err))
            raise LandlockError(err, f"landlock_add_rule {path}: {code} {os.strerror(err)}")
    finally:
        os.close(fd)
