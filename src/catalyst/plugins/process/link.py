"""The host's end of one child's connection: requests and their answers, the child's calls and
log records, its output, liveness and resource watch, and how it ended.

When the connection ends (the child exited, was killed, or broke the protocol) every request
still waiting fails with :class:`catalyst.errors.BadGateway`, and ``on_exit`` is told why, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response, StreamingResponse

from catalyst.errors import BadGateway
from catalyst.log import get_logger
from catalyst.plugins.process import protocol
from catalyst.plugins.process.protocol import Message, ProtocolError
from catalyst.plugins.process.spawner import Spawned, template
from catalyst.plugins.process.status import ExitInfo

log = get_logger("plugins.process")
_TICKS = os.sysconf("SC_CLK_TCK")
TAIL_BYTES = 4096
#: Messages waiting to be read by a child that are more than this mean it stopped reading (its
#: loop blocked for good, or it is hostile): it is killed rather than fill the host's memory.
MAX_BACKLOG = 256 * 1024 * 1024


def exit_reason(status: int) -> str:
    """A ``waitpid`` status in words."""
    if status < 0:
        return "ended with the plugin template process"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"killed by {name}"
    code = os.WEXITSTATUS(status)
    if code == 66:
        return "out of memory (MemoryError)"
    if code == 65:
        return "broke the plugin protocol (exit code 65)"
    if code == 70:
        return "failed to start (exit code 70)"
    return f"exit code {code}"


class ChildLink:
    """One running child and its protocol connection."""

    def __init__(
        self,
        plugin: str,
        spawned: Spawned,
        *,
        on_call: Callable[[Message], None],
        on_log: Callable[[Message], None],
        on_output: Callable[[str], None],
    ) -> None:
        self.plugin = plugin
        self.pid = spawned.pid
        self._spawned = spawned
        self._on_call, self._on_log, self._on_output = on_call, on_log, on_output
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._streams: dict[int, asyncio.Queue[Message | None]] = {}
        self._writer: protocol.FrameProtocol | None = None
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._tasks: list[asyncio.Task[Any]] = []
        #: Why the host killed the child (unresponsive, memory), to tell instead of the signal.
        self._killed_for: str | None = None
        self.exit: ExitInfo | None = None
        self.exited = asyncio.Event()
        #: Set whenever no request waits for an answer.
        self.idle = asyncio.Event()
        self.idle.set()
        self._inflight = 0
        self._status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.on_exit: list[Callable[[ExitInfo], None]] = []
        self.sandbox: dict[str, Any] = {}
        self.runtime = ""

    # -- start and stop ----------------------------------------------------------------------

    async def start(self, hello: Message, timeout: float) -> None:  # noqa: ASYNC109
        """Handshake; raises :class:`ProtocolError` or TimeoutError (the child is then killed)."""
        template().on_exit(self.pid, self._ended)
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[Message | None] = loop.create_future()

        def first(message: Message) -> None:  # the child's hello; then every message
            if not answered.done():
                answered.set_result(message)
            else:
                self._dispatch(message)

        def closed(exc: BaseException | None) -> None:
            if not answered.done():
                answered.set_result(None)
            if isinstance(exc, ProtocolError):
                log.warning("plugin_protocol_broken", plugin=self.plugin, error=str(exc))
                self.kill(f"broke the plugin protocol: {exc}")
            self._closed()

        _transport, self._writer = await loop.create_unix_connection(
            lambda: protocol.FrameProtocol(first, closed), sock=self._spawned.sock
        )
        self._tasks.append(loop.create_task(self._read_output()))
        self._writer.send(hello)
        try:
            async with asyncio.timeout(timeout):
                answer = await answered
        except BaseException:
            self.kill("no handshake")
            raise
        if answer is None or answer.get("t") != "hello":
            self.kill("bad handshake")
            raise ProtocolError(f"expected a hello, got {answer!r}")
        if answer.get("protocol") != protocol.PROTOCOL_VERSION:
            self.kill("protocol version")
            raise ProtocolError(f"protocol {answer.get('protocol')!r} is not supported")
        self.sandbox = dict(answer.get("sandbox") or {})
        self.runtime = str(answer.get("runtime") or "")

    def kill(self, reason: str) -> None:
        """SIGKILL the child; ``reason`` is what its exit will say."""
        if self.exit is None and self._killed_for is None:
            self._killed_for = reason
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    async def shutdown(self, grace: float) -> None:
        """Ask the child to stop; kill it after ``grace`` seconds."""
        if self.exit is None:
            self.notify({"t": "shutdown"})
            try:
                async with asyncio.timeout(grace):
                    await self.exited.wait()
            except TimeoutError:
                self.kill("did not stop when asked")
                await self.exited.wait()

    # -- messages ----------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.exit is None and self._writer is not None

    def notify(self, message: Message) -> None:
        writer = self._writer
        if writer is not None and self.exit is None and writer.transport is not None:
            writer.send(message)
            if writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                self.kill(f"stopped reading: over {MAX_BACKLOG // 1048576} MiB of messages wait")

    def request(self, message: Message) -> tuple[int, asyncio.Future[Message]]:
        """Send a request; the future holds the answer message (``result``, ``error``,
        ``http.response``, ``http.start`` or ``pong``). The caller ends it with :meth:`_done`."""
        if not self.alive:
            raise self._gone()
        request_id = next(self._ids)
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = fut
        self._inflight += 1
        self.idle.clear()
        message["id"] = request_id
        self.notify(message)
        return request_id, fut

    def _done(self, request_id: int) -> None:
        """A request is over (answered, failed, or its streamed body ended)."""
        self._pending.pop(request_id, None)
        self._inflight -= 1
        if self._inflight == 0:
            self.idle.set()

    async def call(self, message: Message) -> Any:
        """A request whose answer is a ``result`` value (an ``error`` raises RemoteError)."""
        request_id, fut = self.request(message)
        try:
            answer = await fut
        except asyncio.CancelledError:
            self.notify({"t": "cancel", "id": request_id})
            raise
        finally:
            self._done(request_id)
        if answer["t"] == "error":
            raise protocol.from_wire(answer.get("error") or {})
        if answer["t"] != "result":
            self.kill(f"broke the plugin protocol: {answer['t']!r} answering {message['t']!r}")
            raise BadGateway(f"Plugin {self.plugin!r} answered {message['t']!r} wrongly")
        return answer.get("value")

    async def http(self, message: Message) -> Response:
        request_id, fut = self.request(message)
        streamed = False
        try:
            answer = await fut
            kind = answer["t"]
            if kind not in ("http.response", "http.start", "error") or (
                kind != "error" and not isinstance(answer.get("status"), int)
            ):
                self.kill(f"broke the plugin protocol: {kind!r} answering an http request")
                raise BadGateway(f"Plugin {self.plugin!r} answered an HTTP request with {kind!r}")
            if kind == "error":
                raise protocol.from_wire(answer.get("error") or {})
            headers = [(bytes(k), bytes(v)) for k, v in answer.get("headers") or ()]
            if kind == "http.response":
                response = Response(answer.get("body") or b"", status_code=answer["status"])
                response.raw_headers = headers
                return response
            body = self._body(request_id, self._streams[request_id])
            stream = StreamingResponse(body, status_code=answer["status"])
            stream.raw_headers = headers
            streamed = True
            return stream
        except asyncio.CancelledError:
            self.notify({"t": "cancel", "id": request_id})
            raise
        finally:
            if not streamed:
                self._streams.pop(request_id, None)
                self._done(request_id)

    async def _body(
        self, request_id: int, queue: asyncio.Queue[Message | None]
    ) -> AsyncIterator[bytes]:
        complete = False
        try:
            while True:
                chunk = await queue.get()
                if chunk is None:
                    raise BadGateway(f"Plugin {self.plugin!r} ended while streaming its answer")
                if chunk["t"] == "error":
                    complete = True  # the child gave up on it: nothing to cancel
                    raise protocol.from_wire(chunk.get("error") or {})
                if chunk.get("body"):
                    yield bytes(chunk["body"])
                if not chunk.get("more"):
                    complete = True
                    return
        finally:
            self._streams.pop(request_id, None)
            if not complete:  # the client went away, or the child did
                self.notify({"t": "cancel", "id": request_id})
            self._done(request_id)

    async def ping(self, timeout: float) -> bool:  # noqa: ASYNC109
        try:
            request_id, fut = self.request({"t": "ping"})
        except BadGateway:
            return False
        try:
            async with asyncio.timeout(timeout):
                await fut
            return True
        except TimeoutError:
            return False
        finally:
            self._done(request_id)

    def _dispatch(self, message: Message) -> None:
        kind = message["t"]
        if kind == "call":
            self._on_call(message)
        elif kind == "log":
            self._on_log(message)
        elif kind == "http.body" or (kind == "error" and message.get("id", -1) in self._streams):
            queue = self._streams.get(message.get("id", -1))  # a streamed answer: its next part
            if queue is not None:
                queue.put_nowait(message)
        else:  # result, error, pong, http.response, http.start
            request_id = message.get("id", -1)
            fut = self._pending.get(request_id)
            if fut is not None and not fut.done():
                if kind == "http.start":  # its parts follow: queue them from now on
                    self._streams[request_id] = asyncio.Queue()
                fut.set_result(message)

    async def drain(self, grace: float) -> None:
        """Wait (at most ``grace`` seconds) until no request waits for the child: what a
        retiring generation still serves finishes before its child is stopped."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.idle.wait()

    def _gone(self) -> BadGateway:
        why = self.exit.reason if self.exit else "its connection closed"
        return BadGateway(f"Plugin {self.plugin!r} is not running ({why})")

    def _closed(self) -> None:
        """The connection ended: fail what waits. The exit itself is reported by ``_ended``."""
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        why = self._killed_for or "its process exited"
        error = BadGateway(f"Plugin {self.plugin!r} ended before answering ({why})")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(error)
        self._pending.clear()
        for queue in self._streams.values():
            queue.put_nowait(None)
        # Without an exit notice soon (the template died with it), the child is gone all the same.
        asyncio.get_running_loop().call_later(2.0, self._ended, -2)

    def _ended(self, status: int) -> None:
        if self.exit is not None:
            return
        if status == -2:
            reason = self._killed_for or "its connection closed"
        else:
            reason = self._killed_for or exit_reason(status)
        self.exit = ExitInfo(reason, datetime.now(UTC).isoformat(), self.output_tail())
        self.exited.set()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(self._gone())
        for listener in self.on_exit:
            try:
                listener(self.exit)
            except Exception:
                log.exception("plugin_exit_listener_failed", plugin=self.plugin)

    # -- output and resources ----------------------------------------------------------------

    async def _read_output(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(self._spawned.output, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
        try:
            while line := await reader.readline():
                self._tail.append(line)
                self._tail_size += len(line)
                while self._tail_size > TAIL_BYTES and len(self._tail) > 1:
                    self._tail_size -= len(self._tail.popleft())
                self._on_output(line.decode("utf-8", "replace").rstrip("\n"))
        finally:
            transport.close()

    def output_tail(self) -> str:
        return b"".join(self._tail).decode("utf-8", "replace")[-TAIL_BYTES:]

    def usage(self) -> tuple[int | None, float | None]:
        """(unique memory in bytes, CPU seconds) of the running child. Unique memory (USS: its
        private pages) is what the child costs beyond the template it was forked from; the pages
        it still shares with the template are not counted against its limit."""
        if self.exit is not None:
            return None, None
        try:
            private = 0
            with open(f"/proc/{self.pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                        private += int(line.split()[1]) * 1024
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, ValueError, IndexError):
            return None, None
        return private, cpu

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
