"""Sustained pickup creations over HTTP (``POST /v1/pickups``) with zero oversell, against a
baseline of single-row INSERT transactions through asyncpg.

    .venv/bin/python bench/pickups.py [--rounds 3 --seconds 20 --connections 16 --profile DIR]

Needs wrk (the load generator runs outside the server process):
``apt-get update && apt-get install -y wrk`` (macOS: ``brew install wrk``). The script stops with
that message when wrk is not on PATH. ``--profile`` also needs py-spy (``.venv/bin/pip install
py-spy``).

Data: the Cegid simulator's ``generate(42, stores=24, products=200)`` tenant written straight into
a fresh database: 24 stores (their opening hours, no daily pickup capacity, both services), 200
items, 4,800 stock rows ``as_of`` now with the simulator's quantities (0..25, about 11% at 0), of
which 8 "hot" (store, SKU) pairs are set to 20 units; a storefront key made with
``service.usecases.access.keys.create_key``.
Buffers are the migration's global default (safety stock 0,
hide below 1).

Measured, in this order, at the same concurrency (``--connections``), ``--rounds`` times
(default 3; the ratio printed is the median round's: on this machine the baseline alone moves
by a third from one run to the next):

1. baseline: that many asyncpg connections (this process, plain ``asyncpg.create_pool``) each
   running ``BEGIN; INSERT INTO bench_insert (key) VALUES ($1); COMMIT`` in a loop (pool acquire
   per transaction, as the server does) for ``--seconds``; transactions/s, p50, p99;
2. ``POST /v1/pickups`` on ``omnistock serve`` (one process, default settings: INFO JSON access
   logs to a file, PostgreSQL pool max 10), driven by wrk (1 thread, a Lua ``request()``): every
   request a reservation of 1 unit of one line with its own ``Idempotency-Key``; 20% of them go to
   the 8 hot pairs (which sell out within seconds, then are refused: this is the contended case),
   the rest to a uniformly random (store, SKU) of the 4,800 (the ones at 0 are refused at once).
   After each round but the last, the check below is made and the round's holds released (as
   if its pickups were collected): every round starts from the same stock and open holds, the
   hot pairs' 20 units included.
   Requests/s (every answer: created or refused), p50, p99 of all answers (wrk's histogram),
   errors (socket errors and answers other than 201 and 409), and answers by HTTP status (201
   created, 409 refused for stock); a 2 s warm-up with the same script precedes it (its pickups
   count in the check, not in the rates). Under each row, "CPU per request" splits the CPU used
   during the run between the server process, this database's PostgreSQL backends, the load
   generator and every other process on the machine, from /proc.

``--compare-locked`` then measures the same load once more (one round, the same way) on
servers that always take the locked path (``OMNISTOCK_PICKUP_OPTIMISTIC_ATTEMPTS=0``: the stock
rows locked from the read to the commit, five round trips), on the same database, and prints
its ratio to the median round. The first round pays for autovacuum and autoanalyze of the
tables it fills (their CPU counts as PostgreSQL's).

``--hot-share S`` changes the 20% (``0``: no contention, nearly every request creates a
pickup); ``--replicas N`` runs N ``omnistock serve --reuse-port`` processes on the port (as N
replicas on one host; their CPU is added up as "server").

Then the check, from PostgreSQL, over every pickup created (warm-up included), after each
round: for every (store, sku), the sum of the open holds must not exceed
``stock.erp_available`` (``oversold`` counts the pairs where it does: must be 0); every pickup
holds its 1 unit; pickups in the database = 201 answers + the requests still in flight when wrk
stopped (at most ``--connections`` per wrk run). ``--profile DIR`` adds a py-spy run of
omnistock under the same load, summarised at the end.

CPUs (2 cores): nothing is pinned: PostgreSQL does much of the work here and must be free to use
both cores; wrk uses one thread. The database is a fresh one, created and dropped here: on
``DATABASE_URL`` when set, else on the embedded server (``stores.embedded``). This is a
benchmark, not a test: nothing is asserted; the target (>= 500 pickups/s) is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from _harness import (
    COUNT_STATUSES,
    HEADER,
    WrkResult,
    admin_dsn,
    count_lines,
    cpu_meter,
    database_name,
    free_port,
    fresh_database,
    lua_string,
    omnistock_argv,
    profile_summary,
    pyspy,
    renice,
    require_wrk,
    run_wrk,
    server,
    server_env,
)

from service.demo import directory_entry
from service.domain.pickup_codes import CodeHasher, new_code_salt, new_pickup_code
from service.erp.port import Item, StockLine
from service.erp.simulator import SimulatorState, generate, store_directory
from service.usecases.access.keys import create_key
from service.usecases.pickups.create import PickupSettings
from stores import items as items_repo
from stores import stock as stock_repo
from stores import store_directory as directory_repo
from stores.db import create_pool
from stores.migrate import migrate

SEED, STORES, SKUS = 42, 24, 200
HOT_PAIRS, HOT_STOCK, HOT_SHARE = 8, 20, 0.2
TARGET_RATE = 500
Pair = tuple[str, str]


# ------------------------------------------------------------------------------- data
async def seed(pool: asyncpg.Pool, state: SimulatorState, hot: list[Pair]) -> int:
    """Stores, items, stock; returns the units in stock."""
    now = datetime.now(UTC)
    stock = {
        (code, item.sku): state.available(code, index)
        for code in state.stores
        for index, item in enumerate(state.items)
    }
    stock.update(dict.fromkeys(hot, HOT_STOCK))
    async with pool.acquire() as conn, conn.transaction():
        for store in store_directory(state):
            entry = directory_entry(store)
            entry["pickup_capacity_per_day"] = None
            await directory_repo.upsert(conn, entry)
        await items_repo.apply_items(conn, [Item(i.sku, i.ean, i.description) for i in state.items])
        lines = [StockLine(code, sku, qty) for (code, sku), qty in stock.items()]
        await stock_repo.apply_stock_lines(conn, lines, now)
    return sum(stock.values())


def pickup_lua(
    key: str,
    prefix: str,
    stores: list[str],
    skus: list[str],
    hot: list[Pair],
    hot_share: float = HOT_SHARE,
) -> str:
    template = json.dumps(
        {
            "kind": "reservation",
            "store_id": "%s",
            "customer": {"email": "bench@example.com", "first_name": "Bench"},
            "lines": [{"sku": "%s", "quantity": 1}],
        }
    )
    lua_list = ", ".join
    return (
        f"""
