"""Full stock sync throughput: Cegid Y2 simulator -> omnistock -> PostgreSQL, against a baseline.

    .venv/bin/python bench/stock_sync.py [--stores 50 --skus 20000 --page-size 500
                                          --concurrency 2 --in-process --profile FILE]

One run, one data set (``generate(seed, stores, skus)``), measured in this order:

1. fetch only: the raw reply bytes of every page with httpx (how fast the simulator serves),
   and, for information, the adapter's own decoding of those bytes (one thread);
2. baseline: a raw lxml parse of those bytes into (store_id, sku, qty) tuples, then one raw
   asyncpg ``copy_records_to_table`` of the rows into a fresh table (no index);
3. end to end: ``service.usecases.stock.sync.full_stock_pass`` with the real adapter: pass 1 into an
   empty ``stock`` table, pass 2 with nothing changed (writes 0 rows), pass 3 after ~1% of the
   stock was changed through the simulator control API.

The simulator runs in a separate process by default: this machine has 2 cores, and the
simulator's XML writing must not share the client's core (and GIL), or the end-to-end figure
would include the server's work. ``--in-process`` serves it in the client's event loop instead.

The last column is the share of the machine's CPU the hypervisor gave other guests during the
step ("stolen", from /proc/stat): a step that had some ran slower for reasons not its own.

The database is a fresh one, created and dropped here: on ``DATABASE_URL`` when set, else on the
embedded server (``stores.embedded``). This is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import multiprocessing
import pstats
import random
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import httpx
from _harness import admin_dsn, fresh_database, machine_times
from lxml import etree

from service.erp.cegid import CegidConfig, CegidErp, readers
from service.erp.cegid.transport import check_reply
from service.erp.simulator import SimulatorState, generate, run_simulator, serve_simulator
from service.erp.wsdl import INVENTORY, NS_RETAIL, NS_SOAP_ENV
from service.observability import Metrics
from service.usecases.stock.sync import PassReport, SyncContext, full_stock_pass
from stores.db import create_pool
from stores.migrate import migrate

T = TypeVar("T")
DATABASE_ID, USER, PASSWORD = "BENCH", "omnistock", "bench"
OPERATION = "GetListItemInventoryDetailByStore"
SEED = 42
CHANGED_FRACTION = 0.01
_R = f"{{{NS_RETAIL}}}"
_ROW, _CODE, _STORES = _R + "AvailableQtyByItemByStore", _R + "ItemCode", _R + "StoresAvailableQty"
_STORE, _QTY, _ID = _R + "StoreAvailableQty", _R + "AvailableQuantity", _R + "StoreId"
_MARKER = re.compile(r"\s+X$")
Row = tuple[str, str, int]


# ------------------------------------------------------------------------------- simulator
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(seed: int, stores: int, skus: int, port: int) -> None:
    """Child process: the same tenant as the parent's (``generate`` is deterministic)."""
    state = generate(seed, stores, skus)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_simulator(
                "127.0.0.1",
                port,
                state,
                control=True,
                database_id=DATABASE_ID,
                users={USER: PASSWORD},
            )
        )


