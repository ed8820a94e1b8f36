"""Stock freshness: the lag from a stock change in the ERP to a changed availability answer.

    .venv/bin/python bench/freshness.py [--changes 30 --seconds 120 --stores 20 --skus 5000
                                         --viewed 50 --set sync_hot_interval_s=2 ...]

The product's arrangement, every part a real process on loopback: the Cegid simulator
(``omnistock simulator --seed 42 --stores N --products M``: N shops, M SKUs and the web store),
``omnistock worker`` (every background job, default intervals: a full stock pass every
``OMNISTOCK_SYNC_FULL_INTERVAL_S``, the hot pass every ``OMNISTOCK_SYNC_HOT_INTERVAL_S``: the SKUs
viewed in the last ``OMNISTOCK_SYNC_HOT_NOW_S`` on every pass, the rest of the last
``OMNISTOCK_SYNC_HOT_WINDOW_S`` every ``OMNISTOCK_SYNC_HOT_REST_INTERVAL_S``) and
``omnistock serve`` (default settings: read-through on, ``OMNISTOCK_STOCK_TTL_S``, the 1 s answer
cache, the in-process cache, INFO access logs to a file). Their defaults are read from
``service.settings.Settings`` and printed; ``--set name=value`` (repeatable) overrides one for
both processes (``--set sync_hot_interval_s=2`` is ``OMNISTOCK_SYNC_HOT_INTERVAL_S=2``), to
compare a change of policy in the same arrangement.

A fresh database gets the migrations, the tenant's store directory (as ``omnistock demo`` imports
it) and a storefront key; the worker then runs its first items and full stock passes; the API
starts when both are recorded in ``sync_runs``.

Measured: a storefront (this process, aiohttp) asks ``GET /v1/availability?sku=X&store=S001..S005``
for each of ``--viewed`` SKUs once a second, all run long, from ``--warm-up`` seconds before the
first change (so the hot pass knows them). ``--changes`` changes per population are spread at
uniformly random moments over ``--seconds``; each sets the on-hand quantity of one SKU in one of
those 5 stores through the simulator's ``POST /_sim/stock`` (an in-store sale, -1, or a delivery,
+1..9: the answer's ``available`` always differs), then asks the same URL every 50 ms until the
answer's ``available`` for that store is the new quantity. The lag runs from the moment the
change was sent to the moment that answer arrived (50 ms resolution); a change not seen within
``--timeout`` counts as missed. Populations:

- viewed: one of the viewed SKUs (two changes of one SKU never overlap);
- cold: a SKU nobody asked for before (each change its own SKU); its first request is the
  first poll, right after the change.

Reported: p50, p95 and max lag per population, and what the run cost the ERP: calls per minute
during the measured window (from the first change to the last answer), by operation (the
simulator's ``GET /_sim/calls``) and by process (``omnistock_erp_calls_total`` of the API's and
the worker's ``/metrics``), and beside it the full stock pass's calls at start-up spread over its
period (it does not run inside a default window).

The database is a fresh one, created and dropped here: on ``DATABASE_URL`` when set, else on the
embedded server (``stores.embedded``). This is a benchmark, not a test: nothing is asserted; the
targets are printed beside the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from _harness import (
    Server,
    admin_dsn,
    count_lines,
    free_port,
    fresh_database,
    omnistock_argv,
    renice,
    server,
    server_env,
)

from service.demo import import_directory
from service.erp.simulator import generate
from service.settings import Settings
from service.usecases.access.keys import create_key
from stores.db import create_pool
from stores.migrate import migrate

SEED, QUERY_STORES, POLL_S, VIEW_S = 42, 5, 0.05, 1.0
FULL_PASS_OPERATION = "GetListItemInventoryDetailByStore"
TARGET_VIEWED_P95_S = 2.0
POLICY = (  # the settings that decide freshness, printed with their values for this run
    "sync_full_interval_s",
    "sync_hot_interval_s",
    "sync_hot_now_s",
    "sync_hot_rest_interval_s",
    "sync_hot_window_s",
    "stock_ttl_s",
    "refresh_deadline_s",
    "answer_cache_s",
)


@dataclass
class Population:
    name: str
    lags: list[float] = field(default_factory=list)
    missed: int = 0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0

    def row(self, changes: int) -> str:
        if not self.lags:
            return f"{self.name:<8} {changes:>8} {0:>6} {'-':>8} {'-':>8} {'-':>8} {'-':>8}"
        return (
            f"{self.name:<8} {changes:>8} {len(self.lags):>6} {self.percentile(0.5):>8.2f} "
            f"{self.percentile(0.95):>8.2f} {max(self.lags):>8.2f} "
            f"{statistics.fmean(self.lags):>8.2f}"
        )


ROW_HEADER = (
    f"{'SKUs':<8} {'changes':>8} {'seen':>6} {'p50 s':>8} {'p95 s':>8} {'max s':>8} {'mean s':>8}"
)


# ------------------------------------------------------------------------------- storefront
class Storefront:
    """The HTTP side: availability answers, simulator control, metrics."""

    def __init__(self, http: aiohttp.ClientSession, api: str, sim: str, key: str) -> None:
        self.http, self.api, self.sim = http, api, sim
        self.auth = {"Authorization": f"Bearer {key}"}
        self.stores = [f"S{n:03d}" for n in range(1, QUERY_STORES + 1)]
        self.errors: Counter[str] = Counter()

    def path(self, sku: str) -> str:
        return "/v1/availability?" + "&".join([f"sku={sku}", *(f"store={s}" for s in self.stores)])

    async def available(self, sku: str) -> dict[str, int] | None:
        """``available`` per store of the answer; None on an error answer (counted)."""
        try:
            async with self.http.get(self.api + self.path(sku), headers=self.auth) as reply:
                if reply.status != 200:
                    self.errors[str(reply.status)] += 1
                    return None
                body = await reply.json()
        except aiohttp.ClientError as exc:
            self.errors[type(exc).__name__] += 1
            return None
        return {cell["store_id"]: cell["available"] for cell in body["stores"]}

    async def view_forever(self, sku: str, phase: float) -> None:
        """The storefront showing ``sku`` once a second (a product page in steady demand)."""
        await asyncio.sleep(phase)
        next_at = time.monotonic()
        while True:
            await self.available(sku)
            next_at += VIEW_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def change(self, store: str, sku: str, rng: random.Random) -> int:
        """An in-store sale or a delivery in the ERP; returns the new available quantity."""
        query = {"store_id": store, "sku": sku}
        async with self.http.get(f"{self.sim}/_sim/stock", params=query) as reply:
            row = await reply.json()
        on_hand = row["on_hand"]
        on_hand += -1 if row["available"] >= 2 and rng.random() < 0.5 else rng.randint(1, 9)
        async with self.http.post(f"{self.sim}/_sim/stock", json={**query, "qty": on_hand}) as r:
            r.raise_for_status()
            return int((await r.json())["available"])

    async def erp_calls(self) -> Counter[str]:
        async with self.http.get(f"{self.sim}/_sim/calls") as reply:
            return Counter(await reply.json())

    async def process_calls(self, base: str) -> int:
        """ERP calls a process made, from its ``omnistock_erp_calls_total``."""
        async with self.http.get(f"{base}/metrics") as reply:
            text = await reply.text()
        found = re.findall(r"^omnistock_erp_calls_total\{[^}]*\} (\S+)$", text, re.M)
        return int(sum(float(v) for v in found))


async def measure_change(
    front: Storefront,
    population: Population,
    sku: str,
    at: float,
    rng: random.Random,
    timeout_s: float,
    lock: asyncio.Lock,
) -> float:
    """At ``at`` (monotonic), change ``sku`` in one store, then poll until the answer shows it.
    Returns the monotonic time the change was seen (or given up)."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    async with lock:
        store = rng.choice(front.stores)
        sent = time.monotonic()
        expected = await front.change(store, sku, rng)
        polls = 0
        while (now := time.monotonic()) - sent < timeout_s:
            answer = await front.available(sku)
            if answer is not None and answer.get(store) == expected:
                seen = time.monotonic()
                population.lags.append(seen - sent)
                return seen
            polls += 1
            await asyncio.sleep(max(0.0, sent + polls * POLL_S - time.monotonic()))
        population.missed += 1
        return now


