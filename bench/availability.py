"""Storefront availability over HTTP: ``omnistock serve`` against a bare aiohttp app, with wrk.

    .venv/bin/python bench/availability.py [--seconds 10 --connections 50 --profile DIR]

Needs wrk (the load generator runs outside the server processes):
``apt-get update && apt-get install -y wrk`` (macOS: ``brew install wrk``). The script stops with
that message when wrk is not on PATH. ``--profile`` also needs py-spy (``.venv/bin/pip install
py-spy``).

One run, one data set: the Cegid simulator's ``generate(42, stores=24, products=61)`` tenant,
written straight into a fresh database (24 stores with their opening hours, 61 items with EANs,
24 x 60 stock rows ``as_of`` now and the 61st, "cold", SKU's 24 rows ``as_of`` one hour ago), and
a storefront key made with ``service.usecases.access.keys.create_key``. omnistock runs as
``.venv/bin/omnistock serve``: one process (it is single-process asyncio). Measured, in order:

(a) baseline: a bare aiohttp app in its own process, one handler returning a small constant
    dict with ``web.json_response``, no access log: ``GET /``;
(b) ``GET /v1/availability?sku=X&store=S001..S005`` (one SKU, 5 stores) against ``omnistock
    serve`` from a warm cache. Settings: ``OMNISTOCK_READ_THROUGH=false`` (no ERP client at all),
    ``OMNISTOCK_STOCK_TTL_S=3600`` so the snapshot stays "fresh" for the whole run, REDIS_URL unset
    (the in-process memory cache), everything else default, including ``OMNISTOCK_LOG_LEVEL=INFO``:
    one JSON access-log line per request, written to a file. Measured at saturation, then paced at
    half of that rate (p99 target); right after the saturated run, the same at saturation
    against a second server, started alongside, with ``OMNISTOCK_LOG_LEVEL=WARNING`` (no access
    log), for comparison;
Rounds: the bare app and both omnistock servers are started together, and (a), (b) and (b)
WARNING at saturation run as ``--rounds`` (default 3) interleaved rounds, a, b, b WARNING, a,
b, ...: on this shared 2-core machine the same code measured 58-84% from one back-to-back pair
to the next (the bare app alone 7,642-10,974 req/s). Every round is printed; the round with the
median (b)/(a) ratio stands for the run (its (b) rate sets the paced run's);
(c) ``POST /v1/availability`` with 50 SKUs x 20 stores (1,000 cells) in the JSON body, same server
    and settings as (b) (INFO), 8 wrk connections (``--matrix-connections``), at saturation and
    paced at half of that rate (p50 target);
(c2) the category-page shape: ``POST /v1/availability`` with 48 SKUs x 5 stores (240 cells: a
    storefront category page of 48 products, each in the 5 nearest stores), same server, settings
    and connections as (c), at saturation;
(d) ERP calls per 1,000 cold requests for one key: the simulator (``omnistock simulator``, its
    own process) serves the same tenant; ``omnistock serve`` with read-through on
    (``OMNISTOCK_STOCK_TTL_S`` default 30 s; the cold SKU's snapshot is an hour old); the bench
    opens 1,000 keep-alive connections (``/healthz``), then sends 1,000 ``GET /v1/availability``
    for the cold SKU at once (aiohttp client, this process) and counts the ERP calls in the
    simulator's ``GET /_sim/calls`` before and after (1 s after the burst, for a late refresh).

Every number comes from wrk's own summary (requests / duration; latency percentiles from wrk's
histogram, measured from send to answer): requests/s, p50, p99, and errors (non-2xx answers plus
socket errors). Each measured run follows a 2 s warm-up run that is not counted. "Paced" runs fix
the arrival rate with a Lua ``delay()`` per request: each connection waits a random 0.5x..1.5x of
``connections / target rate`` after every answer; the achieved rate is printed beside the target.

CPUs (2 cores): omnistock and the bare app are pinned to CPU 0 and wrk (1 thread) to CPU 1, so
the client never steals the server's core. PostgreSQL is not pinned: with a warm cache, (b) reads
nothing from PostgreSQL per request (the encoded answer is reused for up to
``OMNISTOCK_ANSWER_CACHE_S``, 1 s, and recomputed from the stock cache after that; resolved items
are kept 30 s), besides a key re-check every 5 s and a hot-SKU flush every 2 s; (c) is computed
for every request (1,000 cells from the stock cache) and never cached as an answer. Under each
row, "CPU per request" splits the CPU used during the run between the server process (and its
part in the kernel), this database's PostgreSQL backends, wrk and every other process on the
machine (a busy neighbour shows up there), from /proc. ``--profile DIR`` adds py-spy samples of
omnistock under (b), (c) and (c2) at saturation (separate runs after the measured ones),
summarised at the end.

The database is a fresh one, created and dropped here: on ``DATABASE_URL`` when set, else on the
embedded server (``stores.embedded``). This is a benchmark, not a test: nothing is asserted; the
targets are printed beside the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from _harness import (
    HEADER,
    Server,
    WrkResult,
    admin_dsn,
    bare_app_argv,
    count_lines,
    database_name,
    free_port,
    fresh_database,
    lua_string,
    omnistock_argv,
    paced_delay,
    profile_summary,
    pyspy,
    renice,
    require_wrk,
    run_wrk,
    server,
    server_env,
)

from service.demo import directory_entry
from service.erp.port import Item, StockLine
from service.erp.simulator import SimulatorState, generate, store_directory
from service.usecases.access.keys import create_key
from stores import items as items_repo
from stores import stock as stock_repo
from stores import store_directory as directory_repo
from stores.db import create_pool
from stores.migrate import migrate

SEED, STORES, SKUS = 42, 24, 60
GET_STORES, MATRIX_SKUS, MATRIX_STORES = 5, 50, 20
PAGE_SKUS, PAGE_STORES = 48, 5  # a storefront category page: 48 products x 5 nearest stores
COLD_REQUESTS = 1000
WARM_UP_S = 2
SERVER_CPUS, WRK_CPUS = {0}, {1}
TARGETS = {
    "ratio": 0.8,  # (b) vs (a), access log on
    "p99_ms": 10.0,
    "matrix_p50_ms": 15.0,
    "matrix_ms_per_1000_cells": 1.5,  # server CPU
    "erp_calls": 1,
}


# ------------------------------------------------------------------------------- data
async def seed(pool: asyncpg.Pool, state: SimulatorState, cold_sku: str) -> None:
    """The tenant's stores, items and stock; the cold SKU's rows one hour old."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        for store in store_directory(state):
            await directory_repo.upsert(conn, directory_entry(store))
        await items_repo.apply_items(conn, [Item(i.sku, i.ean, i.description) for i in state.items])
        for sku_set, as_of in (
            ([i for i in state.items if i.sku != cold_sku], now),
            ([i for i in state.items if i.sku == cold_sku], now - timedelta(hours=1)),
        ):
            lines = [
                StockLine(code, item.sku, state.available(code, state.sku_index[item.sku]))
                for code in state.stores
                for item in sku_set
            ]
            await stock_repo.apply_stock_lines(conn, lines, as_of)


