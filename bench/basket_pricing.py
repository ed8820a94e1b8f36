"""Basket pricing over HTTP: 20-line baskets against 200 active rules, against a baseline.

    .venv/bin/python bench/basket_pricing.py [--seconds 10 --connections 8 --items 2000
                                              --rules 200 --lines 20 --baskets 1
                                              --client auto|wrk|aiohttp --gc-freeze --profile]

One run, one data set, measured in this order for both endpoints of one server process:

- baseline: ``POST /bench/basket/resolve``, a route registered only in this benchmark's server.
  It takes the same body through the same middlewares (auth, problems, metrics), parses it with
  the same model and resolves the items (``resolve_items``, in the database), then answers them
  unpriced;
- priced: ``POST /v1/baskets/price``, the real endpoint: the same (items are resolved in the
  database on every request too), plus the store price rows and the rule book from the app's
  pricing caches, the engine (``service.domain.pricing``), and a larger answer.

The caches are the production ones (``service.usecases.promotions.prices``, ``promo_rulebook``): the
rule book is rebuilt only when the rules change, price rows are kept at most 10 s and dropped on
every change a writer announces (NOTIFY). After the warm-up, the priced rows therefore mostly hit
the cache, as a busy API does; rows expire every 10 s during a run and are read again. Nothing
caches answers: every request is parsed, resolved, priced and encoded. ``--baskets N`` sends N
distinct baskets (random SKUs, one picked at random per request) instead of one.

``--gc-freeze`` calls ``gc.freeze()`` in the server after start-up (not what ``omnistock serve``
does today): it shows how much of the tail is full garbage collections over start-up objects.
``--profile`` adds a py-spy profile of the server on the priced endpoint (one connection).

Each endpoint is driven with one connection (latency: p50/p99) and with ``--connections``
(throughput: baskets/s). The client is wrk when installed (``--client auto``), else an aiohttp
client; the server runs in its own process (``--serve``), pinned to CPU 0 and the client to CPU
1 when there are two. Under each row: CPU per request of the server, the bench database's
PostgreSQL backends, the load generator and every other process on the machine (from /proc, see
``_harness.cpu_meter``): on a shared machine, "other processes" says how much the numbers were
disturbed. Also printed: the engine alone (``price_basket`` in this process).

The database is a fresh one, created and dropped here: on ``DATABASE_URL`` when set, else on
the embedded server (``stores.embedded``). This is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from _harness import (
    CpuUse,
    admin_dsn,
    cpu_meter,
    database_name,
    fresh_database,
    profile_summary,
    pyspy,
)
from aiohttp import web

from service.api.promotion_models import BasketIn
from service.api.routing import ANY_ROLE, Router, json_response, parse_body
from service.domain.pricing import Basket, BasketLine, price_basket
from service.erp.port import Item, StorePrice
from service.usecases.access.keys import create_key
from service.usecases.promotions.admin import import_promotions
from service.usecases.promotions.model import read_import
from stores import items as items_repo
from stores import prices as prices_repo
from stores import store_directory as directory_repo
from stores.db import create_pool
from stores.migrate import migrate

SEED, STORE, CATEGORIES = 7, "S001", [f"cat-{n}" for n in range(12)]
PRICED, BASELINE = "/v1/baskets/price", "/bench/basket/resolve"


# ------------------------------------------------------------------------------- data
def make_rules(rng: random.Random, skus: list[str], count: int) -> list[dict[str, Any]]:
    """``count`` rules, all active now in STORE: a realistic mix of kinds and targets."""
    now = datetime.now(UTC)
    rules = []
    for n in range(count):
        if n % 10 == 0:
            targets: dict[str, Any] = {"all_items": True}
        elif n % 3 == 0:
            targets = {"categories": rng.sample(CATEGORIES, 2), "label": "Selection"}
        else:
            targets = {"skus": rng.sample(skus, 8)}
        kind = ["percentage", "fixed_amount", "buy_x_get_y", "threshold"][n % 4]
        params: dict[str, Any] = {  # by kind
            "percentage": {"percent": str(rng.choice([5, 10, 15, 20]))},
            "fixed_amount": {"amount": "1.50"},
            "buy_x_get_y": {"buy_x": 2, "get_y": 1},
            "threshold": {"threshold": str(rng.choice([50, 100, 200])), "percent": "5"},
        }
        rules.append(
            {
                "id": f"R{n:04d}",
                "name": f"Rule {n}",
                "kind": kind,
                "targets": targets,
                **params[kind],
                "channel": rng.choice(["both", "store"]),
                "store_ids": [STORE] if n % 7 else [],
                "loyalty_only": n % 11 == 0,
                "priority": rng.randint(0, 5),
                "stackable": n % 5 != 0,
                "exclusive": n % 13 == 0,
                "starts_at": (now - timedelta(days=1)).isoformat(),
                "ends_at": (now + timedelta(days=30)).isoformat(),
            }
        )
    return rules


async def seed(pool: asyncpg.Pool, args: argparse.Namespace) -> tuple[str, list[list[str]]]:
    """Items, store prices (a third marked down), categories, rules; return a storefront key and
    the SKUs of ``--baskets`` baskets."""
    rng = random.Random(SEED)
    skus = [f"SKU-{n:06d}" for n in range(args.items)]
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        await directory_repo.upsert(conn, {"store_id": STORE, "name": "Bench store"})
        await items_repo.apply_items(conn, [Item(s, "", s) for s in skus])
        prices = []
        for sku in skus:
            base = Decimal(rng.randint(500, 12000)) / 100
            current = (
                (base * Decimal("0.8")).quantize(Decimal("0.01")) if rng.random() < 0.3 else base
            )
            prices.append(StorePrice(STORE, "", sku, "EUR", base, current, Decimal(0), ""))
        await prices_repo.apply_prices(conn, prices, now)
    categories = {s: rng.sample(CATEGORIES, 2) for s in skus}
    document = {"rules": make_rules(rng, skus, args.rules), "item_categories": categories}
    await import_promotions(pool, read_import(document))
    key, _ = await create_key(pool, "storefront", [], "bench")
    await pool.execute("ANALYZE")  # what autovacuum would have done by now in production
    return key, [rng.sample(skus, args.lines) for _ in range(args.baskets)]


# ------------------------------------------------------------------------------- server
async def _freeze_gc(app: web.Application) -> None:
    gc.collect()
    gc.freeze()  # start-up objects leave the collector's generations: shorter full collections


def serve(port: int, freeze_gc: bool) -> None:
    """Child process: the real app on DATABASE_URL, plus the baseline route."""
    from service.api.app import create_app
    from service.settings import load_settings
    from service.usecases.catalog.identifiers import resolve_items

    baseline = Router()

    @baseline.route(
        "POST", BASELINE, name="bench_resolve", summary="baseline", roles=ANY_ROLE, body=BasketIn
    )
    async def resolve(request: web.Request) -> web.Response:
        from service.api.appkeys import POOL

        body = await parse_body(request, BasketIn)
        query = body.query()
        async with request.app[POOL].acquire() as conn:
            items = await resolve_items(conn, query.lookups)
        lines = [
            {"sku": i.sku, "quantity": q} for i, q in zip(items, query.quantities, strict=True)
        ]
        return json_response(BasketIn.model_validate({**body.model_dump(), "lines": lines}))

    app = create_app(load_settings(log_level="WARNING", read_through=False))
    baseline.install(app)
    if freeze_gc:
        app.on_startup.append(_freeze_gc)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pin(cpu: int) -> None:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {cpu})


@contextlib.asynccontextmanager
async def server_process(dsn: str, port: int, freeze_gc: bool) -> AsyncIterator[tuple[str, int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNISTOCK_")}
    env |= {"DATABASE_URL": dsn, "OMNISTOCK_LOG_JSON": "false", "REDIS_URL": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        str(port),
        *(["--gc-freeze"] if freeze_gc else []),
        env=env,
        preexec_fn=lambda: _pin(0),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientError):
                    async with client.get(url + "/healthz") as reply:
                        if reply.status == 200:
                            break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the server did not start")
        yield url, process.pid
    finally:
        process.terminate()
        await process.wait()


# ------------------------------------------------------------------------------- clients
_WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
bodies = {%s}
request = function()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format('WRKJSON {"requests":%%d,"us":%%d,"p50":%%d,"p99":%%d,"errors":%%d}\\n',
    s.requests, s.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


async def drive_wrk(
    url: str, bodies: list[str], key: str, conns: int, seconds: float
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_LUA % (key, ", ".join(f"[===[{b}]===]" for b in bodies)))
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds:g}s", "-s", script.name, url]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, preexec_fn=lambda: _pin(1)
    )
    out, _ = await process.communicate()
    os.unlink(script.name)
    line = next(x for x in out.decode().splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    rate = data["requests"] / (data["us"] / 1e6)
    return {
        "requests": data["requests"],
        "rate": rate,
        "p50": data["p50"] / 1e3,
        "p99": data["p99"] / 1e3,
        "errors": data["errors"],
    }


async def drive_aiohttp(
    url: str, bodies: list[str], key: str, conns: int, seconds: float
) -> dict[str, float]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    errors = 0

    async def worker(session: aiohttp.ClientSession, until: float) -> None:
        nonlocal errors
        while time.perf_counter() < until:
            start = time.perf_counter()
            body = random.choice(bodies)
            async with session.post(url, data=body, headers=headers) as reply:
                await reply.read()
                errors += reply.status != 200
            latencies.append(time.perf_counter() - start)

    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session, start + seconds) for _ in range(conns)))
        elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": cuts[49] * 1e3,
        "p99": cuts[98] * 1e3,
        "errors": errors,
    }


# ------------------------------------------------------------------------------- measuring
async def engine_alone(pool: asyncpg.Pool, skus: list[str], rounds: int = 500) -> str:
    """The pure engine on the (first) benchmark basket: microseconds per basket, and what it
    did. The rule book is built once, as the server's cache does."""
    from service.usecases.promotions.rulebook import build_rules
    from stores import promotions as repo

    async with pool.acquire() as conn:
        book = build_rules(await repo.all_rules(conn), 1).book
        _, rows = await repo.price_rows(conn, STORE, skus)
    lines = [
        BasketLine(s, 1 + n % 3, rows[s].base_price, rows[s].current_price, rows[s].categories)
        for n, s in enumerate(skus)
    ]
    basket = Basket("store", tuple(lines), "EUR", STORE)
    at = datetime.now(UTC)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = price_basket(basket, book, at)
        times.append(time.perf_counter() - start)
    return (
        f"engine alone (price_basket in process, {len(book)} rules): "
        f"p50 {statistics.median(times) * 1e6:,.0f} us; {len(result.applied)} rules applied, "
        f"{len(result.not_applied)} considered but not applied; total {result.total}"
    )


