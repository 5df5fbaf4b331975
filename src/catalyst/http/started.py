"""``StartedSend``: an ASGI ``send`` that remembers whether the response has started.

Middleware that turns an exception into a JSON answer needs to know whether headers already went
out (then the only thing left is to drop the connection).
"""

from __future__ import annotations

from starlette.types import Message, Send


class StartedSend:
    """Wraps ``send``; ``started`` is True once ``http.response.start`` was sent."""

    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
