"""The hub's queueing rules, with in-memory sockets: drop by time or bytes, never by count;
coalescing keeps the order; sends from worker threads arrive in order."""

from __future__ import annotations

import asyncio
import threading

from catalyst.auth.sessions import Principal
from catalyst.ws.hub import CLOSE_TOO_SLOW, Hub

ADMIN = Principal(1, "admin", ("admin",), frozenset({"*"}))


class Socket:
    """Records what was sent; ``stall()`` makes sends wait until ``resume()``."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: list[int] = []
        self.open = asyncio.Event()
        self.open.set()
        self.sending = asyncio.Event()
        self.was_closed = asyncio.Event()

    def stall(self) -> None:
        self.open.clear()

    def resume(self) -> None:
        self.open.set()

    async def send(self, text: str) -> None:
        self.sending.set()
        await self.open.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)
        self.was_closed.set()


async def settle(hub: Hub, sock: Socket, count: int) -> None:
    """Until ``sock`` got ``count`` messages (a bounded poll: the hub's sender has no event)."""
    async with asyncio.timeout(5):
        while len(sock.sent) < count:
            await asyncio.sleep(0)


async def test_a_synchronous_burst_of_1000_is_delivered_in_order() -> None:
    hub = Hub()
    socks = [Socket() for _ in range(3)]
    conns = [hub.add(ADMIN, s.send, s.close) for s in socks]
    for i in range(1000):
        assert hub.broadcast({"type": "n", "data": i}) == 3
    for sock in socks:
        await settle(hub, sock, 1000)
        assert sock.sent == [f'{{"type":"n","data":{i}}}' for i in range(1000)]
        assert sock.closed == []
    assert not any(c.dropped for c in conns)
    assert len(hub) == 3


async def test_no_progress_for_too_long_drops_the_client_at_the_next_send() -> None:
    hub = Hub(slow_seconds=30)
    stuck, fine = Socket(), Socket()
    conn = hub.add(ADMIN, stuck.send, stuck.close)
    hub.add(ADMIN, fine.send, fine.close)
    stuck.stall()
    hub.broadcast({"type": "a"})
    await stuck.sending.wait()
    conn.progress_at -= 31  # as if its writer had been stuck for 31 s
    assert hub.broadcast({"type": "b"}) == 1
    assert conn.dropped
    await settle(hub, fine, 2)
    await stuck.was_closed.wait()
    assert stuck.closed == [CLOSE_TOO_SLOW]
    assert len(hub) == 1


async def test_a_writer_stuck_on_one_message_is_dropped_without_further_sends() -> None:
    hub = Hub(slow_seconds=0.05)
    stuck = Socket()
    conn = hub.add(ADMIN, stuck.send, stuck.close)
    stuck.stall()
    hub.send(conn.id, {"type": "a"})
    await stuck.was_closed.wait()
    assert stuck.closed == [CLOSE_TOO_SLOW]
    assert conn.dropped
    assert len(hub) == 0


async def test_the_memory_bound_is_the_backstop() -> None:
    hub = Hub(max_queue_bytes=1000)
    stuck = Socket()
    conn = hub.add(ADMIN, stuck.send, stuck.close)
    stuck.stall()
    delivered = [hub.send(conn.id, {"type": "x", "data": "y" * 180}) for _ in range(8)]
    assert delivered[:4] == [True] * 4  # about 205 bytes each
    assert delivered[-1] is False
    assert conn.dropped


async def test_a_queued_update_is_replaced_by_a_newer_one_with_the_same_key() -> None:
    hub = Hub()
    sock = Socket()
    hub.add(ADMIN, sock.send, sock.close)
    sock.stall()
    hub.broadcast({"type": "first"})
    await sock.sending.wait()  # "first" is being sent: it is never replaced
    hub.broadcast({"type": "u", "data": 1}, coalesce="p:a")
    hub.broadcast({"type": "log", "data": 1})
    hub.broadcast({"type": "u", "data": 2}, coalesce="p:a")
    hub.broadcast({"type": "u", "data": "b"}, coalesce="p:b")
    hub.broadcast({"type": "u", "data": 3}, coalesce="p:a")
    sock.resume()
    hub.broadcast({"type": "end"})  # the queue is in order: once it arrives, all before it did
    await settle(hub, sock, 5)
    assert sock.sent == [
        '{"type":"first"}',
        '{"type":"log","data":1}',
        '{"type":"u","data":"b"}',
        '{"type":"u","data":3}',
        '{"type":"end"}',
    ]


async def test_sends_from_worker_threads_arrive_on_the_loop_in_order() -> None:
    hub = Hub()
    sock = Socket()
    conn = hub.add(ADMIN, sock.send, sock.close)

    def worker() -> list[bool]:
        return [hub.send(conn.id, {"type": "t", "data": i}) for i in range(300)]

    results = await asyncio.to_thread(worker)
    assert all(results)
    await settle(hub, sock, 300)
    assert sock.sent == [f'{{"type":"t","data":{i}}}' for i in range(300)]
    assert threading.current_thread() is threading.main_thread()


async def test_closing_all_does_not_wait_for_ever_on_a_stalled_peer() -> None:
    hub = Hub()
    stuck, fine = Socket(), Socket()

    async def never_closes(code: int, reason: str) -> None:
        await asyncio.Event().wait()

    hub.add(ADMIN, stuck.send, never_closes)
    hub.add(ADMIN, fine.send, fine.close)
    async with asyncio.timeout(10):  # a safety net only: the hub's own bound is 2 s
        await hub.close_all()
    assert fine.closed == [1001]
    assert len(hub) == 0
