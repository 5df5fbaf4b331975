"""The plugin sandbox, each case in a real child: ``sandbox_probe.py`` cleans its environment,
closes inherited descriptors, applies the sandbox, tries one thing and prints what happened.

Without Landlock or seccomp on the running kernel, the cases that need them are skipped with the
reason, except with ``CI=true``, where they run (and fail)."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalyst.plugins.process import sandbox, seccomp
from catalyst.plugins.process.sandbox import SandboxSpec

PROBE = Path(__file__).with_name("sandbox_probe.py")
IN_CI = os.environ.get("CI", "").lower() == "true"
KERNEL = sandbox.probe()


def _needs(*layers: str) -> pytest.MarkDecorator:
    absent = [reason for reason in KERNEL.missing if reason.split(":")[0] in layers]
    return pytest.mark.skipif(bool(absent) and not IN_CI, reason="; ".join(absent))


needs_landlock = _needs("landlock")
needs_seccomp = _needs("seccomp")


@dataclass
class Folders:
    plugin: Path
    host_data: Path
    data: Path

    def spec(self, *, net_outbound: bool = False, memory_mb: int = 256, **extra: Any) -> str:
        return json.dumps(
            {
                "plugin": "demo",
                "plugin_folder": str(self.plugin),
                "data_folder": str(self.data),
                "net_outbound": net_outbound,
                "memory_mb": memory_mb,
                **extra,
            }
        )


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    """A plugin folder, and a host data folder laid out like the real one: the secret key and
    the database file in it, the plugin's data folder in ``plugins/demo``."""
    plugin = tmp_path / "plugins-src" / "demo"
    plugin.mkdir(parents=True)
    (plugin / "plugin.py").write_text("# the plugin's code\n")
    host_data = tmp_path / "data"
    data = host_data / "plugins" / "demo"
    data.mkdir(parents=True)
    (host_data / "secret.key").write_text("host-secret-key")
    (host_data / "catalyst.db").write_bytes(b"SQLite format 3\x00")
    return Folders(plugin, host_data, data)


def run_probe(
    spec: str,
    action: str,
    arg: object = "",
    *,
    pass_fds: tuple[int, ...] = (),
    env: dict[str, str] | None = None,
    expect_exit: int = 0,
) -> dict[str, Any]:
    env = {
        **os.environ,
        "CATALYST_SECRET_KEY": "host-secret",
        "CATALYST_DATA_DIR": "/srv/data",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, str(PROBE), spec, action, str(arg)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        pass_fds=pass_fds,
        check=False,
    )
    assert done.returncode == expect_exit, done.stderr
    if expect_exit:
        return {"stderr": done.stderr}
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def assert_denied(result: dict[str, Any], error: str = "PermissionError") -> None:
    assert result["ok"] is False, result
    assert result["error"] == error, result


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.skipif(KERNEL.level != "full" and not IN_CI, reason="; ".join(KERNEL.missing))
def test_every_layer_holds_and_cwd_is_the_plugin_folder(folders: Folders) -> None:
    result = run_probe(folders.spec(), "status")
    status = result["status"]
    assert status["missing"] == []
    assert status["layers"] == dict.fromkeys(sandbox.LAYERS, True)
    assert status["level"] == "full"
    assert status["landlock_abi"] == KERNEL.landlock_abi
    assert result["value"] == str(folders.plugin)


def test_layers_not_done_by_the_caller_are_reported_missing(folders: Folders) -> None:
    """The probe skips clean_environment and close_inherited_fds: apply() must not claim them."""
    read, write = os.pipe()
    try:
        result = run_probe(folders.spec(skip_cleanup=True), "status", pass_fds=(write,))
    finally:
        os.close(read)
        os.close(write)
    status = result["status"]
    assert status["layers"]["clean_env"] is False
    assert status["layers"]["no_inherited_fds"] is False
    assert status["level"] == "partial"
    assert any(m.startswith("clean_env:") and "CATALYST_SECRET_KEY" in m for m in status["missing"])
    assert any(m.startswith("no_inherited_fds:") and str(write) in m for m in status["missing"])


@needs_landlock
@pytest.mark.parametrize("name", ["secret.key", "catalyst.db"])
def test_host_data_folder_is_unreadable(folders: Folders, name: str) -> None:
    result = run_probe(folders.spec(), "read", folders.host_data / name)
    assert result["status"]["layers"]["landlock"] is True
    assert_denied(result)


@needs_landlock
def test_a_python_path_entry_above_the_data_folder_opens_nothing(folders: Folders) -> None:
    """With the host data folder's parent on sys.path (a repo root, say), it stays unreadable."""
    result = run_probe(
        folders.spec(),
        "read",
        folders.host_data / "secret.key",
        env={"PYTHONPATH": str(folders.host_data.parent)},
    )
    assert_denied(result)


@needs_landlock
def test_the_repo_root_is_unreadable(folders: Folders) -> None:
    repo_root = Path(__file__).resolve().parents[2]
    assert_denied(run_probe(folders.spec(), "read", repo_root / "pyproject.toml"))


@pytest.mark.skipif(os.geteuid() != 0, reason="capabilities are dropped when running as root")
def test_root_keeps_no_capability(folders: Folders) -> None:
    result = run_probe(folders.spec(), "read", "/proc/self/status")
    assert result["ok"] is True, result
    caps = dict(
        line.split(":\t") for line in result["value"].splitlines() if line.startswith("Cap")
    )
    assert {key: int(value, 16) for key, value in caps.items()} == {
        "CapInh": 0,
        "CapPrm": 0,
        "CapEff": 0,
        "CapBnd": 0,
        "CapAmb": 0,
    }


