"""Pull from the ERP into PostgreSQL: full and hot stock passes, items, prices.

Each pass reads through the ERP port with bounded concurrency, writes only what changed (COPY
into a staging table, then one set-based upsert), tells other replicas which SKUs changed
(NOTIFY), and records its run for the lag metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

import asyncpg

from service.background import cancel_and_wait
from service.erp.port import ErpPort, Item, ItemPage, StockLine, StockPage
from service.observability import Metrics
from service.usecases.clock import utcnow
from service.usecases.outbox import prestashop_stock
from service.usecases.outbox.prestashop_stock import StockPushConfig
from service.usecases.stock.hot_schedule import HotSchedule
from stores import items as items_repo
from stores import prices as prices_repo
from stores import stock as stock_repo
from stores import store_directory as directory_repo
from stores import sync_runs
from stores.notify import STOCK_CHANNEL, notify_changed

Progress = Callable[[int, int], None]  # (units done, rows seen so far)
T = TypeVar("T")
EAN_BATCH = 50  # Cegid clients send about 50 identifiers per inventory call
_STORE_OF = attrgetter("store_id", "store_name")  # per line of a full pass: built in C


@dataclass
class SyncContext:
    pool: asyncpg.Pool
    erp: ErpPort
    metrics: Metrics
    page_size: int = 500
    concurrency: int = 2
    hot: HotSchedule = field(default_factory=HotSchedule)  # which hot SKUs a hot pass asks
    hot_limit: int = 2000
    price_batch: int = 200
    clock: Callable[[], datetime] = utcnow
    web_store_id: str | None = None  # the web price list: synced even when not in the directory
    stock_push: StockPushConfig | None = None  # push the e-commerce store's changes to PrestaShop


@dataclass
class PassReport:
    job: str
    rows_seen: int = 0
    rows_changed: int = 0
    calls: int = 0
    seconds: float = 0.0
    stores: set[str] = field(default_factory=set)

    @property
    def rows_per_second(self) -> float:
        return self.rows_seen / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.job}: {self.rows_seen} rows read, {self.rows_changed} changed, "
            f"{self.calls} ERP calls, {self.seconds:.2f} s "
            f"({self.rows_per_second:,.0f} rows/s)"
        )


async def _pages(
    fetch: Callable[[int], Coroutine[Any, Any, T]],
    is_last: Callable[[T], bool],
    window: int,
    consume: Callable[[T], Awaitable[None]],
) -> int:
    """Fetch pages 1, 2, ... with up to ``window`` in flight; consume them in order; stop after
    the last page. Returns the number of pages consumed."""
    tasks: dict[int, asyncio.Task[T]] = {}
    next_index, consumed = 1, 0
    try:
        while True:
            while len(tasks) < window:
                tasks[next_index] = asyncio.create_task(fetch(next_index))
                next_index += 1
            page = await tasks.pop(consumed + 1)
            consumed += 1
            await consume(page)
            if is_last(page):
                return consumed
    finally:
        await cancel_and_wait(tasks.values())


async def _apply_stock(
    ctx: SyncContext,
    lines: Sequence[StockLine],
    as_of: datetime,
    report: PassReport,
    read: Sequence[str] = (),
) -> None:
    """Write the changed lines and notify their SKUs. ``read``: SKUs asked by identifier (every
    store of each); they are marked read as of ``as_of`` and notified too, changed or not, so
    the API's cached copies learn that they are fresh and are not read through again."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        applied = await stock_repo.apply_stock_lines(conn, lines, as_of)
        await stock_repo.mark_skus_checked(conn, read, as_of)
        await notify_changed(conn, STOCK_CHANNEL, {*applied.skus, *read})
        if applied.changed and ctx.stock_push is not None:
            web = {line.sku for line in lines if line.store_id == ctx.stock_push.store_id}
            await prestashop_stock.enqueue(conn, ctx.stock_push, web & set(applied.skus))
    report.rows_seen += len(lines)
    report.rows_changed += applied.changed


async def _finish(ctx: SyncContext, report: PassReport, started: datetime, t0: float) -> None:
    report.seconds = time.perf_counter() - t0
    async with ctx.pool.acquire() as conn:
        await sync_runs.record(
            conn,
            report.job,
            started,
            ctx.clock(),
            report.rows_seen,
            report.rows_changed,
            {"calls": report.calls},
        )
    m = ctx.metrics
    m.sync_rows.labels(report.job, "seen").inc(report.rows_seen)
    m.sync_rows.labels(report.job, "changed").inc(report.rows_changed)
    m.sync_duration.labels(report.job).observe(report.seconds)
    m.sync_last_success.labels(report.job).set(time.time())


