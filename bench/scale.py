"""Tenant size: the same measures at 1M and 10M stock rows, side by side, in one run.

    .venv/bin/python bench/scale.py [--sizes 50x20000,200x50000 --seconds 10 --profile DIR]

Needs wrk (``apt-get update && apt-get install -y wrk``; macOS: ``brew install wrk``); the script
stops with that message when wrk is not on PATH. ``--sizes`` is a list of STORESxSKUS, smallest
first (a quick run: ``--sizes 5x2000,10x5000``); the last column of the table is last / first.

For each size, in its own fresh database (created and dropped here: on ``DATABASE_URL`` when set,
else on the embedded server of ``stores.embedded``):

1. load: the Cegid simulator's ``generate(42, stores, skus)`` tenant, served by the simulator in
   its own process (as ``stock_sync.py`` does); its store directory (no daily pickup capacity)
   and its items written straight into the database; then the real
   ``service.usecases.stock.sync.full_stock_pass`` (the adapter, the product's default page size
   and concurrency) into the empty ``stock`` table (pass 1), then again with nothing changed
   (pass 2): rows/s of each. Then ``VACUUM (ANALYZE)`` of the tables the load wrote (as
   autovacuum would do after such a load, but now: the runs below must not share the machine
   with it; the empty ones are left alone, as autovacuum leaves them) and a ``CHECKPOINT``
   (the same for the checkpointer's writes),
   and 8 "hot" (store, SKU) pairs set to 20 units (the contended pickups of ``pickups.py``);
2. one ``omnistock serve`` (pinned to CPU 0, wrk to CPU 1 for the reads) for every run below:
   ``OMNISTOCK_READ_THROUGH=false`` (no ERP), ``OMNISTOCK_STOCK_TTL_S`` and
   ``OMNISTOCK_STALE_AFTER_S`` 3600 and ``OMNISTOCK_PICKUP_MAX_STALENESS_S`` 86400 (the snapshot
   stays usable however long the load took), everything else default (in-memory cache, INFO
   access logs to a file);
3. ``GET /v1/availability`` of one SKU in 5 stores (S001..S005), the SKU drawn at random per
   request from ``--read-skus`` SKUs of the tenant (the same number at every size: the caches see
   the same traffic, only the tenant grows): at saturation, then paced at half that rate (p99);
4. ``POST /v1/availability`` matrices, a category page (48 SKUs x 5 stores) and 50 x 20, at
   saturation (``--matrix-connections``): server CPU per request, from /proc;
5. pickups as ``pickups.py`` makes them (1 unit, a unique ``Idempotency-Key``, 20% to the hot
   pairs, the rest to a random pair of the whole tenant), the server no longer pinned, after its
   baseline (asyncpg 1-row INSERT transactions at the same concurrency): created/s, answered/s,
   CPU per answer, and the oversold check (must be 0);
6. bytes per row of ``stock`` and ``stock_holds`` (``pg_total_relation_size`` less
   ``pg_indexes_size``: heap and TOAST; and ``pg_indexes_size``), after the runs;
7. the API process's resident memory after the runs (VmRSS) and its peak (VmHWM).

Every wrk run follows a 2 s warm-up that is not counted. ``--profile DIR`` adds py-spy samples of
the API under the GET, the 50 x 20 matrix and the pickups of each size, summarised at the end.
This is a benchmark, not a test: nothing is asserted; cost per request must not grow with the
tenant (the target: reads, matrix and pickups within 10% of their figures at the smallest size).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from _harness import (
    HEADER,
    Server,
    WrkResult,
    admin_dsn,
    database_name,
    free_port,
    fresh_database,
    omnistock_argv,
    profile_summary,
    pyspy,
    renice,
    require_wrk,
    run_wrk,
    server,
    server_env,
)
from availability import Runner, matrix_lua
from pickups import HOT_PAIRS, HOT_SHARE, HOT_STOCK, check, insert_baseline, pickup_lua
from stock_sync import DATABASE_ID, PASSWORD, SEED, USER, simulator

from service.demo import directory_entry
from service.erp.cegid import CegidConfig, CegidErp
from service.erp.port import Item
from service.erp.simulator import SimulatorState, generate, store_directory
from service.observability import Metrics
from service.settings import Settings
from service.usecases.access.keys import create_key
from service.usecases.stock.sync import SyncContext, full_stock_pass
from stores import items as items_repo
from stores import store_directory as directory_repo
from stores.db import create_pool
from stores.migrate import migrate

GET_STORES = 5
MATRICES = ((48, 5), (50, 20))
TARGET_GROWTH = 0.10
SERVER_CPUS, ALL_CPUS = {0}, {0, 1}
Size = tuple[int, int]  # (stores, SKUs)


@dataclass
class Figures:
    """One size's numbers, by key of ``ROWS`` (missing: not measured)."""

    size: Size
    values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# rows of the final table: key -> (label, format, whether more is better; None: neither)