local stores = {{{lua_list(f'"{s}"' for s in stores)}}}
local skus = {{{lua_list(f'"{s}"' for s in skus)}}}
local hot = {{{lua_list(f'{{"{s}", "{k}"}}' for s, k in hot)}}}
local template = {lua_string(template)}
local auth = "Bearer {key}"
function request()
  counter = counter + 1
  local store, sku
  if math.random() < {hot_share} then
    local pair = hot[math.random(#hot)]
    store, sku = pair[1], pair[2]
  else
    store, sku = stores[math.random(#stores)], skus[math.random(#skus)]
  end
  local headers = {{
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("{prefix}-%d-%d", tid, counter),
  }}
  return wrk.format("POST", "/v1/pickups", headers, string.format(template, store, sku))
end
"""
        + COUNT_STATUSES
    )


# ------------------------------------------------------------------------------- baseline
async def insert_baseline(dsn: str, concurrency: int, seconds: float) -> WrkResult:
    """Single-row INSERT transactions, ``concurrency`` at a time, for ``seconds`` (after a 2 s
    warm-up), CPU accounted (this process is the load generator)."""
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    latencies: list[float] = []
    try:
        await pool.execute(
            "DROP TABLE IF EXISTS bench_insert; "
            "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, key text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )

        async def worker(number: int, until: float, record: bool) -> None:
            n = 0
            while (now := time.perf_counter()) < until:
                n += 1
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        "INSERT INTO bench_insert (key) VALUES ($1)", f"{number}-{n}-{record}"
                    )
                if record:
                    latencies.append(time.perf_counter() - now)

        warm = time.perf_counter() + 2
        await asyncio.gather(*(worker(i, warm, False) for i in range(concurrency)))
        async with cpu_meter(None, database_name(dsn), client_is_self=True) as cpu:
            started = time.perf_counter()
            until = started + seconds
            await asyncio.gather(*(worker(i, until, True) for i in range(concurrency)))
            elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return WrkResult(
        label="baseline: asyncpg 1-row INSERT transaction",
        connections=concurrency,
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=pct(0.5),
        p90_ms=pct(0.9),
        p99_ms=pct(0.99),
        max_ms=latencies[-1] * 1000,
        non2xx=0,
        socket_errors=0,
        cpu=cpu,
    )


# ------------------------------------------------------------------------------- check
_OVERSOLD = """
SELECT count(*) FILTER (WHERE held > stock) AS pairs,
       coalesce(sum(held - stock) FILTER (WHERE held > stock), 0) AS units,
       count(*) FILTER (WHERE held = stock) AS sold_out,
       count(*) AS held_pairs,
       coalesce(sum(held), 0) AS held_units
FROM (
    SELECT h.store_id, h.sku, sum(h.qty) AS held, coalesce(s.erp_available, 0) AS stock
    FROM stock_holds h
    LEFT JOIN stock s USING (store_id, sku)
    WHERE h.released_at IS NULL
    GROUP BY h.store_id, h.sku, s.erp_available
) per_pair
"""
_HOT = """
SELECT count(*) FILTER (WHERE t.held = s.erp_available) FROM (
    SELECT store_id, sku, sum(qty) AS held FROM stock_holds
    WHERE released_at IS NULL AND (store_id, sku) IN (SELECT * FROM unnest($1::text[], $2::text[]))
    GROUP BY store_id, sku
) t JOIN stock s USING (store_id, sku)
"""
# After a round is checked: its pickups collected, as it were (their holds released), so that
# the next round starts from the same stock and open holds as the first
_RELEASE = "UPDATE stock_holds SET released_at = now() WHERE released_at IS NULL"


async def check_and_release(dsn: str, hot: list[Pair]) -> dict[str, Any]:
    """``check`` of the round just run, then its holds released."""
    found = await check(dsn, hot)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_RELEASE)
    finally:
        await conn.close()
    return found


async def check(dsn: str, hot: list[Pair]) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(_OVERSOLD)
        hot_sold_out = await conn.fetchval(_HOT, [s for s, _ in hot], [k for _, k in hot])
        pickups = await conn.fetchval("SELECT count(*) FROM pickups")
        schemes = await conn.fetch(_SCHEMES)
    finally:
        await conn.close()
    stored = ", ".join(f"{r['scheme']} {r['n']:,}" for r in schemes) or "none"
    return {**dict(row), "hot_sold_out": hot_sold_out, "pickups": pickups, "schemes": stored}


_SCHEMES = """
SELECT split_part(convert_from(code_hash, 'UTF8'), '$', 1) AS scheme, count(*) AS n
FROM pickups GROUP BY 1 ORDER BY 1
"""


def code_hash_cost(hasher: CodeHasher) -> float:
    """CPU seconds of one pickup-code hash by ``hasher``."""
    started = time.process_time()
    for _ in range(200):
        hasher.hash(new_pickup_code(), new_code_salt())
    return (time.process_time() - started) / 200


# ------------------------------------------------------------------------------- run
async def measure(
    args: argparse.Namespace,
    dsn: str,
    key: str,
    data: tuple[list[str], list[str], list[Pair]],
    work: Path,
    suffix: str,
    settings: dict[str, str],
    first: bool,
    round_no: int = 1,
) -> tuple[WrkResult, list[WrkResult], int, Path | None, str]:
    """Start the replicas with ``settings``, warm up, measure (and profile, on the first mode
    only): (the measured run, the other runs made, log lines, the profile file, the server's
    creation write outcomes)."""
    stores, skus, hot = data
    port = free_port()
    pid = os.getpid()
    tag = f"{pid}{'L' if settings else ''}r{round_no}"  # Idempotency-Keys unique across runs
    others: list[WrkResult] = []
    out = None
    async with contextlib.AsyncExitStack() as stack:
        apis = [
            await stack.enter_async_context(
                server(
                    f"omnistock{n}{tag}" if args.replicas > 1 else f"omnistock{tag}",
                    omnistock_argv(port) + (["--reuse-port"] if args.replicas > 1 else []),
                    port=port,
                    ready_path="/readyz",
                    env=server_env(dsn, **settings),
                    log_dir=work,
                )
            )
            for n in range(1, args.replicas + 1)
        ]
        api = apis[0]
        others.append(
            await run_wrk(
                "warm-up",
                api.url,
                pickup_lua(key, f"warm{tag}", stores, skus, hot, args.hot_share),
                connections=args.connections,
                seconds=2,
                work_dir=work,
            )
        )
        result = await run_wrk(
            f"POST /v1/pickups (1 unit, unique Idempotency-Key){suffix}",
            api.url,
            pickup_lua(key, f"run{tag}", stores, skus, hot, args.hot_share),
            connections=args.connections,
            seconds=args.seconds,
            work_dir=work,
            server_pid=[a.process.pid for a in apis],
            database=database_name(dsn),
        )
        # 409 (refused for stock) is an expected answer here, not an error
        result.non2xx -= result.statuses.get("409", 0)
        if args.profile and first:
            out = Path(args.profile) / "pickups.pyspy.txt"
            seconds = min(args.seconds, 8)
            async with pyspy(api.process.pid, out, seconds):
                others.append(
                    await run_wrk(
                        "profile",
                        api.url,
                        pickup_lua(key, f"prof{tag}", stores, skus, hot, args.hot_share),
                        connections=args.connections,
                        seconds=seconds,
                        work_dir=work,
                    )
                )
            await asyncio.sleep(0.5)
        writes = (
            f"  creation writes, warm-up included: {await write_outcomes(api.url)}"
            if args.replicas == 1  # with several, /metrics answers from one of them
            else ""
        )
        lines = sum(count_lines(a.log) for a in apis)
    return result, others, lines, out, writes


async def write_outcomes(base: str) -> str:
    """The server's ``omnistock_pickup_create_writes_total`` (warm-up and run together)."""
    async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as resp:
        text = await resp.text()
    found = re.findall(
        r'^omnistock_pickup_create_writes_total\{outcome="(\w+)"\} (\S+)$', text, re.M
    )
    return ", ".join(f"{outcome} {float(value):,.0f}" for outcome, value in found)


async def run(args: argparse.Namespace) -> None:
    state = generate(SEED, STORES, SKUS)
    stores = list(state.stores)
    skus = [i.sku for i in state.items]
    rng = random.Random(SEED)
    hot = sorted({(rng.choice(stores), rng.choice(skus)) for _ in range(HOT_PAIRS * 4)})[:HOT_PAIRS]
    conns = args.connections
    with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
        work = Path(tmp)
        async with fresh_database(admin_dsn(), "omnistock_bench_pickups") as dsn:
            pool = await create_pool(dsn, min_size=1, max_size=2)
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
                units = await seed(pool, state, hot)
                key, _ = await create_key(pool, "storefront", label="bench pickups")
            finally:
                await pool.close()
            replicas = (
                "1 process"
                if args.replicas == 1
                else f"{args.replicas} replicas (processes) sharing the port (--reuse-port)"
            )
            print(
                f"pickups: {STORES} stores x {SKUS} SKUs ({STORES * SKUS:,} pairs, {units:,} "
                f"units), {HOT_PAIRS} hot pairs of {HOT_STOCK} units get "
                f"{args.hot_share:.0%} of the requests; omnistock serve: {replicas}, default "
                f"settings (INFO logs, pool max 10 each); wrk: 1 thread; {conns} connections; "
                f"{args.seconds:g} s per run; "
                f"load average {os.getloadavg()[0]:.2f}, niceness {os.nice(0)}",
                flush=True,
            )
            print(HEADER, flush=True)
            rounds: list[tuple[WrkResult, WrkResult]] = []
            log_lines, warms, profile_out, checks = 0, [], None, []
            for n in range(1, args.rounds + 1):
                tag = f" [{n}]" if args.rounds > 1 else ""
                if n > 1:
                    checks.append(await check_and_release(dsn, hot))
                baseline = await insert_baseline(dsn, conns, args.seconds)
                baseline.label += tag
                print(baseline.row(), flush=True)
                measured, others, lines, out, writes_line = await measure(
                    args, dsn, key, (stores, skus, hot), work, tag, {}, n == 1, n
                )
                print(measured.row(), flush=True)
                if writes_line:
                    print(writes_line, flush=True)
                rounds.append((baseline, measured))
                warms.extend(others)
                log_lines += lines
                profile_out = profile_out or out
            locked = None
            if args.compare_locked:
                checks.append(await check_and_release(dsn, hot))
                locked, others, lines, _, writes_line = await measure(
                    args,
                    dsn,
                    key,
                    (stores, skus, hot),
                    work,
                    ", locked path",
                    {"pickup_optimistic_attempts": "0"},
                    False,
                )
                print(locked.row(), flush=True)
                if writes_line:
                    print(writes_line, flush=True)
                warms.extend(others)
                log_lines += lines
            checks.append(await check(dsn, hot))

    ordered = sorted(rounds, key=lambda r: r[1].rate / r[0].rate)
    baseline, result = ordered[len(ordered) // 2]  # the median round (the upper of two)
    runs = warms + [m for _, m in rounds] + ([locked] if locked else [])
    all_created = sum(r.statuses.get("201", 0) for r in runs)
    created = result.statuses.get("201", 0)
    refused = result.statuses.get("409", 0)
    unexpected = {k: v for k, v in result.statuses.items() if k not in ("201", "409")}
    print()
    print(
        f"pickups/s: {result.rate:,.0f} answered ({created / result.seconds:,.0f}/s created, "
        f"{refused / result.seconds:,.0f}/s refused) (target >= {TARGET_RATE}/s); "
        f"ratio to the INSERT baseline: {result.rate / baseline.rate:.0%}"
        + (
            f", the median of {len(rounds)} interleaved rounds (target >= 30%; rounds: "
            + ", ".join(f"{m.rate / b.rate:.0%}" for b, m in rounds)
            + "); figures on this line and the next from that round"
            if len(rounds) > 1
            else " (target >= 30%)"
        )
    )
    print(
        f"answers: accepted (201) {created:,}, refused (409) {refused:,}, other "
        f"{unexpected or 0}, socket errors {result.socket_errors}; latency p50 {result.p50_ms:.2f} "
        f"ms, p90 {result.p90_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, max {result.max_ms:.0f} ms"
    )
    last = checks[-1]
    each = len(checks) > 1
    sold_out = ", ".join(f"{c['sold_out']:,}" for c in checks)
    hot_sold_out = ", ".join(f"{c['hot_sold_out']}/{HOT_PAIRS}" for c in checks)
    print(
        f"check (PostgreSQL, every run incl. warm-up{' and profile' if args.profile else ''}"
        f"{', after each round' if each else ''}): oversold = "
        f"{sum(c['pairs'] for c in checks)} (store, sku) pairs, "
        f"{sum(c['units'] for c in checks)} units (must be 0); {last['pickups']:,} pickups "
        f"holding {sum(c['held_units'] for c in checks):,} units ({all_created:,} answered 201, "
        f"the rest were in flight when wrk stopped); pairs sold out exactly: "
        f"{sold_out} (hot: {hot_sold_out}); pickup codes "
        f"stored as: {last['schemes']}"
    )
    if locked is not None:
        print(
            f"locked path (OMNISTOCK_PICKUP_OPTIMISTIC_ATTEMPTS=0), same load after it: "
            f"{locked.rate:,.0f} answered/s, {locked.statuses.get('201', 0) / locked.seconds:,.0f}"
            f"/s created, p50 {locked.p50_ms:.2f} ms, p99 {locked.p99_ms:.2f} ms; default over "
            f"locked: {result.rate / locked.rate:.2f}x answered/s"
        )
    print(f"omnistock INFO log: {log_lines:,} lines")
    if profile_out is not None:
        print(f"\npy-spy of omnistock under the same load ({profile_out}):")
        print(profile_summary(profile_out))
        keyed = code_hash_cost(CodeHasher(b"bench"))
        pbkdf2 = code_hash_cost(PickupSettings().code_hasher)  # no shared key: 1,000 rounds
        print(
            f"pickup-code hash per created pickup: keyed HMAC (the server's, its data folder "
            f"holds the shared key) {keyed * 1e6:.1f} us; PBKDF2 (a server without a shared "
            f"key; runs without the GIL, so py-spy does not sample it) {pbkdf2 * 1000:.2f} ms"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved baseline and pickups rounds (median)"
    )
    parser.add_argument("--connections", type=int, default=16, help="concurrency of both runs")
    parser.add_argument("--profile", metavar="DIR", help="also py-spy omnistock into DIR")
    parser.add_argument(
        "--hot-share",
        type=float,
        default=HOT_SHARE,
        help="share of the requests sent to the 8 hot pairs (contention; refused once sold out)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="omnistock serve processes on one port (--reuse-port), as k8s replicas would run",
    )
    parser.add_argument(
        "--compare-locked",
        action="store_true",
        help="then the same load on servers that always lock (OMNISTOCK_PICKUP_OPTIMISTIC_"
        "ATTEMPTS=0), on the same database: its row and the ratio",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of this process, omnistock and wrk (e.g. -10 as root on a shared machine)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    require_wrk()
    renice(args.nice)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
