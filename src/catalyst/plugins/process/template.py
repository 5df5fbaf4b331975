"""The template process: imports the child runtime once, then forks one child per plugin.

Started by the host (:mod:`catalyst.plugins.process.spawner`) with a clean environment and only
its control socket (a ``SOCK_SEQPACKET`` pair, so each message keeps its boundary and can carry
file descriptors). Forking from an interpreter that already imported the SDK, Starlette and
MessagePack starts a plugin in milliseconds, and the pages they occupy stay shared.

Control messages are MessagePack maps, one per packet:

* host → template: ``{"t": "spawn", "id": n, "spec": {...}}`` with two descriptors: the child's end
  of its protocol socket and the write end of its output pipe;
* template → host: ``{"t": "spawned", "id": n, "pid": p}`` (or ``{"t": "failed", "id": n,
  "error": "..."}``), and ``{"t": "exited", "pid": p, "status": s}`` when a child ends (``s`` as
  ``waitpid`` reports it).

The template never runs plugin code and holds no secret: it dies with the host
(``PR_SET_PDEATHSIG``), and its children die with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import select
import signal
import socket
import sys
from pathlib import Path
from typing import Any, NoReturn

import msgpack

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
#: The protocol socket's descriptor number in the child.
CHILD_FD = 3


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the socket's end of stream still ends us
        pass


def _name_self(plugin: str) -> None:
    """``ps -o comm`` and ``top`` show the plugin (the kernel keeps 15 bytes)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, f"cp:{plugin}".encode()[:15], 0, 0, 0)


def _send(ctl: socket.socket, message: dict[str, Any]) -> None:
    ctl.send(msgpack.packb(message, use_bin_type=True))


def _child(spec: dict[str, Any], sock_fd: int, out_fd: int) -> NoReturn:
    """In the forked child: descriptors, environment and sandbox, then the plugin runtime."""
    code = 70
    try:
        os.setsid()
        _die_with_parent()
        _name_self(str(spec.get("plugin", "")))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host decides when we stop
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.dup2(sock_fd, CHILD_FD)
        from catalyst.plugins.process import bootstrap

        code = bootstrap.run(spec, CHILD_FD)
    except BaseException as exc:  # noqa: BLE001 - reported on stderr, the host keeps the tail
        with contextlib.suppress(OSError):
            os.write(2, f"catalyst child failed to start: {exc!r}\n".encode())
    finally:
        os._exit(code)


def _reap(ctl: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(ctl, {"t": "exited", "pid": pid, "status": status})


def serve(ctl: socket.socket) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    gc.collect()
    gc.freeze()  # what the template imported stays shared: children do not touch its refcounts
    while True:
        ready, _, _ = select.select([ctl.fileno(), wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
            _reap(ctl)
        if ctl.fileno() not in ready:
            continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(ctl, 1 << 20, 2)
        except OSError:
            return
        if not data:
            return  # the host is gone
        message = msgpack.unpackb(data, raw=False)
        if message.get("t") != "spawn" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _send(ctl, {"t": "failed", "id": message["id"], "error": str(exc)})
            continue
        if pid == 0:
            ctl.close()
            os.close(wake_r)
            os.close(wake_w)
            _child(message["spec"], fds[0], fds[1])
        for fd in fds:
            os.close(fd)
        _send(ctl, {"t": "spawned", "id": message["id"], "pid": pid})


def main() -> None:
    _die_with_parent()
    # Stopping is the host's call: it stops the children, then the template dies with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctl = socket.socket(fileno=int(sys.argv[1]))
    # Everything a plugin child needs, imported once here.
    import catalyst.plugins.process.bootstrap
    import catalyst.plugins.process.child  # noqa: F401

    os.chdir(Path("/"))
    serve(ctl)


if __name__ == "__main__":
    main()
