"""``omnistock outbox``: list, show and replay outbox rows (the events posted to the ERP)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import asyncpg

from service.errors import AppError
from service.settings import Settings
from service.usecases import outbox_admin
from stores.db import create_pool, resolve_database_url
from stores.outbox import OutboxRow

_ERROR_WIDTH = 60


def _line(r: OutboxRow) -> str:
    error = (r.last_error or "").replace("\n", " ")
    if len(error) > _ERROR_WIDTH:
        error = error[: _ERROR_WIDTH - 1] + "…"
    when = r.next_attempt_at if r.status == "pending" else (r.done_at or r.created_at)
    return (
        f"{r.id:>8}  {r.status:<7}  {r.kind:<17} {r.aggregate_id:<36}  "
        f"{r.attempts:>3}  {when:%Y-%m-%d %H:%M:%S}  {error}"
    )


def _details(r: OutboxRow) -> str:
    data = {
        "id": r.id,
        "aggregate": r.aggregate,
        "aggregate_id": r.aggregate_id,
        "kind": r.kind,
        "status": r.status,
        "attempts": r.attempts,
        "next_attempt_at": r.next_attempt_at,
        "last_error": r.last_error,
        "created_at": r.created_at,
        "done_at": r.done_at,
        "payload": r.payload,
        "result": r.result,
    }
    return json.dumps(data, indent=2, default=str, ensure_ascii=False)


async def _list(pool: asyncpg.Pool, args: argparse.Namespace) -> int:
    page = await outbox_admin.list_rows(
        pool, status=args.status, aggregate_id=args.pickup, limit=args.limit
    )
    for row in page.items:
        print(_line(row))
    more = " (more: raise --limit)" if page.next_cursor else ""
    print(f"{len(page.items)} row(s){more}", file=sys.stderr)
    return 0


async def run_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``outbox`` subcommand; the exit code (2: a row is unknown or not dead)."""
    dsn = await asyncio.to_thread(resolve_database_url, settings.database_url, settings.data_dir)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        if args.outbox_cmd == "list":
            return await _list(pool, args)
        if args.outbox_cmd == "show":
            print(_details(await outbox_admin.get_row(pool, args.id)))
            return 0
        if args.all_dead:
            replayed = await outbox_admin.replay_dead(pool)
            print(f"replayed {len(replayed)} dead row(s): {' '.join(map(str, replayed)) or '-'}")
            return 0
        report = await outbox_admin.replay_rows(pool, args.ids)
        print(
            f"replayed {len(report.replayed)} row(s): {' '.join(map(str, report.replayed)) or '-'}"
        )
        for row_id in report.not_found:
            print(f"error: no outbox row {row_id}", file=sys.stderr)
        for row_id in report.not_dead:
            print(f"error: outbox row {row_id} is not dead (left as is)", file=sys.stderr)
        return 2 if report.not_found or report.not_dead else 0
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        await pool.close()


def add_commands(sub: argparse._SubParsersAction) -> None:
    outbox = sub.add_parser("outbox", help="list, show and replay outbox rows (events to the ERP)")
    outbox_sub = outbox.add_subparsers(dest="outbox_cmd", required=True)
    listing = outbox_sub.add_parser("list", help="list rows, oldest first")
    listing.add_argument("--status", choices=["pending", "dead", "done"], default=None)
    listing.add_argument("--pickup", default=None, help="only the rows of this pickup id")
    listing.add_argument("--limit", type=int, default=50)
    show = outbox_sub.add_parser("show", help="one row with its payload and ERP result")
    show.add_argument("id", type=int)
    replay = outbox_sub.add_parser(
        "replay", help="dead rows back to pending (attempts reset, due now)"
    )
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("ids", nargs="*", type=int, default=[], metavar="ID")
    target.add_argument("--all-dead", action="store_true", help="every dead row")
    outbox.set_defaults(func=_cmd_outbox)


def _cmd_outbox(args: argparse.Namespace) -> int:
    from service.cli import configured_settings

    return asyncio.run(run_outbox(configured_settings(), args))
