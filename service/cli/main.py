"""The ``omnistock`` command line: serve, worker, migrate, keys, demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from service.cli import catalog, erp, outbox, promotions
from service.cli.common import configured_settings, open_pool
from service.settings import Settings

log = logging.getLogger("omnistock")


# --------------------------------------------------------------------------- commands
def cmd_serve(args: argparse.Namespace) -> int:
    from service.api.app import create_app

    settings = configured_settings()
    if args.migrate:
        asyncio.run(_migrate(settings))
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    log.info("serving", extra={"host": host, "port": port})
    gc.collect()
    gc.freeze()  # start-up objects are permanent: keep them out of every later GC pass
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_objects)  # runs after every cleanup context started
    web.run_app(
        app,
        host=host,
        port=port,
        shutdown_timeout=settings.shutdown_timeout_s,
        access_log=None,
        print=None,
        reuse_port=args.reuse_port or None,
    )
    return 0


async def _freeze_startup_objects(_app: web.Application) -> None:
    gc.collect()
    gc.freeze()  # what the app built at start-up (pool, caches, ERP client) is permanent too


async def _migrate(settings: Settings) -> int:
    from stores.migrate import migrate

    pool = await open_pool(settings, max_size=settings.db_pool_max)
    try:
        async with pool.acquire() as conn:
            applied = await migrate(conn)
    finally:
        await pool.close()
    for m in applied:
        print(f"applied {m.version}_{m.name}")
    print(f"{len(applied)} migration(s) applied; schema is current")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from stores.migrate import MigrationError

    try:
        return asyncio.run(_migrate(configured_settings()))
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from service.errors import AppError
    from service.usecases.access import keys

    pool = await open_pool(settings, max_size=settings.db_pool_max)
    try:
        if args.keys_cmd == "create":
            key, record = await keys.create_key(pool, args.role, args.store, args.label)
            print(key)
            print(
                f"id={record.id} role={record.role} stores={','.join(record.stores) or '-'}"
                " (the key is shown once; only its hash is stored)",
                file=sys.stderr,
            )
        elif args.keys_cmd == "list":
            for r in await keys.list_keys(pool, include_revoked=args.all):
                state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
                print(
                    f"{r.id}  {r.prefix}…  {r.role:<10} {','.join(r.stores) or '-':<12} "
                    f"{state:<18} {r.label}"
                )
        else:
            record = await keys.revoke_key(pool, args.key_id)
            print(f"revoked {record.id} ({record.prefix}…)")
        return 0
    except AppError as exc:
        errors = exc.extra.get("errors") or []
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        print(f"error: {exc.detail}{': ' + detail if detail else ''}", file=sys.stderr)
        return 2
    finally:
        await pool.close()


def cmd_keys(args: argparse.Namespace) -> int:
    return asyncio.run(_keys(args, configured_settings()))


def cmd_worker(args: argparse.Namespace) -> int:
    from service.workers.main import run_worker

    settings = configured_settings()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, only=args.job))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import run_demo

    settings = configured_settings()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_demo(
                settings, host=args.host, port=args.port, stores=args.stores, products=args.products
            )
        )
    return 0


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnistock", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None, help="default: OMNISTOCK_HOST")
    serve.add_argument("--port", type=int, default=None, help="default: OMNISTOCK_PORT")
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="bind with SO_REUSEPORT: several serve processes (replicas) share the port and "
        "the kernel spreads connections between them",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the background jobs")
    worker.add_argument("--job", action="append", help="run only this job (repeatable)")
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply pending SQL migrations")
    migrate.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_cmd", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it once")
    create.add_argument("--role", required=True, choices=["storefront", "staff", "admin"])
    create.add_argument(
        "--store",
        action="append",
        default=[],
        help="store code a staff key may act on (repeatable)",
    )
    create.add_argument("--label", default="", help="a note to recognise the key by")
    listing = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    keys.set_defaults(func=cmd_keys)

    demo = sub.add_parser("demo", help="embedded PostgreSQL, migrations, API and demo keys")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--stores", type=int, default=12, help="demo stores in the simulator")
    demo.add_argument("--products", type=int, default=2000, help="demo SKUs (sellable variants)")
    demo.set_defaults(func=cmd_demo)

    erp.add_commands(sub)
    catalog.add_commands(sub)
    outbox.add_commands(sub)
    promotions.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