def get_lua(key: str, sku: str, stores: list[str]) -> str:
    query = "&".join([f"sku={sku}", *(f"store={s}" for s in stores)])
    return (
        f'wrk.method = "GET"\nwrk.path = "/v1/availability?{query}"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )


def matrix_lua(key: str, skus: list[str], stores: list[str]) -> str:
    body = json.dumps({"lines": [{"sku": s} for s in skus], "stores": stores})
    return (
        'wrk.method = "POST"\nwrk.path = "/v1/availability"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {lua_string(body)}\n"
    )


# ------------------------------------------------------------------------------- measuring
class Runner:
    """Runs wrk against one server at a time, CPU accounted, rows printed as they come."""

    def __init__(self, args: argparse.Namespace, work: Path, database: str) -> None:
        self.args, self.work, self.database = args, work, database

    async def _wrk(
        self, label: str, srv: Server, lua: str, conns: int, seconds: float, **kw: Any
    ) -> WrkResult:
        return await run_wrk(
            label,
            srv.url,
            lua,
            connections=conns,
            seconds=seconds,
            cpus=WRK_CPUS,
            work_dir=self.work,
            server_pid=srv.process.pid,
            database=self.database,
            **kw,
        )

    async def saturate(self, label: str, srv: Server, lua: str, conns: int) -> WrkResult:
        await self._wrk("warm-up", srv, lua, conns, WARM_UP_S)
        result = await self._wrk(label, srv, lua, conns, self.args.seconds)
        print(result.row(), flush=True)
        return result

    async def paced(self, label: str, srv: Server, lua: str, rate: float, conns: int) -> WrkResult:
        lua += paced_delay(conns, rate)
        label = f"{label} (target {rate:,.0f}/s)"
        result = await self._wrk(label, srv, lua, conns, self.args.seconds, target_rate=rate)
        print(result.row(), flush=True)
        return result

    async def profiled(self, name: str, srv: Server, lua: str, conns: int) -> str:
        await asyncio.sleep(1.0)  # let the server finish what the last run left in flight
        slug = "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
        out = Path(self.args.profile) / f"{slug}.pyspy.txt"
        seconds = min(self.args.seconds, 8)
        async with pyspy(srv.process.pid, out, seconds):
            await self._wrk("profile", srv, lua, conns, seconds)
        return f"py-spy of omnistock, {name} at saturation ({out}):\n{profile_summary(out)}"


def server_ms_per_1000_cells(x: WrkResult, cells: int) -> float:
    """Server CPU (process and its kernel time) per request, per 1,000 cells of the matrix."""
    if x.cpu is None or not x.requests:
        return 0.0
    return x.cpu.server * 1000 / x.requests * 1000 / cells


def capacity_ratio(x: WrkResult, base: WrkResult) -> float:
    if x.cpu is None or base.cpu is None or not base.cpu.server_capacity(base.requests):
        return 0.0
    return x.cpu.server_capacity(x.requests) / base.cpu.server_capacity(base.requests)


async def cold_burst(
    url: str, sim_url: str, key: str, sku: str, stores: list[str]
) -> tuple[int, Counter[str], Counter[str], float]:
    """1,000 requests for one cold SKU at once, on already open connections.
    Returns (ERP calls, answers by status, answers by source, seconds)."""
    query = "&".join([f"sku={sku}", *(f"store={s}" for s in stores)])
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=0, force_close=False, keepalive_timeout=60)
    statuses: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    async with aiohttp.ClientSession(connector=connector) as client:

        async def call(path: str) -> tuple[int, Any]:
            async with client.get(url + path, headers=headers) as reply:
                body = await reply.json() if reply.status == 200 else await reply.text()
                return reply.status, body

        for _ in range(3):  # open the connections (the listen backlog may delay some)
            await asyncio.gather(*(call("/healthz") for _ in range(COLD_REQUESTS)))
        async with client.get(f"{sim_url}/_sim/calls") as reply:
            before = Counter(await reply.json())
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(call(f"/v1/availability?{query}") for _ in range(COLD_REQUESTS))
        )
        seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)  # a refresh that missed the deadline goes on: let it finish
        async with client.get(f"{sim_url}/_sim/calls") as reply:
            after = Counter(await reply.json())
    for status, body in answers:
        statuses[str(status)] += 1
        if status == 200:
            sources[body["stores"][0]["source"]] += 1
    return sum((after - before).values()), statuses, sources, seconds


