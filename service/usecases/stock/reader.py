"""Reads of the stock snapshot for availability: hot cache, read-through refresh, hot SKUs.

- The cache holds one entry per SKU: its rows and open holds in the stores read so far (a read
  costs the stores asked, not the tenant's). Entries are dropped when the sync or a hold changes
  that SKU (PostgreSQL NOTIFY, heard by every replica).
- A SKU whose snapshot is older than ``ttl`` is refreshed from the ERP before answering. Misses
  for the same SKU are coalesced into one ERP call; the caller waits at most ``deadline``, then
  answers from the last snapshot (``source = fallback``); the refresh goes on for the next reader.
- SKUs read here are remembered as "hot" (flushed in batches) so the hot sync pass keeps them fresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any

import asyncpg
from aiocache.base import BaseCache

from service.domain.atp import BufferTiers
from service.erp.port import ErpError, ErpPort
from service.observability import Metrics
from service.usecases.catalog.identifiers import ResolvedItem
from service.usecases.clock import utcnow
from service.usecases.single_flight import SingleFlight
from service.usecases.stock.announce import ChangeAnnouncer
from service.usecases.ttl_cache import TtlCache
from stores import availability_reads as repo
from stores import stock as stock_repo
from stores.availability_reads import DirectoryStore, SkuStock
from stores.cache import cache_key, clear_ours, delete_many, get_many, set_many
from stores.notify import STOCK_CHANNEL, notify_changed

log = logging.getLogger("omnistock.stock")
EAN_BATCH = 50
ITEMS_CACHED = 50_000  # resolved identifiers kept at most


@dataclass(frozen=True)
class ReaderSettings:
    ttl: timedelta = timedelta(seconds=30)  # older snapshots are refreshed on read
    stale_after: timedelta = timedelta(seconds=120)  # older answers are flagged stale
    deadline_s: float = 0.3  # longest a read waits for the ERP
    cache_ttl_s: float = 60.0  # safety net: entries expire even if a NOTIFY is missed
    reference_ttl_s: float = 30.0  # buffers and store directory, reloaded this often
    encode: bool = False  # JSON-able cache values (Redis); memory keeps objects
    # availability lines reused this long (``availability._LineMemo``); 0: computed every time
    line_memo_s: float = 1.0


def _encode(s: SkuStock) -> dict[str, object]:
    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "sku": s.sku,
        "rows": {k: [v, iso(a)] for k, (v, a) in s.rows.items()},
        "holds": {k: [[q, iso(a)] for q, a in hs] for k, hs in s.holds.items()},
        "checked_at": iso(s.checked_at),
        "stores": None if s.stores is None else sorted(s.stores),
    }


def _decode(d: dict[str, Any]) -> SkuStock:
    def dt(v: str | None) -> datetime | None:
        return datetime.fromisoformat(v) if v else None

    return SkuStock(
        sku=d["sku"],
        rows={k: (v, dt(a)) for k, (v, a) in d["rows"].items()},
        holds={k: [(q, dt(a)) for q, a in hs] for k, hs in d["holds"].items()},
        checked_at=dt(d["checked_at"]),
        stores=None if d.get("stores") is None else frozenset(d["stores"]),
    )


def cache_weight(value: object) -> int:
    """What an entry weighs in the in-process cache's bound: its rows and holds, and 1."""
    if isinstance(value, SkuStock):
        return 1 + len(value.rows) + sum(map(len, value.holds.values()))
    return 1


@dataclass(frozen=True, slots=True)
class Freshness:
    data: dict[str, SkuStock]
    live: set[str]  # refreshed from the ERP for this read
    fallback: set[str]  # too old, and the refresh failed or missed the deadline