ROWS: dict[str, tuple[str, str, bool | None]] = {
    "rows": ("stock rows", "{:,.0f}", None),
    "pass1": ("full pass 1 (empty table), rows/s", "{:,.0f}", True),
    "pass2": ("full pass 2 (unchanged), rows/s", "{:,.0f}", True),
    "get_rate": ("GET 1 SKU x 5 stores, requests/s at saturation", "{:,.0f}", True),
    "get_cpu": ("GET server CPU per request, ms", "{:.3f}", False),
    "get_p99": ("GET p99 at half saturation, ms", "{:.2f}", False),
    "page_cpu": ("POST 48 x 5 server CPU per request, ms", "{:.2f}", False),
    "matrix_cpu": ("POST 50 x 20 server CPU per request, ms", "{:.2f}", False),
    "matrix_cells": ("POST 50 x 20 server CPU per 1,000 cells, ms", "{:.2f}", False),
    "insert_rate": ("baseline: 1-row INSERT transactions/s", "{:,.0f}", True),
    "created": ("pickups created/s", "{:,.0f}", True),
    "answered": ("pickups answered/s", "{:,.0f}", True),
    "pickup_cpu": ("pickups server CPU per answer, ms", "{:.2f}", False),
    "pickup_pg": ("pickups PostgreSQL CPU per answer, ms", "{:.2f}", False),
    "oversold": ("pickups oversold pairs (must be 0)", "{:,.0f}", None),
    "stock_table": ("stock table bytes per row", "{:,.1f}", False),
    "stock_index": ("stock index bytes per row", "{:,.1f}", False),
    "holds_rows": ("stock_holds rows", "{:,.0f}", None),
    "holds_table": ("stock_holds table bytes per row", "{:,.1f}", False),
    "holds_index": ("stock_holds index bytes per row", "{:,.1f}", False),
    "rss": ("API RSS after the runs, MB", "{:,.1f}", False),
    "peak": ("API peak RSS, MB", "{:,.1f}", False),
}


# ------------------------------------------------------------------------------- load
async def load(dsn: str, state: SimulatorState, url: str, size: Size) -> tuple[float, float]:
    """Directory, items, two full passes (returns their rows/s), VACUUM (ANALYZE)."""
    fields = Settings.model_fields
    page_size, concurrency = fields["sync_page_size"].default, fields["sync_concurrency"].default
    pool = await create_pool(dsn, min_size=2, max_size=concurrency + 2)
    erp = await CegidErp.create(
        CegidConfig(
            base_url=url,
            database_id=DATABASE_ID,
            username=USER,
            password=PASSWORD,
            max_concurrency=concurrency,
            timeout_s=120,
        )
    )
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        async with pool.acquire() as conn, conn.transaction():
            for store in store_directory(state):
                entry = directory_entry(store)
                entry["pickup_capacity_per_day"] = None
                await directory_repo.upsert(conn, entry)
            items = [Item(i.sku, i.ean, i.description) for i in state.items]
            await items_repo.apply_items(conn, items)
        ctx = SyncContext(
            pool=pool, erp=erp, metrics=Metrics(), page_size=page_size, concurrency=concurrency
        )
        rates = []
        for number in (1, 2):
            started = time.perf_counter()
            report = await full_stock_pass(ctx)
            seconds = time.perf_counter() - started
            rates.append(report.rows_seen / seconds)
            print(
                f"  {size_name(size)}: full pass {number}: {report.rows_seen:,} rows in "
                f"{seconds:.1f} s ({report.rows_changed:,} written)",
                flush=True,
            )
        async with pool.acquire() as conn:
            # the tables the load wrote, as autovacuum would pick them; not the empty ones
            # (pickups, holds, keys, outbox): analysed empty, their plans would scan them
            # (a seq scan per foreign-key check and per read of a pickup creation: PostgreSQL
            # CPU per creation 2.3-2.9 ms instead of 0.7), until autovacuum analysed them again
            loaded = await conn.fetch(
                "SELECT quote_ident(relname) AS name FROM pg_stat_user_tables "
                "WHERE n_mod_since_analyze > 0 ORDER BY relname"
            )
            for row in loaded:
                await conn.execute(f"VACUUM (ANALYZE) {row['name']}")
            # and the load's dirty pages written now, not by the checkpointer during the runs
            # below (a load leaves a checkpoint's worth of them: one run without this saw
            # 0.38 ms of "other processes" CPU a request and a p99 of 24.5 ms in the paced GET
            # at 10M rows, 4.08 ms at 1M; the next, with it, 4.65 ms at 10M, 4.92 ms at 1M;
            # the CHECKPOINT itself took 5 s); a role that may not checkpoint leaves it be
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CHECKPOINT")
    finally:
        await erp.aclose()
        await pool.close()
    return rates[0], rates[1]


