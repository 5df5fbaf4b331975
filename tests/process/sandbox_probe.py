"""Run as a child by ``test_sandbox.py``: ``sandbox_probe.py <json spec> <action> [arg]``.

Does what the child bootstrap does (clean environment, close inherited descriptors, apply the
sandbox), then tries one action and prints one JSON line: ``{"status": …, "ok": bool,
"value": …, "error": "PermissionError", "errno": "EPERM"}``.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalyst.plugins.process.sandbox import (
    SandboxSpec,
    apply,
    clean_environment,
    close_inherited_fds,
)


def _read(arg: str) -> Any:
    return Path(arg).read_text()[:2000]


def _write(arg: str) -> Any:
    Path(arg).write_text("written by the sandboxed child")
    return arg


def _connect(arg: str) -> Any:
    import socket

    with socket.create_connection(("127.0.0.1", int(arg)), timeout=5):
        return "connected"


def _bind(arg: str) -> Any:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", int(arg)))
        sock.listen()
        return sock.getsockname()[1]


def _listen(arg: str) -> Any:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.listen()  # no bind: the kernel picks a port
        return sock.getsockname()[1]


def _fork(arg: str) -> Any:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _subprocess(arg: str) -> Any:
    import subprocess

    return subprocess.run(["true"], check=False).returncode


def _thread(arg: str) -> Any:
    import threading

    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(threading.current_thread().name))
    thread.start()
    thread.join(10)
    return seen


def _alloc(arg: str) -> Any:
    block = bytearray(int(arg) * 1024 * 1024)
    return len(block)


def _env(arg: str) -> Any:
    return dict(os.environ)


def _fstat(arg: str) -> Any:
    return os.fstat(int(arg)).st_size


def _signal(arg: str) -> Any:
    os.kill(int(arg), 0)
    return "delivered"


def _abstract_unix(arg: str) -> Any:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("\0" + arg)
        return "connected"


def _tempfile(arg: str) -> Any:
    import tempfile

    with tempfile.NamedTemporaryFile() as handle:
        return handle.name


ACTIONS: dict[str, Callable[[str], Any]] = {
    "status": lambda arg: os.getcwd(),
    "read": _read,
    "write": _write,
    "connect": _connect,
    "bind": _bind,
    "listen": _listen,
    "fork": _fork,
    "subprocess": _subprocess,
    "thread": _thread,
    "alloc": _alloc,
    "env": _env,
    "fstat": _fstat,
    "signal": _signal,
    "abstract_unix": _abstract_unix,
    "tempfile": _tempfile,
}


def main() -> None:
    raw = json.loads(sys.argv[1])
    action, arg = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
    spec = SandboxSpec(
        plugin=raw["plugin"],
        plugin_folder=Path(raw["plugin_folder"]),
        data_folder=Path(raw["data_folder"]),
        net_outbound=raw["net_outbound"],
        memory_mb=raw["memory_mb"],
        extra_env=raw.get("extra_env", {}),
    )
    if not raw.get("skip_cleanup"):  # to check that apply() reports what it did not see done
        env = clean_environment(spec)
        os.environ.clear()
        os.environ.update(env)
        close_inherited_fds(keep=())
    if raw.get("start_thread"):  # apply() must refuse: Landlock and seccomp bind one thread
        import threading

        threading.Thread(target=threading.Event().wait, daemon=True).start()
    status = apply(spec)
    result: dict[str, Any] = {"status": dataclasses.asdict(status), "ok": True}
    try:
        result["value"] = ACTIONS[action](arg)
    except BaseException as exc:
        result.update(ok=False, error=type(exc).__name__, message=str(exc))
        number = getattr(exc, "errno", None)
        result["errno"] = errno.errorcode.get(number, None) if isinstance(number, int) else None
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