class StockReader:
    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: BaseCache,
        erp: ErpPort | None,
        metrics: Metrics,
        settings: ReaderSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.pool, self.cache, self.erp, self.metrics = pool, cache, erp, metrics
        self.settings = settings or ReaderSettings()
        self.clock = clock
        self._refreshes: SingleFlight[None] = SingleFlight()  # SKU -> the refresh of its batch
        self._wanted: set[str] = set()
        self._reference: TtlCache[object] = TtlCache(self.settings.reference_ttl_s)
        self.items: TtlCache[ResolvedItem] = TtlCache(  # identifier -> resolved item
            self.settings.reference_ttl_s, size=ITEMS_CACHED
        )
        # Change counters for caches built on top of this reader (encoded HTTP answers): an
        # answer computed when ``epoch`` was E is current while ``changed_since(sku, E)`` is
        # False. Bumped after the cache entries are gone, so a reader never pairs E with old data.
        self.epoch = 0
        self._changed_at: dict[str, int] = {}
        self._reference_changed_at = 0
        self.line_memo: object | None = None  # availability's lines of the last second
        self.announcer = ChangeAnnouncer(pool)  # stock changes made here, for the other replicas

    # ------------------------------------------------------------------ cache
    async def load(
        self, skus: Sequence[str], stores: Iterable[str] | None = None
    ) -> dict[str, SkuStock]:
        """The SKUs' stock in ``stores`` (None: every store). An entry covers the stores read
        into it so far: a read of other stores reads only those SKUs again, for the stores
        asked, and widens the entry. What a SKU costs in memory and per read follows the
        stores the storefront asks for, not the tenant's store count."""
        epoch = self.epoch  # a change notified from now on must not be covered by what we store
        wanted = None if stores is None else frozenset(stores)
        keys = [cache_key("stock", s) for s in skus]
        found: dict[str, SkuStock] = {}
        partial: dict[str, SkuStock] = {}
        for sku, value in zip(skus, await get_many(self.cache, keys), strict=True):
            if value is not None:
                entry = _decode(value) if self.settings.encode else value
                covered = entry.stores  # ``SkuStock.covers``, inline: once per SKU read
                if covered is None or (wanted is not None and covered >= wanted):
                    found[sku] = entry
                else:
                    partial[sku] = entry
        self._cache_hits.inc(len(found))
        missing = [s for s in skus if s not in found]
        if missing:
            self._cache_misses.inc(len(missing))
            async with self.pool.acquire() as conn:
                loaded = await repo.load_sku_stock(conn, missing, wanted)
            for sku, old in partial.items():
                loaded[sku] = old.widened(loaded[sku])
            pairs = [  # a SKU whose change was notified while we read may be read as it was
                (cache_key("stock", s), _encode(v) if self.settings.encode else v)
                for s, v in loaded.items()
                if not self.changed_since(s, epoch)
            ]
            await set_many(self.cache, pairs, self.settings.cache_ttl_s)
            found.update(loaded)
        return found

    # the two series, looked up once (each ``labels`` call costs a lock and a dict look-up);
    # made on first use, as before, so a scrape shows them from the first read on
    @cached_property
    def _cache_hits(self) -> Any:
        return self.metrics.cache_requests.labels("stock", "hit")

    @cached_property
    def _cache_misses(self) -> Any:
        return self.metrics.cache_requests.labels("stock", "miss")

    async def invalidate(self, skus: Iterable[str]) -> None:
        skus = list(skus)
        try:
            await delete_many(self.cache, [cache_key("stock", sku) for sku in skus])
        finally:  # even when a delete failed (Redis down): answers built on top are dropped
            self.epoch += 1
            if len(self._changed_at) > 100_000:  # bounded: forgetting SKUs = "all changed"
                self._changed_at.clear()
                self._reference_changed_at = self.epoch
            for sku in skus:
                self._changed_at[sku] = self.epoch

    async def invalidate_all(self) -> None:
        """Drop every stock entry (after a lost change listener: changes may have been missed)."""
        try:
            await clear_ours(self.cache)
        finally:
            self.epoch += 1
            self._changed_at.clear()
            self._reference_changed_at = self.epoch

    def changed_since(self, sku: str, epoch: int) -> bool:
        """Whether ``sku``'s stock or any reference data changed after ``epoch`` was read."""
        return self._changed_at.get(sku, 0) > epoch or self._reference_changed_at > epoch

    # ------------------------------------------------------------------ freshness
    @staticmethod
    def _needs_refresh(
        s: SkuStock, stores: Sequence[str], wanted: AbstractSet[str], limit: datetime
    ) -> bool:
        """Whether one of ``stores`` (``wanted`` as a set) has no row for ``s``, or a row
        without a time or older than ``limit``."""
        if s.checked_at is not None and s.checked_at >= limit:
            return False  # the hot pass read this SKU everywhere, rows or not, lately
        rows, oldest = s.rows, s.oldest_as_of
        if oldest is not None and oldest >= limit and rows.keys() >= wanted:
            return False  # every row of the SKU is recent, and each store asked for has one
        for store in stores:
            row = rows.get(store)
            if row is None or row[1] is None or row[1] < limit:
                return True
        return False

    async def fresh(
        self, items: Sequence[tuple[str, str | None]], stores: Sequence[str]
    ) -> Freshness:
        """Snapshots of (sku, ean) items, refreshed from the ERP where older than the TTL."""
        skus = [sku for sku, _ in items]
        self.want(skus)
        data = await self.load(skus, stores)
        limit, wanted = self.clock() - self.settings.ttl, set(stores)
        todo = []
        for s, e in items:  # ``_needs_refresh``'s first two answers inline: the usual ones
            if not e:
                continue
            entry = data[s]
            checked, oldest = entry.checked_at, entry.oldest_as_of
            if (checked is not None and checked >= limit) or (
                oldest is not None and oldest >= limit and entry.rows.keys() >= wanted
            ):
                continue
            if self._needs_refresh(entry, stores, wanted, limit):
                todo.append((s, e))
        if not todo or self.erp is None:
            return Freshness(data, set(), {s for s, _ in todo})
        waits = self._start_refresh(todo)
        failed: set[str] = set()
        try:
            async with asyncio.timeout(self.settings.deadline_s):
                results = await asyncio.gather(
                    *(asyncio.shield(t) for t in waits.values()), return_exceptions=True
                )
            for sku, result in zip(waits, results, strict=True):
                if isinstance(result, BaseException):
                    failed.add(sku)
        except TimeoutError:
            failed = {s for s, t in waits.items() if not t.done() or t.exception()}
            self.metrics.stock_refresh.labels("deadline").inc()
        live = [s for s in waits if s not in failed]
        data.update(await self.load(live, stores))
        return Freshness(data, set(live), failed)

    def _start_refresh(
        self, todo: Sequence[tuple[str, str | None]]
    ) -> dict[str, asyncio.Task[None]]:
        waits: dict[str, asyncio.Task[None]] = {}
        new = []
        for sku, ean in todo:
            task = self._refreshes.running(sku)
            if task is not None:
                self.metrics.stock_refresh.labels("coalesced").inc()
                waits[sku] = task
            else:
                new.append((sku, ean or ""))
        for i in range(0, len(new), EAN_BATCH):
            batch = new[i : i + EAN_BATCH]
            task = self._refreshes.start([sku for sku, _ in batch], partial(self._refresh, batch))
            for sku, _ in batch:
                waits[sku] = task
        return waits

    async def _refresh(self, batch: Sequence[tuple[str, str]]) -> None:
        try:
            await self._refresh_batch(batch)
        except Exception as exc:  # the readers fall back to the snapshot; the next one retries
            log.warning("stock refresh failed: %s", exc)
            raise

    async def _refresh_batch(self, batch: Sequence[tuple[str, str]]) -> None:
        assert self.erp is not None
        started, at = time.perf_counter(), self.clock()
        try:
            lines = await self.erp.stock_for_items([ean for _, ean in batch])
        except ErpError:
            self.metrics.stock_refresh.labels("error").inc()
            raise
        skus = [sku for sku, _ in batch]
        async with self.pool.acquire() as conn, conn.transaction():
            await stock_repo.apply_stock_lines(conn, lines, at)
            await stock_repo.mark_skus_checked(conn, skus, at)
            await notify_changed(conn, STOCK_CHANNEL, skus)
        await self.invalidate(skus)
        self.metrics.stock_refresh.labels("ok").inc()
        self.metrics.stock_refresh_latency.observe(time.perf_counter() - started)

    async def changed_here(self, skus: Iterable[str]) -> None:
        """A transaction of this process that changed the stock of ``skus`` (a pickup's holds)
        has committed: drop them here now, and tell the other replicas in the next batch
        (``service.usecases.stock.announce``)."""
        skus = list(skus)
        try:
            await self.invalidate(skus)
        finally:
            self.announcer.announce(skus)

    # ------------------------------------------------------------------ hot SKUs
    def want(self, skus: Iterable[str]) -> None:
        self._wanted.update(skus)

    async def flush_wanted(self) -> int:
        wanted, self._wanted = self._wanted, set()
        if wanted:
            async with self.pool.acquire() as conn:
                await stock_repo.want_skus(conn, wanted, self.clock())
        return len(wanted)

    # ------------------------------------------------------------------ reference data
    async def _cached(self, name: str, load: Callable[[asyncpg.Connection], object]) -> object:
        hit = self._reference.get(name)
        if hit is not None:
            return hit
        async with self.pool.acquire() as conn:
            value = await load(conn)  # type: ignore[misc]
        self._reference.put(name, value)
        return value

    async def buffers(self) -> BufferTiers:
        return await self._cached("buffers", repo.load_buffer_tiers)  # type: ignore[return-value]

    async def directory(self) -> dict[str, DirectoryStore]:
        return await self._cached("directory", repo.load_directory)  # type: ignore[return-value]

    def forget_reference(self) -> None:
        self._reference.clear()
        self.items.clear()
        self.epoch += 1
        self._reference_changed_at = self.epoch
