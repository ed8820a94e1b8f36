"""Stock changes made here, announced to the other replicas in batched NOTIFYs
(``service/usecases/stock/announce.py``): on a real PostgreSQL, listened to as a replica does."""

from __future__ import annotations

import asyncio
import json
import socket

import asyncpg
import pytest

from service.usecases.stock.announce import ChangeAnnouncer
from stores.notify import STOCK_CHANNEL


@pytest.fixture
async def heard(pool):
    """Every payload sent on the stock channel, as a listening replica receives them."""
    got: list[list[str]] = []
    conn = await pool.acquire()

    def on(_c: object, _pid: int, _channel: str, payload: str) -> None:
        got.append(json.loads(payload))

    await conn.add_listener(STOCK_CHANNEL, on)
    yield got
    await conn.remove_listener(STOCK_CHANNEL, on)
    await pool.release(conn)


async def _until(condition, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within the time")


async def test_changes_close_together_go_in_one_notification(pool, heard) -> None:
    announcer = ChangeAnnouncer(pool, delay_s=0.05)
    announcer.announce(["B", "A"])
    announcer.announce(["C", "A"])
    await _until(lambda: heard)
    await asyncio.sleep(0.1)
    assert heard == [["A", "B", "C"]]
    assert announcer.sent == 1 and announcer.pending == 0
    announcer.announce(["D"])  # a later change: its own batch
    await _until(lambda: len(heard) == 2)
    assert heard[1] == ["D"]
    await announcer.aclose()


async def test_changes_made_while_a_batch_is_sent_go_in_the_next(pool, heard, monkeypatch):
    import service.usecases.stock.announce as module

    announcer = ChangeAnnouncer(pool, delay_s=0.01)
    real, calls = module.notify_changed, []

    async def notify_and_meanwhile(conn, channel, keys):
        calls.append(sorted(keys))
        if len(calls) == 1:
            announcer.announce(["B"])  # a creation committing while the first batch is sent
        return await real(conn, channel, keys)

    monkeypatch.setattr(module, "notify_changed", notify_and_meanwhile)
    announcer.announce(["A"])
    await _until(lambda: len(heard) == 2)
    assert heard == [["A"], ["B"]] and calls == [["A"], ["B"]] and announcer.pending == 0
    await announcer.aclose()


async def test_a_failed_notify_is_sent_again(pool, heard, monkeypatch, caplog) -> None:
    """PostgreSQL unreachable (nothing listens on the port): the SKUs stay queued, the
    failure is logged, and they are sent once it can be reached again."""
    monkeypatch.setattr("service.usecases.stock.announce.RETRY_S", 0.05)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{port}/x", min_size=0)
    announcer = ChangeAnnouncer(dead, delay_s=0.01)
    announcer.announce(["A"])
    await _until(lambda: "could not announce stock changes" in caplog.text)
    assert heard == [] and announcer.pending == 1
    announcer.pool = pool  # reachable again
    await _until(lambda: heard)
    assert heard == [["A"]] and announcer.pending == 0
    await announcer.aclose()
    await dead.close()


async def test_what_is_left_is_sent_at_shutdown(pool, heard) -> None:
    announcer = ChangeAnnouncer(pool, delay_s=60)  # the timer would not fire in time
    announcer.announce(["A", "B"])
    await announcer.aclose()
    await _until(lambda: heard)
    assert heard == [["A", "B"]]


async def test_what_waits_is_bounded(pool, heard) -> None:
    announcer = ChangeAnnouncer(pool, delay_s=60, max_pending=3)
    announcer.announce(["A", "B"])
    assert announcer.pending == 2
    announcer.announce(["C", "D"])  # over the bound: dropped (entries elsewhere expire by TTL)
    assert announcer.pending == 0
    announcer.announce(["E"])
    await announcer.aclose()
    await _until(lambda: heard)
    assert heard == [["E"]]
