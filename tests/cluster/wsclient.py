"""A logged-in ``/ws`` connection to one instance whose messages a reader thread collects."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

Message = dict[str, Any]


class WsClient:
    """``WsClient(instance.base, token)``: connects to ``/ws?token=``, reads ``welcome``
    (``client_id``), then collects every message with its arrival time (``time.time()``)."""

    def __init__(self, base: str, token: str, *, timeout: float = 10.0) -> None:
        url = base.replace("http://", "ws://", 1) + f"/ws?token={token}"
        self._stack = ExitStack()  # websockets wants connect() used as a context manager
        self.conn = self._stack.enter_context(
            connect(url, open_timeout=timeout, max_size=2**22, compression=None)
        )
        welcome = json.loads(self.conn.recv(timeout=timeout))
        assert welcome["type"] == "welcome", welcome
        self.client_id: str = welcome["data"]["clientId"]
        self.user: dict[str, Any] = welcome["data"].get("user") or {}
        #: (arrival time.time(), message), in arrival order.
        self.messages: list[tuple[float, Message]] = []
        self.closed = False
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True, name="ws-reader")
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.conn:
                message = json.loads(raw)
                with self._seen:
                    self.messages.append((time.time(), message))
                    self._seen.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._seen:
                self.closed = True
                self._seen.notify_all()

    def of_type(self, kind: str) -> list[Message]:
        with self._seen:
            return [m for _, m in self.messages if m.get("type") == kind]

    def wait_for(
        self, match: Callable[[Message], bool], timeout: float = 5.0, *, after: int = 0
    ) -> tuple[float, Message]:
        """The first message (from index ``after`` on) that ``match``es, with its arrival time;
        fails after ``timeout`` seconds listing what arrived."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for arrived, message in self.messages[after:]:
                    if match(message):
                        return arrived, message
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    kinds = [m.get("type") for _, m in self.messages]
                    state = "closed" if self.closed else "open"
                    raise AssertionError(
                        f"no matching message within {timeout} s ({state}): {kinds}"
                    )
                self._seen.wait(left)

    def mark(self) -> int:
        """The index the next message will have (for ``wait_for(after=...)``)."""
        with self._seen:
            return len(self.messages)

    def close(self) -> None:
        self._stack.close()
        self._reader.join(5)

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
