"""ERP-facing commands: ``sync``, ``simulator``, ``erp ping``, ``erp check``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from service.bootstrap import build_erp, cegid_config
from service.cli.common import configured_settings, open_pool
from service.observability import Metrics
from service.settings import Settings
from service.usecases.stock import sync
from service.workers.jobs import sync_context
from service.workers.runner import Job, run_singleton

PASSES = {
    ("stock", False): sync.hot_stock_pass,
    ("stock", True): sync.full_stock_pass,
    ("items", False): sync.items_pass,
    ("items", True): sync.items_pass,
    ("prices", False): sync.prices_pass,
    ("prices", True): sync.prices_pass,
}
JOB_NAMES = {
    sync.hot_stock_pass: "stock_hot",
    sync.full_stock_pass: "stock_full",
    sync.items_pass: "items",
    sync.prices_pass: "prices",
}


def _progress_bar(label: str) -> sync.Progress:
    def show(calls: int, rows: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{label}: {calls} ERP calls, {rows:,} rows", end="", file=sys.stderr)

    return show


async def run_sync(settings: Settings, what: str, full: bool) -> int:
    pass_fn = PASSES[(what, full)]
    pool = await open_pool(settings, max_size=settings.db_pool_max)
    metrics = Metrics()
    erp = await build_erp(settings, metrics)
    try:
        ctx = sync_context(settings, pool, erp, metrics)
        reports: list[sync.PassReport] = []

        async def once(c: sync.SyncContext) -> int:
            reports.append(await pass_fn(c, _progress_bar(JOB_NAMES[pass_fn])))
            return reports[-1].rows_changed

        ran = await run_singleton(pool, Job(JOB_NAMES[pass_fn], once, 0), ctx)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if ran is None:
            print(
                f"{JOB_NAMES[pass_fn]} is running in another process; try again later",
                file=sys.stderr,
            )
            return 3
        print(reports[0].summary())
        return 0
    finally:
        await erp.aclose()
        await pool.close()


async def erp_ping(settings: Settings) -> int:
    erp = await build_erp(settings, Metrics())
    try:
        print(await erp.hello("omnistock ping"))
        return 0
    finally:
        await erp.aclose()


async def erp_check(settings: Settings, *, as_json: bool, verbose: bool, live: bool) -> int:
    """``erp check``: the tenant's contract against ours, then read-only calls; 0 when nothing
    blocks go-live, 1 on a blocking difference, 2 when the tenant cannot be reached."""
    from service.erp.cegid.contract_check import render, run_check

    try:
        config = cegid_config(settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = await run_check(config, live=live)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render(report, verbose=verbose))
    return report.exit_code


async def run_simulator_cmd(args: argparse.Namespace, settings: Settings) -> None:
    from service.erp.simulator import generate, run_simulator

    state = generate(
        seed=args.seed,
        stores=args.stores,
        products=args.products,
        web_store_id=settings.web_store_id,
        web_store=True,
    )
    users = {settings.erp_user: settings.erp_password.get_secret_value()}
    print(
        f"Cegid simulator on http://{args.host}:{args.port}/{settings.erp_app}/ "
        f"(DatabaseId {settings.erp_database_id}, user {settings.erp_user}); "
        f"control endpoints {'on' if args.control else 'off'}",
        flush=True,
    )
    await run_simulator(
        args.host,
        args.port,
        state,
        control=args.control,
        database_id=settings.erp_database_id,
        users=users,
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    sync_p = sub.add_parser("sync", help="run one sync pass now (stock, items or prices)")
    sync_p.add_argument("what", choices=["stock", "items", "prices"])
    sync_p.add_argument(
        "--full",
        action="store_true",
        help="stock: every store and item (default: the hot SKUs only)",
    )
    sync_p.set_defaults(func=_cmd_sync)

    sim = sub.add_parser("simulator", help="run the Cegid Y2 simulator with demo data")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8081)
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--stores", type=int, default=12)
    sim.add_argument("--products", type=int, default=2000, help="demo SKUs (sellable variants)")
    sim.add_argument(
        "--no-control",
        dest="control",
        action="store_false",
        help="without the /_sim/ control endpoints",
    )
    sim.set_defaults(func=_cmd_simulator)

    erp = sub.add_parser("erp", help="ERP connection tools")
    erp_sub = erp.add_subparsers(dest="erp_cmd", required=True)
    erp_sub.add_parser("ping", help="call HelloWorld on the configured ERP")
    check = erp_sub.add_parser(
        "check",
        help="compare the tenant's ?singleWsdl with the bundled contract and call its read-only "
        "operations once (exit 1 on a blocking difference, 2 when unreachable)",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--verbose", action="store_true", help="list the notes too")
    check.add_argument(
        "--no-live", dest="live", action="store_false", help="compare the WSDLs only"
    )
    erp.set_defaults(func=_cmd_erp)


def _cmd_sync(args: argparse.Namespace) -> int:
    return asyncio.run(run_sync(configured_settings(), args.what, args.full))


def _cmd_simulator(args: argparse.Namespace) -> int:
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_simulator_cmd(args, configured_settings()))
    return 0


def _cmd_erp(args: argparse.Namespace) -> int:
    from service.erp.port import ErpError

    try:
        if args.erp_cmd == "check":
            check = erp_check(
                configured_settings(), as_json=args.json, verbose=args.verbose, live=args.live
            )
            return asyncio.run(check)
        return asyncio.run(erp_ping(configured_settings()))
    except ErpError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