def row(label: str, conns: int, r: dict[str, float], cpu: CpuUse) -> str:
    return (
        f"{label:<44} {conns:>5} {r['rate']:>10,.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
        f"{int(r['errors']):>6}\n{cpu.per_request(int(r['requests']))}"
    )


async def run(args: argparse.Namespace) -> None:
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    drive = drive_wrk if use_wrk else drive_aiohttp
    async with fresh_database(admin_dsn(), "omnistock_bench_baskets") as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            key, baskets = await seed(pool, args)
            print(await engine_alone(pool, baskets[0]))
        finally:
            await pool.close()
        bodies = [
            json.dumps(
                {
                    "channel": "store",
                    "store_id": STORE,
                    "lines": [{"sku": s, "quantity": 1 + n % 3} for n, s in enumerate(skus)],
                }
            )
            for skus in baskets
        ]
        async with server_process(dsn, free_port(), args.gc_freeze) as (url, pid):
            print(
                f"client: {'wrk' if use_wrk else 'aiohttp'}; {args.lines} lines, {args.rules} "
                f"rules, {len(bodies)} distinct basket(s); {args.seconds:g} s per row; "
                f"gc.freeze: {'yes' if args.gc_freeze else 'no'}"
            )
            print(
                f"{'scenario':<44} {'conns':>5} {'baskets/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
                f"{'errors':>6}"
            )
            results = {}
            for label, path in (
                ("baseline: parse + resolve, unpriced", BASELINE),
                ("priced: POST /v1/baskets/price", PRICED),
            ):
                await drive(url + path, bodies, key, 2, 1.0)  # warm up
                for conns in (1, args.connections):
                    meter = cpu_meter(pid, database_name(dsn), client_is_self=not use_wrk)
                    async with meter as cpu:
                        r = await drive(url + path, bodies, key, conns, args.seconds)
                    results[path, conns] = r
                    print(row(label, conns, r, cpu))
            if args.profile:
                out = Path(tempfile.gettempdir()) / f"basket-pricing-{os.getpid()}.pyspy.txt"
                async with pyspy(pid, out, args.seconds):
                    await drive(url + PRICED, bodies, key, 1, args.seconds)
                print(f"py-spy of the server, priced, 1 connection ({out}):")
                print(profile_summary(out, top=15))
    base, priced = results[BASELINE, 1], results[PRICED, 1]
    top_base, top_priced = results[BASELINE, args.connections], results[PRICED, args.connections]
    print(
        f"priced vs baseline: p50 {priced['p50'] / base['p50']:.2f}x "
        f"(+{priced['p50'] - base['p50']:.2f} ms); throughput at {args.connections} connections "
        f"{top_priced['rate'] / top_base['rate']:.0%} of the baseline; "
        f"target p50 < 5 ms: {'met' if priced['p50'] < 5 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument(
        "--baskets", type=int, default=1, help="distinct baskets, picked at random per request"
    )
    parser.add_argument("--client", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() in the server after start-up"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also py-spy the server on the priced endpoint"
    )
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.gc_freeze)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
