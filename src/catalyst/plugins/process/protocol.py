"""The plugin protocol's wire format: frames, encoding, and the error a peer reports.

Every message is one frame: a 4-byte big-endian unsigned length, then that many bytes of
MessagePack encoding one map. The map's ``"t"`` says what the message is; requests that expect an
answer carry an ``"id"`` (an integer unique per sender and connection), and the answer is a
``result`` or an ``error`` with the same id. ``docs/plugin-protocol.md`` lists every message; this
module holds only what both sides of the Python implementation share.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import struct
from collections.abc import Mapping
from typing import Any, Final

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


def _fallback(value: Any) -> Any:
    """Values MessagePack has no type for: times as ISO 8601 text, sets as lists, anything else
    as its ``str`` (as a JSON encoder with ``default=str`` would)."""
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    return str(value)


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
            payload, raw=False, strict_map_key=False, unicode_errors="surrogatepass"
        )
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ProtocolError(f"undecodable frame: {exc}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("a frame must hold a map with a string 't'")
    return message


async def read(reader: asyncio.StreamReader) -> Message | None:
    """The next message, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("stream ended inside a frame header") from exc
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
    try:
        payload = await reader.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError("stream ended inside a frame") from exc
    return decode(payload)