async def set_hot_pairs(dsn: str, hot: list[tuple[str, str]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE stock SET erp_available = $3 WHERE (store_id, sku) IN "
            "(SELECT * FROM unnest($1::text[], $2::text[]))",
            [s for s, _ in hot],
            [k for _, k in hot],
            HOT_STOCK,
        )
    finally:
        await conn.close()


async def table_bytes(dsn: str, table: str) -> tuple[int, float, float]:
    """(rows, table bytes per row, index bytes per row) of ``table``."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetchval(f"SELECT count(*) FROM {table}")
        total, indexes = await conn.fetchrow(
            "SELECT pg_total_relation_size($1::regclass), pg_indexes_size($1::regclass)", table
        )
    finally:
        await conn.close()
    per_row = max(rows, 1)
    return rows, (total - indexes) / per_row, indexes / per_row


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


# ------------------------------------------------------------------------------- runs
def random_get_lua(key: str, skus: list[str], stores: list[str]) -> str:
    """One SKU of ``skus`` at random per request, in ``stores``."""
    names = ", ".join(f'"{s}"' for s in skus)
    tail = "".join(f"&store={s}" for s in stores)
    return (
        f"local skus = {{{names}}}\n"
        f'local headers = {{["Authorization"] = "Bearer {key}"}}\n'
        "function request()\n"
        '  return wrk.format("GET", "/v1/availability?sku=" .. skus[math.random(#skus)] .. '
        f'"{tail}", headers)\n'
        "end\n"
    )


def cpu_ms(result: WrkResult, who: str = "server") -> float:
    if result.cpu is None or not result.requests:
        return 0.0
    return float(getattr(result.cpu, who)) * 1000 / result.requests


async def pickups_run(
    args: argparse.Namespace,
    api: Server,
    dsn: str,
    key: str,
    state: SimulatorState,
    hot: list[tuple[str, str]],
    work: Path,
    profile: Path | None,
) -> WrkResult:
    stores, skus = list(state.stores), [i.sku for i in state.items]
    tag = f"{len(stores)}x{len(skus)}"

    async def wrk(label: str, prefix: str, seconds: float, measured: bool) -> WrkResult:
        return await run_wrk(
            label,
            api.url,
            pickup_lua(key, f"{prefix}{tag}", stores, skus, hot, HOT_SHARE),
            connections=args.pickup_connections,
            seconds=seconds,
            work_dir=work,
            server_pid=api.process.pid if measured else None,
            database=database_name(dsn) if measured else None,
        )

    await wrk("warm-up", "warm", 2, False)
    result = await wrk(
        "POST /v1/pickups (1 unit, unique Idempotency-Key)", "run", args.seconds, True
    )
    result.non2xx -= result.statuses.get("409", 0)  # refused for stock: an expected answer
    print(result.row(), flush=True)
    if profile is not None:
        async with pyspy(api.process.pid, profile, min(args.seconds, 8)):
            await wrk("profile", "prof", min(args.seconds, 8), False)
    return result


async def measure_size(args: argparse.Namespace, size: Size, profiles: list[str]) -> Figures:
    stores_n, skus_n = size
    figures = Figures(size)
    put = figures.values
    print(f"\n{size_name(size)}: {stores_n * skus_n:,} stock rows", flush=True)
    state = generate(SEED, stores_n, skus_n)
    stores, skus = list(state.stores), [i.sku for i in state.items]
    rng = random.Random(SEED)
    read_skus = rng.sample(skus, min(args.read_skus, len(skus)))
    hot = sorted({(rng.choice(stores), rng.choice(skus)) for _ in range(HOT_PAIRS * 4)})[:HOT_PAIRS]
    sim_args = argparse.Namespace(in_process=False, stores=stores_n, skus=skus_n)
    with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
        work = Path(tmp)
        prefix = f"omnistock_bench_scale_{stores_n}x{skus_n}"
        async with fresh_database(admin_dsn(), prefix) as dsn:
            async with simulator(sim_args, state) as url:
                put["pass1"], put["pass2"] = await load(dsn, state, url, size)
            await set_hot_pairs(dsn, hot)
            pool = await create_pool(dsn, min_size=1, max_size=2)
            try:
                key, _ = await create_key(pool, "storefront", label="bench scale")
            finally:
                await pool.close()
            port = free_port()
            settings = {
                "read_through": "false",
                "stock_ttl_s": "3600",
                "stale_after_s": "3600",
                "pickup_max_staleness_s": "86400",
            }
            runner = Runner(args, work, database_name(dsn))
            async with server(
                f"omnistock-{size_name(size)}",
                omnistock_argv(port),
                port=port,
                ready_path="/readyz",
                env=server_env(dsn, **settings),
                cpus=SERVER_CPUS,
                log_dir=work,
            ) as api:
                print(HEADER, flush=True)
                get = random_get_lua(key, read_skus, stores[:GET_STORES])
                label = f"GET 1 SKU (of {len(read_skus):,}) x {GET_STORES} stores"
                b = await runner.saturate(label, api, get, args.connections)
                paced = await runner.paced(label, api, get, b.rate / 2, args.connections)
                put["get_rate"], put["get_cpu"] = b.rate, cpu_ms(b)
                put["get_p99"] = paced.p99_ms
                matrices = []
                for n_skus, n_stores in MATRICES:  # fewer stores in a small tenant: all of them
                    shape = read_skus[:n_skus], stores[:n_stores]
                    lua = matrix_lua(key, *shape)
                    label = f"POST availability {len(shape[0])} SKUs x {len(shape[1])} stores"
                    result = await runner.saturate(label, api, lua, args.matrix_connections)
                    matrices.append((cpu_ms(result), len(shape[0]) * len(shape[1]), lua))
                    if (len(shape[0]), len(shape[1])) != (n_skus, n_stores):
                        figures.notes.append(
                            f"POST {n_skus} x {n_stores} ran as {len(shape[0])} x "
                            f"{len(shape[1])} at {size_name(size)} (a smaller tenant)"
                        )
                put["page_cpu"], put["matrix_cpu"] = matrices[0][0], matrices[1][0]
                put["matrix_cells"] = matrices[1][0] * 1000 / matrices[1][1]
                if args.profile:
                    name = size_name(size)
                    profiles.append(
                        await runner.profiled(f"{name} GET", api, get, args.connections)
                    )
                    profiles.append(
                        await runner.profiled(
                            f"{name} POST 50 x 20", api, matrices[1][2], args.matrix_connections
                        )
                    )

                os.sched_setaffinity(api.process.pid, ALL_CPUS)  # PostgreSQL works here too
                baseline = await insert_baseline(dsn, args.pickup_connections, args.seconds)
                print(baseline.row(), flush=True)
                out = None
                if args.profile:
                    out = Path(args.profile) / f"scale_{size_name(size)}_pickups.pyspy.txt"
                p = await pickups_run(args, api, dsn, key, state, hot, work, out)
                if out is not None:
                    profiles.append(f"{size_name(size)}: pickups ({out}):\n{profile_summary(out)}")
                put["insert_rate"] = baseline.rate
                put["created"] = p.statuses.get("201", 0) / p.seconds
                put["answered"], put["pickup_cpu"] = p.rate, cpu_ms(p)
                put["pickup_pg"] = cpu_ms(p, "postgres")
                await asyncio.sleep(0.5)  # the last answers of the profile run
                rss, peak = memory_mb(api.process.pid)
            found = await check(dsn, hot)
            put["oversold"] = found["pairs"]
            rows, table, index = await table_bytes(dsn, "stock")
            put["rows"], put["stock_table"], put["stock_index"] = rows, table, index
            rows, table, index = await table_bytes(dsn, "stock_holds")
            put["holds_rows"], put["holds_table"], put["holds_index"] = rows, table, index
            put["rss"], put["peak"] = rss, peak
    return figures


def size_name(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def table(results: list[Figures]) -> str:
    first, last = results[0], results[-1]
    ratio = f"{size_name(last.size)} / {size_name(first.size)}"
    width = max(12, *(len(size_name(r.size)) for r in results))
    lines = [
        f"{'':<48} "
        + " ".join(f"{size_name(r.size):>{width}}" for r in results)
        + f" {ratio:>{max(len(ratio), 8)}}"
    ]
    for key, (label, fmt, more_is_better) in ROWS.items():
        cells = [fmt.format(r.values[key]) if key in r.values else "-" for r in results]
        line = f"{label:<48} " + " ".join(f"{c:>{width}}" for c in cells)
        a, b = first.values.get(key), last.values.get(key)
        if len(results) > 1 and a and b is not None:
            mark = ""
            if more_is_better is not None:
                worse = b / a < 1 - TARGET_GROWTH if more_is_better else b / a > 1 + TARGET_GROWTH
                mark = " !" if worse else ""
            line += f" {b / a:>{max(len(ratio), 8)}.2f}{mark}"
        lines.append(line)
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    print(
        f"scale: sizes {', '.join(size_name(s) for s in args.sizes)} (stores x SKUs); "
        f"{args.seconds:g} s per run after a 2 s warm-up; {args.connections} connections "
        f"(GET, pickups), {args.matrix_connections} (matrices); load average "
        f"{os.getloadavg()[0]:.2f}, niceness {os.nice(0)}",
        flush=True,
    )
    profiles: list[str] = []
    results = [await measure_size(args, size, profiles) for size in args.sizes]
    print()
    print(table(results))
    print(
        f"(ratio: last size over first; '!' marks a cost that grew, or a rate that fell, by "
        f"more than {TARGET_GROWTH:.0%}: the target is within {TARGET_GROWTH:.0%})"
    )
    for note in (n for r in results for n in r.notes):
        print(note)
    for text in profiles:
        print(f"\n{text}")


def _sizes(text: str) -> list[Size]:
    sizes = []
    for part in text.split(","):
        stores, sep, skus = part.strip().lower().partition("x")
        if not sep or not stores.isdigit() or not skus.isdigit():
            raise argparse.ArgumentTypeError(f"not STORESxSKUS: {part!r}")
        sizes.append((int(stores), int(skus)))
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[(50, 20_000), (200, 50_000)],
        help="STORESxSKUS,... (default 50x20000,200x50000: 1M and 10M stock rows)",
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections, GET")
    parser.add_argument(
        "--pickup-connections", type=int, default=16, help="concurrency of the pickups runs"
    )
    parser.add_argument("--matrix-connections", type=int, default=8, help="wrk connections, POST")
    parser.add_argument(
        "--read-skus", type=int, default=5000, help="SKUs the GET requests draw from (per size)"
    )
    parser.add_argument("--profile", metavar="DIR", help="also py-spy the API into DIR")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of this process, the servers and wrk (e.g. -10 as root on a shared machine)",
    )
    args = parser.parse_args(argv)
    if any(stores < GET_STORES or skus < MATRICES[1][0] for stores, skus in args.sizes):
        parser.error(f"every size needs at least {GET_STORES} stores and {MATRICES[1][0]} SKUs")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    require_wrk()
    renice(args.nice)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