@contextlib.asynccontextmanager
async def simulator(args: argparse.Namespace, state: SimulatorState) -> AsyncIterator[str]:
    if args.in_process:
        users = {USER: PASSWORD}
        async with serve_simulator(state, database_id=DATABASE_ID, users=users) as url:
            yield url
        return
    port = _free_port()
    spawn = multiprocessing.get_context("spawn")
    process = spawn.Process(target=_serve, args=(SEED, args.stores, args.skus, port), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{url}/_sim/health")).status_code == 200:
                        break
                if not process.is_alive():
                    raise RuntimeError("the simulator process died")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the simulator did not start")
        yield url
    finally:
        process.terminate()
        process.join(5)


# ------------------------------------------------------------------------------- database
# ------------------------------------------------------------------------------- baseline
def envelope(page_index: int, page_size: int) -> bytes:
    """The request the adapter sends (tests/erp/golden), written by hand."""
    return (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><{OPERATION} xmlns="{NS_RETAIL}">'
        "<inventoryStoreItemDetailRequest><AllAvailableWarehouse>false</AllAvailableWarehouse>"
        "<DetailSku>false</DetailSku><OnlyAvailableStock>false</OnlyAvailableStock>"
        f"<Pager><PageIndex>{page_index}</PageIndex><PageSize>{page_size}</PageSize></Pager>"
        "<WithStoreName>true</WithStoreName></inventoryStoreItemDetailRequest>"
        f"<clientContext><DatabaseId>{DATABASE_ID}</DatabaseId></clientContext>"
        f"</{OPERATION}></s:Body></s:Envelope>"
    ).encode()


async def fetch_pages(url: str, pages: int, page_size: int, concurrency: int) -> list[bytes]:
    headers = {
        "SOAPAction": f'"{INVENTORY.soap_action(OPERATION)}"',
        "Content-Type": "text/xml; charset=utf-8",
    }
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    auth = httpx.BasicAuth(f"{DATABASE_ID}\\{USER}", PASSWORD)
    address = f"{url}/Y2/{INVENTORY.name}.svc"
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(auth=auth, limits=limits, timeout=120) as client:

        async def fetch(index: int) -> bytes:
            async with gate:
                reply = await client.post(
                    address, content=envelope(index, page_size), headers=headers
                )
            reply.raise_for_status()
            return reply.content

        return await asyncio.gather(*(fetch(i) for i in range(1, pages + 1)))


def raw_parse(pages: list[bytes]) -> list[Row]:
    """A raw lxml parse into tuples: the same hardened parser settings as the adapter's."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    rows: list[Row] = []
    append = rows.append
    for content in pages:
        root = etree.fromstring(content, parser)
        for item in root.iter(_ROW):
            sku, stores = "", None
            for member in item:
                if member.tag == _CODE:
                    sku = _MARKER.sub("", (member.text or "").strip()).strip()
                elif member.tag == _STORES:
                    stores = member
            if stores is None:
                continue
            for store in stores.iterchildren(_STORE):
                store_id, qty = "", 0
                for field in store.iterchildren(_QTY, _ID):
                    if field.tag == _QTY:
                        qty = int(field.text or 0)
                    else:
                        store_id = (field.text or "").strip()
                append((store_id, sku, qty))
    return rows


def adapter_decode(pages: list[bytes]) -> int:
    """What the adapter does with each reply (one thread): screen + parse, then StockLines."""
    return sum(len(readers.stock_lines(check_reply(200, content))[0]) for content in pages)


async def raw_copy(pool: asyncpg.Pool, rows: list[Row]) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE baseline_stock (store_id text NOT NULL, sku text NOT NULL, "
            "erp_available integer NOT NULL)"
        )
        await conn.copy_records_to_table(
            "baseline_stock", records=rows, columns=("store_id", "sku", "erp_available")
        )


# ------------------------------------------------------------------------------- measuring
@dataclass
class Line:
    step: str
    rows: int
    seconds: float
    changed: int | None = None
    stolen: float = 0.0  # share of the machine's CPU the hypervisor gave other guests meanwhile

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        changed = "" if self.changed is None else f"{self.changed:,}"
        return (
            f"{self.step:<40} {self.rows:>11,} {changed:>10} {self.seconds:>8.2f} "
            f"{self.rate:>11,.0f} {self.stolen:>7.0%}"
        )


STOLEN = [0.0]  # of the last ``timed`` work


async def timed(work: Awaitable[T]) -> tuple[T, float]:
    """(result, seconds); the share of CPU stolen meanwhile is left in ``STOLEN[0]``."""
    _, steal0, total0 = machine_times()
    started = time.perf_counter()
    result = await work
    seconds = time.perf_counter() - started
    _, steal1, total1 = machine_times()
    STOLEN[0] = (steal1 - steal0) / (total1 - total0) if total1 > total0 else 0.0
    return result, seconds


async def stock_changes(url: str, state: SimulatorState, fraction: float) -> int:
    """Raise the on-hand quantity of ~``fraction`` of the (store, sku) rows: each one changes."""
    rng = random.Random(SEED + 1)
    stores = list(state.stores)
    total = len(stores) * len(state.items)
    picked = rng.sample(range(total), max(1, int(total * fraction)))
    changes = []
    for cell in picked:
        store, item = stores[cell % len(stores)], cell // len(stores)
        qty = state.on_hand(store, item) + rng.randint(1, 5)
        changes.append({"store_id": store, "sku": state.items[item].sku, "qty": qty})
    async with httpx.AsyncClient(timeout=120) as client:
        reply = await client.post(f"{url}/_sim/stock/batch", json={"changes": changes})
        reply.raise_for_status()
    return len(changes)


async def end_to_end(
    ctx: SyncContext, profile: cProfile.Profile | None
) -> tuple[PassReport, float]:
    if profile is not None:
        profile.enable()
    try:
        return await timed(full_stock_pass(ctx))
    finally:
        if profile is not None:
            profile.disable()


async def run(args: argparse.Namespace) -> None:
    rows_total = args.stores * args.skus
    pages = args.skus // args.page_size + 1  # the adapter stops at the first short page
    print(
        f"stock sync: {args.stores} stores x {args.skus:,} SKUs = {rows_total:,} rows, "
        f"page size {args.page_size} ({pages} pages), concurrency {args.concurrency}, "
        f"simulator {'in process' if args.in_process else 'in a separate process'}"
    )
    state = generate(SEED, args.stores, args.skus)
    lines: list[Line] = []
    async with simulator(args, state) as url, fresh_database(admin_dsn(), "omnistock_bench") as dsn:
        pool = await create_pool(dsn, min_size=2, max_size=args.concurrency + 2)
        erp = await CegidErp.create(
            CegidConfig(
                base_url=url,
                database_id=DATABASE_ID,
                username=USER,
                password=PASSWORD,
                max_concurrency=args.concurrency,
                timeout_s=120,
            )
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            raw, seconds = await timed(fetch_pages(url, pages, args.page_size, args.concurrency))
            fetched = Line("simulator serving alone (fetch only)", 0, seconds, None, STOLEN[0])
            rows, parse_s = await timed(asyncio.to_thread(raw_parse, raw))
            parsed = Line("baseline: raw lxml parse", len(rows), parse_s, None, STOLEN[0])
            decoded, decode_s = await timed(asyncio.to_thread(adapter_decode, raw))
            del raw
            fetched.rows = len(rows)
            lines.append(fetched)
            lines.append(Line("omnistock reply decoding alone", decoded, decode_s, None, STOLEN[0]))
            lines.append(parsed)
            _, copy_s = await timed(raw_copy(pool, rows))
            copied = Line("baseline: raw asyncpg COPY", len(rows), copy_s, None, STOLEN[0])
            lines.append(copied)
            both = (parsed.stolen * parse_s + copied.stolen * copy_s) / (parse_s + copy_s)
            baseline = Line("baseline: total (parse + COPY)", len(rows), parse_s + copy_s)
            baseline.stolen = both
            lines.append(baseline)
            del rows

            ctx = SyncContext(
                pool=pool,
                erp=erp,
                metrics=Metrics(),
                page_size=args.page_size,
                concurrency=args.concurrency,
            )
            profile = cProfile.Profile() if args.profile else None
            passes = []
            for number, label in ((1, "empty table"), (2, "no change"), (3, "1% changed")):
                if number == 3:
                    expected = await stock_changes(url, state, CHANGED_FRACTION)
                    label = f"{expected:,} rows changed"
                report, seconds = await end_to_end(ctx, profile if number == 1 else None)
                line = Line(f"end to end pass {number} ({label})", report.rows_seen, seconds)
                line.changed, line.stolen = report.rows_changed, STOLEN[0]
                lines.append(line)
                passes.append(line)
            async with pool.acquire() as conn:
                differ = await conn.fetchval(
                    "SELECT count(*) FROM stock s JOIN baseline_stock b USING (store_id, sku) "
                    "WHERE s.erp_available <> b.erp_available"
                )
                stored = await conn.fetchval("SELECT count(*) FROM stock")
        finally:
            await erp.aclose()
            await pool.close()

    print(f"{'step':<40} {'rows':>11} {'changed':>10} {'seconds':>8} {'rows/s':>11} {'stolen':>7}")
    for line in lines:
        print(line)
    ratios = ", ".join(f"pass {i}: {p.rate / baseline.rate:.0%}" for i, p in enumerate(passes, 1))
    print(f"ratio end to end / baseline total: {ratios}")
    print(
        f"check: {stored:,} rows in stock (expected {rows_total:,}); {differ:,} differ from the "
        f"baseline copy (expected {expected:,}, the rows changed before pass 3)"
    )
    if profile is not None:
        profile.dump_stats(args.profile)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(f"cProfile of pass 1 (event loop thread only), saved to {args.profile}:")
        print(out.getvalue())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=500, help="items per page (1..1000)")
    parser.add_argument("--concurrency", type=int, default=2, help="pages in flight")
    parser.add_argument(
        "--in-process", action="store_true", help="serve the simulator in this event loop"
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile end-to-end pass 1 into FILE")
    args = parser.parse_args(argv)
    if not 1 <= args.page_size <= 1000 or args.concurrency < 1:
        parser.error("--page-size must be within 1..1000 and --concurrency >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