# ------------------------------------------------------------------------------- set-up
async def wait_for_first_passes(dsn: str, worker: Server, limit_s: float = 600) -> None:
    """Until the worker has recorded its first items and full stock passes."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            done = await conn.fetchval(
                "SELECT count(*) FROM sync_runs WHERE job IN ('items', 'stock_full')"
            )
            if done == 2:
                return
            if worker.process.returncode is not None:
                raise RuntimeError(f"the worker exited: {worker.log.read_text()}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise RuntimeError(f"the worker's first passes took over {limit_s:g} s")


def policy(overrides: dict[str, str]) -> dict[str, str]:
    """The freshness settings of this run: the product's defaults, then ``--set``."""
    fields = Settings.model_fields
    values = {name: f"{fields[name].default:g}" for name in POLICY}
    values.update({k: v for k, v in overrides.items() if k in values})
    return values


async def run(args: argparse.Namespace) -> None:
    overrides = dict(args.set)
    settings = policy(overrides)
    state = generate(SEED, args.stores, args.skus, web_store_id="WEB", web_store=True)
    shop_skus = [item.sku for item in state.items]
    rng = random.Random(SEED)
    picked = rng.sample(shop_skus, args.viewed + args.changes)
    viewed, cold = picked[: args.viewed], picked[args.viewed :]
    print(
        f"freshness: {args.stores} stores x {args.skus:,} SKUs (+ the web store); "
        f"{args.viewed} viewed SKUs asked once a second each; {args.changes} changes per "
        f"population at random moments over {args.seconds:g} s, each polled every "
        f"{POLL_S * 1000:.0f} ms; settings: "
        + ", ".join(f"{k}={v}" for k, v in settings.items())
        + f"; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    populations = {"viewed": Population("viewed"), "cold": Population("cold")}
    with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
        work = Path(tmp)
        async with fresh_database(admin_dsn(), "omnistock_bench_freshness") as dsn:
            pool = await create_pool(dsn, min_size=1, max_size=2)
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
                await import_directory(pool, state)
                key, _ = await create_key(pool, "storefront", label="bench freshness")
            finally:
                await pool.close()
            sim_port, worker_port, api_port = free_port(), free_port(), free_port()
            sim_argv = [omnistock_argv(0)[0], "simulator", "--port", str(sim_port)]
            sim_argv += ["--seed", str(SEED), "--stores", str(args.stores)]
            sim_argv += ["--products", str(args.skus)]
            async with server(
                "simulator",
                sim_argv,
                port=sim_port,
                ready_path="/_sim/health",
                env=server_env(dsn),
                log_dir=work,
            ) as sim:
                env = {"erp_url": sim.url, **overrides}
                started = time.monotonic()
                async with server(
                    "worker",
                    [omnistock_argv(0)[0], "worker"],
                    port=worker_port,
                    ready_path="/healthz",
                    env=server_env(dsn, **env, worker_metrics_port=str(worker_port)),
                    log_dir=work,
                ) as worker:
                    await wait_for_first_passes(dsn, worker)
                    first_passes_s = time.monotonic() - started
                    async with (
                        server(
                            "omnistock",
                            omnistock_argv(api_port),
                            port=api_port,
                            ready_path="/readyz",
                            env=server_env(dsn, **env),
                            log_dir=work,
                        ) as api,
                        aiohttp.ClientSession() as http,
                    ):
                        front = Storefront(http, api.url, sim.url, key)
                        start_up = await front.erp_calls()
                        viewers = [
                            asyncio.create_task(front.view_forever(sku, n * VIEW_S / len(viewed)))
                            for n, sku in enumerate(viewed)
                        ]
                        try:
                            await asyncio.sleep(args.warm_up)
                            window = await measure_window(
                                args, front, worker.url, populations, viewed, cold
                            )
                        finally:
                            for task in viewers:
                                task.cancel()
                            await asyncio.gather(*viewers, return_exceptions=True)
                        errors = front.errors
                        log_lines = count_lines(api.log)

    print()
    print(ROW_HEADER)
    for population in populations.values():
        print(population.row(args.changes))
    viewed_p95 = populations["viewed"].percentile(0.95)
    missed = {p.name: p.missed for p in populations.values() if p.missed}
    print(
        f"viewed p95: {viewed_p95:.2f} s (target <= {TARGET_VIEWED_P95_S:g} s at no more ERP "
        f"calls per minute); missed (not seen within {args.timeout:g} s): {missed or 0}; "
        f"error answers: {dict(errors) or 0}; omnistock log: {log_lines:,} lines"
    )
    rate = window.per_minute(sum(window.calls.values()))
    # at start-up only the full pass reads stock (nothing is hot before the API starts); the
    # journal counts the page it fetched ahead past the last one, which the pass does not
    full_calls = sum(n for op, n in start_up.items() if op.endswith(FULL_PASS_OPERATION))
    full_period = float(settings["sync_full_interval_s"])
    full_rate = full_calls / (full_period / 60)
    by_operation = ", ".join(
        f"{op} {window.per_minute(n):,.1f}" for op, n in sorted(window.calls.items())
    )
    print(
        f"ERP calls per minute over the {window.seconds:.0f} s window: {rate:,.1f} (API "
        f"read-through {window.per_minute(window.api_calls):,.1f}, worker "
        f"{window.per_minute(window.worker_calls):,.1f}); by operation: {by_operation or 'none'}"
    )
    print(
        f"full stock pass: {full_calls} calls at start-up, every {full_period:g} s = "
        f"{full_rate:,.1f}/min besides; with it: {rate + full_rate:,.1f}/min "
        f"(start-up passes took {first_passes_s:.1f} s; calls: "
        + ", ".join(f"{op} {n}" for op, n in sorted(start_up.items()))
        + ")"
    )


@dataclass
class Window:
    """What the measured window cost the ERP."""

    calls: Counter[str]  # by operation, from the simulator's journal
    api_calls: int  # made by the API (read-through refreshes)
    worker_calls: int  # made by the worker (sync passes)
    seconds: float

    def per_minute(self, n: float) -> float:
        return n / (self.seconds / 60)


async def measure_window(
    args: argparse.Namespace,
    front: Storefront,
    worker_url: str,
    populations: dict[str, Population],
    viewed: list[str],
    cold: list[str],
) -> Window:
    """Schedule the changes at random moments, poll each until seen; the ERP calls meanwhile."""
    before = await front.erp_calls()
    api_before = await front.process_calls(front.api)
    worker_before = await front.process_calls(worker_url)
    rng = random.Random(SEED + 1)
    start = time.monotonic()
    locks = {sku: asyncio.Lock() for sku in viewed + cold}
    jobs = []
    for n in range(args.changes):
        for name, sku in (("viewed", viewed[n % len(viewed)]), ("cold", cold[n])):
            at = start + rng.uniform(0, args.seconds)
            change_rng = random.Random(rng.random())
            jobs.append(
                measure_change(
                    front, populations[name], sku, at, change_rng, args.timeout, locks[sku]
                )
            )
    ends = await asyncio.gather(*jobs)
    return Window(
        calls=await front.erp_calls() - before,
        api_calls=await front.process_calls(front.api) - api_before,
        worker_calls=await front.process_calls(worker_url) - worker_before,
        seconds=max(ends) - start,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30, help="changes per population")
    parser.add_argument(
        "--seconds", type=float, default=120, help="the changes are spread over this long"
    )
    parser.add_argument("--stores", type=int, default=20, help="shops in the tenant")
    parser.add_argument("--skus", type=int, default=5000, help="SKUs in the tenant")
    parser.add_argument("--viewed", type=int, default=50, help="SKUs asked once a second each")
    parser.add_argument(
        "--warm-up", type=float, default=10, help="seconds of viewing before the first change"
    )
    parser.add_argument(
        "--timeout", type=float, default=60, help="a change not seen after this long is missed"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        type=_setting,
        metavar="NAME=VALUE",
        help="an omnistock setting for the API and the worker (sync_hot_interval_s=2 is "
        "OMNISTOCK_SYNC_HOT_INTERVAL_S=2); repeatable",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of this process and the servers (e.g. -10 as root on a shared machine)",
    )
    args = parser.parse_args(argv)
    if args.changes + args.viewed > args.skus:
        parser.error("--changes + --viewed must not exceed --skus (each cold change its own SKU)")
    if args.stores < QUERY_STORES:
        parser.error(f"--stores must be at least {QUERY_STORES} (the storefront asks 5 stores)")
    return args


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or name.lower() not in Settings.model_fields:
        raise argparse.ArgumentTypeError(f"not a NAME=VALUE omnistock setting: {text!r}")
    return name.lower(), value


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    renice(args.nice)
    asyncio.run(run(args))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