async def full_stock_pass(ctx: SyncContext, progress: Progress | None = None) -> PassReport:
    """Every store, every item, page by page. Unchanged rows are not rewritten; each store seen
    is marked checked as of the pass start."""
    report, started, t0 = PassReport("stock_full"), ctx.clock(), time.perf_counter()
    names: dict[str, str] = {}

    async def fetch(index: int) -> tuple[datetime, StockPage]:
        at = ctx.clock()
        return at, await ctx.erp.stock_page(index, ctx.page_size)

    writes: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(2)  # two pages written at once keep PostgreSQL busy

    async def write(at: datetime, lines: Sequence[StockLine]) -> None:
        try:
            await _apply_stock(ctx, lines, at, report)
            if progress:
                progress(report.calls, report.rows_seen)
        finally:
            gate.release()

    def raise_failed_write() -> None:
        for task in writes:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def consume(item: tuple[datetime, StockPage]) -> None:
        at, page = item
        report.calls += 1
        for store_id, name in set(map(_STORE_OF, page.lines)):
            report.stores.add(store_id)
            if name:
                names[store_id] = name
        raise_failed_write()  # stop reading once a write failed
        await gate.acquire()
        writes.append(asyncio.create_task(write(at, page.lines)))

    try:
        await _pages(fetch, lambda item: item[1].last_page, ctx.concurrency, consume)
    finally:
        await asyncio.gather(*writes, return_exceptions=True)
    raise_failed_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await stock_repo.mark_stores_checked(conn, report.stores, started)
        await directory_repo.fill_missing_names(conn, names)
    await _finish(ctx, report, started, t0)
    return report


async def _bounded(ctx: SyncContext, jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
    gate = asyncio.Semaphore(ctx.concurrency)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(run(job))


async def hot_stock_pass(ctx: SyncContext, progress: Progress | None = None) -> PassReport:
    """The SKUs wanted recently (viewed, held) that are due (``ctx.hot``: the ones viewed now on
    every pass, the others less often, see ``hot_schedule``), in every store, in calls of 50
    EANs, the last call filled up with the SKUs that fall due next."""
    report, started, t0 = PassReport("stock_hot"), ctx.clock(), time.perf_counter()
    bounds = ctx.hot.bounds(started)
    async with ctx.pool.acquire() as conn:
        hot = await stock_repo.hot_skus(
            conn,
            bounds.since,
            ctx.hot_limit,
            viewed_since=bounds.viewed_since,
            viewed_read_before=bounds.viewed_read_before,
            rest_read_before=bounds.rest_read_before,
        )
        await stock_repo.forget_cold_skus(conn, bounds.since)

    def batch_job(batch: Sequence[stock_repo.HotSku]) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            at = ctx.clock()
            lines = await ctx.erp.stock_for_items([h.ean for h in batch])
            report.calls += 1
            await _apply_stock(ctx, lines, at, report, read=[h.sku for h in batch])
            if progress:
                progress(report.calls, report.rows_seen)

        return job

    await _bounded(ctx, [batch_job(b) for b in ctx.hot.calls(hot, EAN_BATCH)])
    await _finish(ctx, report, started, t0)
    return report


MISSING_ITEMS_PER_PASS = 50_000
IDS_PER_CALL = 1000


async def items_pass(ctx: SyncContext, progress: Progress | None = None) -> PassReport:
    """Items and barcodes, page by page, then by id the SKUs the stock knows and the pages did
    not bring; only new or changed items are written."""
    report, started, t0 = PassReport("items"), ctx.clock(), time.perf_counter()

    async def write(items: Sequence[Item]) -> None:
        async with ctx.pool.acquire() as conn, conn.transaction():
            changed = await items_repo.apply_items(conn, items)
        report.rows_seen += len(items)
        report.rows_changed += len(changed)
        if progress:
            progress(report.calls, report.rows_seen)

    async def consume(page: ItemPage) -> None:
        report.calls += 1
        await write(page.items)

    async def fetch(index: int) -> ItemPage:
        return await ctx.erp.items_page(index, ctx.page_size)

    await _pages(fetch, lambda page: page.last_page, ctx.concurrency, consume)
    # A tenant may list items only by id (the one public client of GetListDetail always sends
    # ids): the SKUs the stock sync saw and the pages did not bring are asked by their ids.
    async with ctx.pool.acquire() as conn:
        missing = await items_repo.stocked_skus_without_item(conn, MISSING_ITEMS_PER_PASS)
    if missing:
        found = await ctx.erp.items_by_ids(missing)
        report.calls += -(-len(missing) // IDS_PER_CALL)
        await write(found)
    await _finish(ctx, report, started, t0)
    return report


async def prices_pass(ctx: SyncContext, progress: Progress | None = None) -> PassReport:
    """Current and base price of every item with a barcode, in every active store and in the
    web price list (the web store's, ``ctx.web_store_id``: web baskets are priced from it)."""
    report, started, t0 = PassReport("prices"), ctx.clock(), time.perf_counter()
    async with ctx.pool.acquire() as conn:
        stores = await directory_repo.store_ids(conn)
        barcodes = [ean for _, ean in await items_repo.all_barcodes(conn)]
    if ctx.web_store_id and ctx.web_store_id not in stores:
        stores.append(ctx.web_store_id)
    batches = [barcodes[i : i + ctx.price_batch] for i in range(0, len(barcodes), ctx.price_batch)]

    def job(store_id: str, batch: Sequence[str]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            at = ctx.clock()
            prices = await ctx.erp.store_prices(store_id, batch)
            report.calls += 1
            async with ctx.pool.acquire() as conn, conn.transaction():
                changed = await prices_repo.apply_prices(conn, prices, at)
            report.rows_changed += changed  # not `+= await`: that loses concurrent updates
            report.rows_seen += len(prices)
            report.stores.add(store_id)
            if progress:
                progress(report.calls, report.rows_seen)

        return run

    await _bounded(ctx, [job(s, b) for s in stores for b in batches])
    await _finish(ctx, report, started, t0)
    return report
