"""The host's side of the template process: start it once, ask it for children, hear them end.

One template serves every plugin of this host process (it keeps no state but its children). It
is started on first use with a clean environment and only its control socket, and started again
if it ever dies (its children die with it and are restarted by their supervisors).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import msgpack

from catalyst.log import get_logger

log = get_logger("plugins.process")
#: The environment of the template (and so of each child before it sets its own).
TEMPLATE_ENV: Final = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

ExitListener = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Spawned:
    pid: int
    #: The host's end of the child's protocol socket (a stream socket pair).
    sock: socket.socket
    #: The read end of the pipe the child's stdout and stderr go to.
    output: int


class TemplateGone(Exception):
    """The template process ended; children cannot be started until it is back."""


class Template:
    """A running template process, its control socket, and the thread that listens to it.

    One per host process, whatever event loops use it (tests run many hosts, each on its own
    loop): answers and exit notices are handed to the loop that asked."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]] = {}
        #: pid → (loop, listener) called with the ``waitpid`` status when that child ends.
        self._exits: dict[int, tuple[asyncio.AbstractEventLoop, ExitListener]] = {}
        #: Statuses of children that ended before anybody listened.
        self._early: dict[int, int] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctl: socket.socket | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._ctl is not None

    def _start(self) -> None:
        host_end, template_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "catalyst.plugins.process.template", str(template_end.fileno())],
            env=TEMPLATE_ENV,
            stdin=subprocess.DEVNULL,
            pass_fds=(template_end.fileno(),),
            close_fds=True,
            cwd="/",
            start_new_session=True,  # a terminal's Ctrl-C is the host's to handle, not its
        )
        template_end.close()
        self._ctl = host_end
        reader = threading.Thread(
            target=self._listen, args=(host_end,), name="catalyst-template", daemon=True
        )
        reader.start()
        log.info("plugin_template_started", pid=self._proc.pid)

    def start_early(self) -> None:
        """Start the template now (it imports for a second or two), not at the first spawn."""
        with self._lock:
            self._ensure_running()

    def _ensure_running(self) -> None:
        """(Re)start the template unless it runs; the caller holds the lock."""
        if not self.running:
            self._stop()
            self._start()

    def _listen(self, ctl: socket.socket) -> None:
        while True:
            try:
                data = ctl.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                self._gone(ctl)
                return
            self._handle(msgpack.unpackb(data, raw=False))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind in ("spawned", "failed"):
            with self._lock:
                waiting = self._waiting.pop(message["id"], None)
            if waiting is not None:
                loop, fut = waiting
                if kind == "spawned":
                    _call(loop, _resolve, fut, int(message["pid"]), None)
                else:
                    error = OSError(f"fork failed: {message.get('error')}")
                    _call(loop, _resolve, fut, 0, error)
        elif kind == "exited":
            pid, status = int(message["pid"]), int(message["status"])
            with self._lock:
                entry = self._exits.pop(pid, None)
                if entry is None:
                    self._early[pid] = status
            if entry is not None:
                _call(entry[0], entry[1], status)

    def _gone(self, ctl: socket.socket) -> None:
        with self._lock:
            if self._ctl is ctl:
                self._ctl = None
            waiting, self._waiting = self._waiting, {}
            # Its children were killed with it (PR_SET_PDEATHSIG): nobody will reap them.
            exits, self._exits = self._exits, {}
        ctl.close()
        for loop, fut in waiting.values():
            _call(loop, _resolve, fut, 0, TemplateGone("the plugin template process ended"))
        for loop, listener in exits.values():
            _call(loop, listener, -1)
        if self._proc is not None:
            log.warning("plugin_template_ended", returncode=self._proc.poll())

    async def spawn(self, spec: dict[str, Any]) -> Spawned:
        """Fork a child for ``spec`` (see :mod:`catalyst.plugins.process.bootstrap`)."""
        loop = asyncio.get_running_loop()
        host_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        fut: asyncio.Future[int] = loop.create_future()
        request_id = next(self._ids)
        try:
            with self._lock:
                self._ensure_running()
                assert self._ctl is not None
                self._waiting[request_id] = (loop, fut)
                packet = msgpack.packb({"t": "spawn", "id": request_id, "spec": spec})
                socket.send_fds(self._ctl, [packet], [child_sock.fileno(), out_w])
            pid = await fut
        except BaseException:
            host_sock.close()
            os.close(out_r)
            with self._lock:
                self._waiting.pop(request_id, None)
            raise
        finally:
            child_sock.close()
            os.close(out_w)
        return Spawned(pid, host_sock, out_r)

    def on_exit(self, pid: int, listener: ExitListener) -> None:
        """Call ``listener(status)`` on this loop once ``pid`` ends (soon if it already has)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            status = self._early.pop(pid, None)
            if status is None:
                self._exits[pid] = (loop, listener)
        if status is not None:
            loop.call_soon(listener, status)

    def _stop(self) -> None:
        if self._ctl is not None:
            self._ctl.close()  # the listening thread ends on it
            self._ctl = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def _resolve(fut: asyncio.Future[int], pid: int, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(pid)


def _call(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
        loop.call_soon_threadsafe(fn, *args)


_template: Template | None = None


def template() -> Template:
    """This host process's template (started on first spawn)."""
    global _template
    if _template is None:
        _template = Template()
    return _template
