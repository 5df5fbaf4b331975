"""The plugin protocol's wire format: frames, encoding, and the error a peer reports.

Every message is one frame: a 4-byte big-endian unsigned length, then that many bytes of
MessagePack encoding one map. The map's ``"t"`` says what the message is; requests that expect an
answer carry an ``"id"`` (an integer unique per sender and connection), and the answer is a
``result`` or an ``error`` with the same id. ``docs/plugin-protocol.md`` lists every message; this
module holds only what both sides of the Python implementation share.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import msgpack

#: Bumped on any change a peer must know about; the handshake refuses a different major.
PROTOCOL_VERSION: Final = 1
#: The largest frame either side accepts (a request or response body fits well below it).
MAX_FRAME: Final = 64 * 1024 * 1024
_HEADER: Final = struct.Struct(">I")

Message = dict[str, Any]


class ProtocolError(Exception):
    """The peer broke the protocol (oversized or undecodable frame, wrong handshake)."""


class RemoteError(Exception):
    """An error the other side reported for a request: its type name, message, HTTP status
    when it is a refusal the plugin author meant (``HTTPError``, ``ConfigError``...), and the
    traceback where the error was raised (in the child for plugin code)."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        remote_traceback: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.remote_traceback = remote_traceback
        #: What :func:`catalyst.errors.describe` shows: the original type and message.
        self.remote_description = f"{kind}: {message}" if message else kind

    def wire(self) -> Message:
        return error_body(self.kind, self.message, self.status, self.remote_traceback)


def error_body(
    kind: str, message: str, status: int | None = None, trace: str | None = None
) -> Message:
    return {"type": kind, "message": message, "status": status, "traceback": trace}


def from_wire(body: Mapping[str, Any]) -> RemoteError:
    status = body.get("status")
    return RemoteError(
        str(body.get("type") or "Error"),
        str(body.get("message") or ""),
        status=status if isinstance(status, int) else None,
        remote_traceback=body.get("traceback") if isinstance(body.get("traceback"), str) else None,
    )


#: MessagePack extension types: an integer beyond 64 bits (as decimal text), and a value of a
#: type the protocol has no encoding for (as ``[type name, repr]``).
EXT_BIG_INT: Final = 1
EXT_FOREIGN: Final = 2


class Foreign:
    """A value the sender could not encode (a set, a datetime, an object): it arrives as this,
    so the receiver refuses it where the in-process runtime would (storage, JSON answers)
    instead of the wire quietly turning it into something else."""

    __slots__ = ("repr", "type_name")

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.repr = type_name, text

    def __repr__(self) -> str:
        return f"<{self.type_name} {self.repr}>"


def _fallback(value: Any) -> Any:
    if isinstance(value, int):  # beyond 64 bits
        return msgpack.ExtType(EXT_BIG_INT, str(value).encode())
    if isinstance(value, Foreign):
        payload = [value.type_name, value.repr]
    else:
        payload = [type(value).__name__, repr(value)[:200]]
    return msgpack.ExtType(EXT_FOREIGN, msgpack.packb(payload, use_bin_type=True))


def _ext(code: int, data: bytes) -> Any:
    if code == EXT_BIG_INT:
        return int(data.decode())
    if code == EXT_FOREIGN:
        name, text = msgpack.unpackb(data, raw=False)
        return Foreign(str(name), str(text))
    return msgpack.ExtType(code, data)


def encode(message: Mapping[str, Any]) -> bytes:
    """One frame: length prefix and the MessagePack map."""
    # Lone surrogates (valid in a Python str, as JSON can carry them) cross as they are, for the
    # receiver to refuse where the in-process runtime would (storage, the database).
    payload: bytes = msgpack.packb(
        message,
        default=_fallback,
        use_bin_type=True,
        datetime=False,
        unicode_errors="surrogatepass",
    )
    if len(payload) > MAX_FRAME:
        raise ProtocolError(f"message of {len(payload)} bytes exceeds {MAX_FRAME}")
    return _HEADER.pack(len(payload)) + payload


def decode(payload: bytes) -> Message:
    try:
        message = msgpack.unpackb(
            payload,
            raw=False,
            strict_map_key=False,
            unicode_errors="surrogatepass",
            ext_hook=_ext,
        )
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ProtocolError(f"undecodable frame: {exc}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("a frame must hold a map with a string 't'")
    return message


class FrameProtocol(asyncio.Protocol):
    """Frames in and out of a stream socket, with no reader task: each complete frame read is
    decoded and handed to ``on_message`` as it arrives (one loop turn less per message than a
    stream reader), and ``on_closed`` is called once, with the error that ended it (a broken
    frame, a lost connection) or None at a clean end."""

    def __init__(
        self,
        on_message: Callable[[Message], None],
        on_closed: Callable[[BaseException | None], None],
    ) -> None:
        self.on_message = on_message
        self.on_closed = on_closed
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._ended = False
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        try:
            while len(buffer) - start >= 4:
                (size,) = _HEADER.unpack_from(buffer, start)
                if size > MAX_FRAME:
                    raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
                end = start + 4 + size
                if len(buffer) < end:
                    break
                message = decode(bytes(buffer[start + 4 : end]))
                start = end
                self.on_message(message)
                if self._ended:
                    return
        except ProtocolError as exc:
            self._end(exc)
            return
        finally:
            if start:
                del buffer[:start]

    def send(self, message: Mapping[str, Any]) -> None:
        if self.transport is not None and not self._ended:
            self.transport.write(encode(message))

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def drain(self) -> None:
        """Wait until the peer has read enough of what was written (streamed bodies)."""
        if not self._ended:
            await self._writable.wait()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(exc)

    def eof_received(self) -> bool:
        self._end(None)
        return False

    def _end(self, exc: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._writable.set()
        if self.transport is not None:
            self.transport.close()
        self.on_closed(exc)

    def close(self) -> None:
        self._end(None)
