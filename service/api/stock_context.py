"""The stock read side of the app: the StockReader's settings, the LISTEN task that drops cache
entries other processes changed, and the hot-SKU flusher (started by ``create_app``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

import asyncpg

from service.settings import Settings
from service.usecases.stock.reader import ReaderSettings, StockReader
from stores.notify import STOCK_CHANNEL

log = logging.getLogger("omnistock.api")
FLUSH_EVERY_S = 2.0


def reader_settings(s: Settings) -> ReaderSettings:
    return ReaderSettings(
        ttl=timedelta(seconds=s.stock_ttl_s),
        stale_after=timedelta(seconds=s.stale_after_s),
        deadline_s=s.refresh_deadline_s,
        cache_ttl_s=s.cache_ttl_s,
        encode=s.redis_url is not None,
        line_memo_s=s.answer_cache_s,  # one setting bounds how late both can be
    )


async def listen_for_changes(pool: asyncpg.Pool, reader: StockReader) -> None:
    """Drop cache entries of SKUs changed anywhere. Each time the LISTEN is (re)established,
    everything is dropped once: changes made while nobody listened were not heard."""
    pending: set[asyncio.Task[None]] = set()
    while True:
        lost = asyncio.Event()
        try:
            async with pool.acquire() as conn:

                def on_stock(_c: object, _pid: int, _channel: str, payload: str) -> None:
                    task = asyncio.create_task(reader.invalidate(json.loads(payload)))
                    pending.add(task)
                    task.add_done_callback(pending.discard)

                conn.add_termination_listener(lambda _c, ev=lost: ev.set())
                await conn.add_listener(STOCK_CHANNEL, on_stock)
                try:
                    await reader.invalidate_all()  # listening now: drop what we may have missed
                    await lost.wait()
                finally:
                    with contextlib.suppress(Exception):
                        await conn.remove_listener(STOCK_CHANNEL, on_stock)
        except Exception as exc:  # PostgreSQL or the cache (Redis) failed: listen again
            log.warning("stock change listener failed, listening again in 1 s: %s", exc)
            with contextlib.suppress(Exception):
                await reader.invalidate_all()
        await asyncio.sleep(1.0)


async def flush_wanted_forever(reader: StockReader) -> None:
    while True:
        await asyncio.sleep(FLUSH_EVERY_S)
        try:
            await reader.flush_wanted()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not record hot SKUs: %s", exc)
