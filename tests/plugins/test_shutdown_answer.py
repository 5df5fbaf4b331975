"""SIGTERM to the real `catalyst serve` while plugin requests hang: their callers get the JSON
503 "The host is shutting down" (not uvicorn's text 500 of a cancelled task), async and sync
handlers alike."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.plugin_helpers import copy_fixture
from tests.serve_subprocess import serving


@pytest.mark.slow
def test_sigterm_answers_hanging_plugin_requests_503_json(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    copy_fixture(plugins, "hang")
    out = tmp_path / "data" / "plugins" / "hang" / "out"  # the plugin's ctx.data_dir
    answers: dict[str, httpx.Response | Exception] = {}
    grace = {"CATALYST_SHUTDOWN_GRACE_SECONDS": "1"}
    with serving(tmp_path, plugins, ["hang"], grace) as served:
        proc, base, headers = served.proc, served.base, served.headers

        def call(path: str) -> None:
            try:
                answers[path] = httpx.get(
                    f"{base}/api/plugins/hang{path}", headers=headers, timeout=60
                )
            except httpx.HTTPError as exc:
                answers[path] = exc

        clients = [threading.Thread(target=call, args=(p,)) for p in ("/hang", "/hang-sync")]
        for client in clients:
            client.start()
        while not ((out / "async").exists() and (out / "sync").exists()):
            assert proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        for client in clients:
            client.join(timeout=60)
        log = proc.stdout.read() if proc.stdout else ""
        for path in ("/hang", "/hang-sync"):
            answer = answers[path]
            assert isinstance(answer, httpx.Response), f"{path}: {answer!r}\n{log}"
            assert answer.status_code == 503, f"{path}: {answer.text}\n{log}"
            assert answer.json() == {"success": False, "error": "The host is shutting down"}