def test_plugin_folder_is_readable(folders: Folders) -> None:
    result = run_probe(folders.spec(), "read", folders.plugin / "plugin.py")
    assert result["ok"] is True, result
    assert result["value"] == "# the plugin's code\n"


@needs_landlock
def test_plugin_folder_is_not_writable(folders: Folders) -> None:
    result = run_probe(folders.spec(), "write", folders.plugin / "plugin.py")
    assert_denied(result)
    assert (folders.plugin / "plugin.py").read_text() == "# the plugin's code\n"


def test_data_folder_and_its_tmp_are_writable(folders: Folders) -> None:
    result = run_probe(folders.spec(), "write", folders.data / "state.json")
    assert result["ok"] is True, result
    assert (folders.data / "state.json").read_text() == "written by the sandboxed child"
    result = run_probe(folders.spec(), "tempfile")
    assert result["ok"] is True, result
    assert Path(result["value"]).parent == folders.data / "tmp"


@needs_seccomp
def test_tcp_connect_is_denied_without_net_outbound(folders: Folders, listener: int) -> None:
    assert_denied(run_probe(folders.spec(), "connect", listener))


def test_tcp_connect_works_with_net_outbound(folders: Folders, listener: int) -> None:
    result = run_probe(folders.spec(net_outbound=True), "connect", listener)
    assert result["ok"] is True, result


@needs_landlock
@needs_seccomp
@pytest.mark.parametrize("net_outbound", [False, True])
@pytest.mark.parametrize(("action", "port"), [("bind", 0), ("bind", 47_613), ("listen", "")])
def test_tcp_bind_and_listen_are_denied(
    folders: Folders, net_outbound: bool, action: str, port: object
) -> None:
    result = run_probe(folders.spec(net_outbound=net_outbound), action, port)
    assert result["status"]["layers"]["landlock_net"] is True
    assert_denied(result)


@needs_seccomp
@pytest.mark.parametrize("action", ["fork", "subprocess"])
def test_no_new_processes(folders: Folders, action: str) -> None:
    result = run_probe(folders.spec(), action)
    assert result["status"]["layers"]["seccomp"] is True
    assert_denied(result)
    assert result["errno"] == "EPERM"


def test_threads_still_start(folders: Folders) -> None:
    result = run_probe(folders.spec(), "thread")
    assert result["status"]["layers"]["seccomp"] is KERNEL.layers["seccomp"]
    assert result["ok"] is True, result
    assert result["value"] == ["Thread-1 (<lambda>)"]


def test_memory_beyond_the_limit_raises_memory_error(folders: Folders) -> None:
    within = run_probe(folders.spec(memory_mb=64), "alloc", 16)
    assert within["ok"] is True, within
    assert within["status"]["layers"]["rlimits"] is True
    assert_denied(run_probe(folders.spec(memory_mb=64), "alloc", 128), "MemoryError")


def test_environment_is_only_the_clean_one(folders: Folders) -> None:
    result = run_probe(folders.spec(extra_env={"PLUGIN_MODE": "test"}), "env")
    assert result["value"] == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(folders.data),
        "TMPDIR": str(folders.data / "tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PLUGIN_MODE": "test",
    }
    assert not [key for key in result["value"] if key.startswith("CATALYST_")]
    assert result["status"]["layers"]["clean_env"] is True


def test_inherited_descriptors_are_closed(folders: Folders) -> None:
    read, write = os.pipe()
    try:
        result = run_probe(folders.spec(), "fstat", write, pass_fds=(write,))
    finally:
        os.close(read)
        os.close(write)
    assert_denied(result, "OSError")
    assert result["errno"] == "EBADF"
    assert result["status"]["layers"]["no_inherited_fds"] is True


@needs_landlock
def test_cannot_signal_the_host(folders: Folders) -> None:
    result = run_probe(folders.spec(), "signal", os.getpid())
    assert result["status"]["layers"]["landlock_scopes"] is True
    assert_denied(result)


@needs_landlock
def test_cannot_reach_the_hosts_abstract_unix_sockets(folders: Folders) -> None:
    name = f"catalyst-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\0" + name)
        server.listen()
        assert_denied(run_probe(folders.spec(), "abstract_unix", name))


def test_apply_refuses_a_second_thread(folders: Folders) -> None:
    result = run_probe(folders.spec(start_thread=True), "status", expect_exit=1)
    assert "SandboxError: 2 threads" in result["stderr"]


def test_probe_names_each_missing_layer_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sandbox, "_kernel", lambda: (0, errno.ENOSYS, False, "no filter for architecture sparc")
    )
    status = sandbox.probe()
    assert status.level == "partial"
    assert status.landlock_abi == 0
    assert {k for k, held in status.layers.items() if not held} == {
        "landlock",
        "landlock_net",
        "landlock_scopes",
        "seccomp",
    }
    assert "landlock: kernel offers no Landlock (ENOSYS)" in status.missing
    assert "seccomp: no filter for architecture sparc" in status.missing


def test_clean_environment_creates_tmp_and_keeps_its_five_fixed(tmp_path: Path) -> None:
    spec = SandboxSpec("demo", tmp_path, tmp_path / "data", False, 64, {"HOME": "/root", "X": "1"})
    env = sandbox.clean_environment(spec)
    assert (tmp_path / "data" / "tmp").is_dir()
    assert env["HOME"] == str(tmp_path / "data")
    assert env["X"] == "1"


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_filter_builds_for_both_arches(machine: str) -> None:
    for net_outbound in (False, True):
        code = seccomp.program(net_outbound, machine)
        assert code[-1] == (0x06, 0, 0, 0x80000000)  # the wrong-arch kill is reachable
        assert all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in code)
    with pytest.raises(seccomp.SeccompUnsupported):
        seccomp.program(False, "sparc64")