async def run(args: argparse.Namespace) -> None:
    state = generate(SEED, STORES, SKUS + 1)
    skus = [i.sku for i in state.items]
    cold_sku, skus = skus[-1], skus[:-1]
    stores = list(state.stores)
    conns, matrix_conns = args.connections, args.matrix_connections
    profiles: list[str] = []
    print(
        f"availability: {STORES} stores x {SKUS} SKUs (+1 cold SKU); omnistock serve: 1 process "
        f"on CPU 0, in-memory cache, OMNISTOCK_READ_THROUGH=false; wrk: 1 thread on CPU 1; "
        f"{args.seconds:g} s per run after a {WARM_UP_S} s warm-up; load average "
        f"{os.getloadavg()[0]:.2f}, niceness {os.nice(0)}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
        work = Path(tmp)
        async with fresh_database(admin_dsn(), "omnistock_bench_availability") as dsn:
            runner = Runner(args, work, database_name(dsn))
            pool = await create_pool(dsn, min_size=1, max_size=2)
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
                await seed(pool, state, cold_sku)
                key, _ = await create_key(pool, "storefront", label="bench availability")
            finally:
                await pool.close()
            get = get_lua(key, skus[0], stores[:GET_STORES])
            matrix = matrix_lua(key, skus[:MATRIX_SKUS], stores[:MATRIX_STORES])
            page = matrix_lua(key, skus[:PAGE_SKUS], stores[:PAGE_STORES])
            print(HEADER, flush=True)

            warm = {"read_through": "false", "stock_ttl_s": "3600", "stale_after_s": "3600"}
            port, info_port, warning_port = free_port(), free_port(), free_port()
            async with (
                server(
                    "bare",
                    bare_app_argv(port),
                    port=port,
                    ready_path="/",
                    cpus=SERVER_CPUS,
                    log_dir=work,
                ) as bare,
                server(
                    "omnistock-info",
                    omnistock_argv(info_port),
                    port=info_port,
                    ready_path="/readyz",
                    env=server_env(dsn, **warm),
                    cpus=SERVER_CPUS,
                    log_dir=work,
                ) as api,
                server(
                    "omnistock-warning",
                    omnistock_argv(warning_port),
                    port=warning_port,
                    ready_path="/readyz",
                    env=server_env(dsn, **warm, log_level="WARNING"),
                    cpus=SERVER_CPUS,
                    log_dir=work,
                ) as quiet,
            ):
                rounds: list[tuple[WrkResult, WrkResult, WrkResult]] = []
                for n in range(1, args.rounds + 1):
                    label = f"(a) baseline: bare aiohttp app, constant JSON [{n}]"
                    a = await runner.saturate(label, bare, "", conns)
                    label = f"(b) GET availability 1 SKU x {GET_STORES} stores, INFO [{n}]"
                    b = await runner.saturate(label, api, get, conns)
                    label = f"(b) same, OMNISTOCK_LOG_LEVEL=WARNING (no access log) [{n}]"
                    b_warn = await runner.saturate(label, quiet, get, conns)
                    rounds.append((a, b, b_warn))
                # the round with the median (b)/(a) ratio stands for the run (all are printed)
                a, b, b_warn = sorted(rounds, key=lambda r: r[1].rate / r[0].rate)[len(rounds) // 2]
                b_paced = await runner.paced("(b) INFO, paced", api, get, b.rate / 2, conns)
                label = f"(c) POST availability {MATRIX_SKUS} SKUs x {MATRIX_STORES} stores, INFO"
                c = await runner.saturate(label, api, matrix, matrix_conns)
                c_paced = await runner.paced(
                    "(c) same, paced", api, matrix, c.rate / 2, matrix_conns
                )
                label = f"(c2) POST availability {PAGE_SKUS} SKUs x {PAGE_STORES} stores, INFO"
                c2 = await runner.saturate(label, api, page, matrix_conns)
                log_lines = count_lines(api.log)
                if args.profile:
                    profiles.append(await runner.profiled("(b) GET", api, get, conns))
                    profiles.append(await runner.profiled("(c) POST", api, matrix, matrix_conns))
                    profiles.append(await runner.profiled("(c2) POST", api, page, matrix_conns))

            sim_port, port = free_port(), free_port()
            sim_argv = [omnistock_argv(0)[0], "simulator", "--port", str(sim_port)]
            sim_argv += ["--seed", str(SEED), "--stores", str(STORES), "--products", str(SKUS + 1)]
            async with (
                server(
                    "simulator",
                    sim_argv,
                    port=sim_port,
                    ready_path="/_sim/health",
                    env=server_env(dsn),
                    log_dir=work,
                ) as sim,
                server(
                    "omnistock-read-through",
                    omnistock_argv(port),
                    port=port,
                    ready_path="/readyz",
                    env=server_env(dsn, erp_url=sim.url),
                    log_dir=work,
                ) as api,
            ):
                calls, statuses, sources, burst_s = await cold_burst(
                    api.url, sim.url, key, cold_sku, stores[:GET_STORES]
                )

    print()
    each = ", ".join(f"{rb.rate / ra.rate:.1%}" for ra, rb, _ in rounds)
    print(
        f"(b)/(a) throughput, median of {len(rounds)} interleaved rounds: {b.rate / a.rate:.1%} "
        f"(target >= {TARGETS['ratio']:.0%}; rounds: {each}); with WARNING logs: "
        f"{b_warn.rate / a.rate:.1%}; by server CPU per request (one core each, neighbours "
        f"factored out): {capacity_ratio(b, a):.1%}, WARNING {capacity_ratio(b_warn, a):.1%}"
    )
    print(
        f"(b) p99 at half of (b)'s saturation: {b_paced.p99_ms:.2f} ms (target < "
        f"{TARGETS['p99_ms']:g} ms), {b_paced.rate:,.0f}/s achieved of "
        f"{b_paced.target_rate or 0:,.0f}/s"
    )
    print(
        f"(c) p50 at half of (c)'s saturation: {c_paced.p50_ms:.2f} ms (target < "
        f"{TARGETS['matrix_p50_ms']:g} ms), {c_paced.rate:,.0f}/s achieved of "
        f"{c_paced.target_rate or 0:,.0f}/s; at saturation ({c.connections} connections): "
        f"p50 {c.p50_ms:.2f} ms"
    )
    print(
        "server CPU per 1,000 cells (target <= "
        f"{TARGETS['matrix_ms_per_1000_cells']:g} ms): (c) {MATRIX_SKUS}x{MATRIX_STORES} "
        f"{server_ms_per_1000_cells(c, MATRIX_SKUS * MATRIX_STORES):.2f} ms, (c2) "
        f"{PAGE_SKUS}x{PAGE_STORES} {server_ms_per_1000_cells(c2, PAGE_SKUS * PAGE_STORES):.2f} "
        f"ms ({c2.rate:,.0f} pages/s)"
    )
    print(f"omnistock INFO log: {log_lines:,} lines over the (b)+(c)+(c2) runs and their warm-ups")
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    by_source = ", ".join(f"{k}: {v}" for k, v in sorted(sources.items()))
    print(
        f"ERP calls per 1,000 cold requests for one key: {calls} (target "
        f"{TARGETS['erp_calls']}); {sum(statuses.values()):,} requests in {burst_s:.2f} s, "
        f"HTTP {answers}; source {by_source}"
    )
    for text in profiles:
        print(f"\n{text}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections, (a)/(b)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved (a), (b), (b) WARNING rounds"
    )
    parser.add_argument("--matrix-connections", type=int, default=8, help="wrk connections for (c)")
    parser.add_argument(
        "--profile", metavar="DIR", help="also py-spy omnistock under (b) and (c) into DIR"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of this process, the servers and wrk (e.g. -10 as root on a shared machine)",
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
