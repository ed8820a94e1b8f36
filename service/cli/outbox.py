"""``omnistock outbox``: list, show and replay outbox rows (the events posted to the ERP), and
purge done rows and old idempotency keys (the worker's retention job, run now)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys

import asyncpg

from service.cli.common import configured_settings, open_pool
from service.errors import AppError
from service.observability import Metrics
from service.settings import Settings
from service.usecases.outbox import admin as outbox_admin
from service.usecases.outbox import retention
from service.usecases.outbox.admin import OutboxRow

_ERROR_WIDTH = 60
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``12h``, ``30d``, ``2w`` -> seconds (positive)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive duration (e.g. 3600, 90s, 15m, 12h, 30d, 2w)"
        )
    return float(match[1]) * _UNIT_S[match[2]]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


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


def _purge_policy(settings: Settings, args: argparse.Namespace) -> retention.RetentionPolicy:
    outbox_s = args.older_than if args.older_than is not None else settings.outbox_retention_s
    keys_s = (
        args.keys_older_than
        if args.keys_older_than is not None
        else settings.idempotency_retention_s
    )
    return retention.RetentionPolicy(
        outbox_done_s=None if args.keys_only else outbox_s,
        idempotency_s=None if args.outbox_only else keys_s,
        batch_size=args.batch_size
        if args.batch_size is not None
        else settings.retention_batch_size,
    )


_PURGED_WHAT = {
    retention.OUTBOX: ("done outbox row(s)", "done before"),
    retention.IDEMPOTENCY_KEYS: ("idempotency key(s)", "created before"),
}


async def _purge(pool: asyncpg.Pool, settings: Settings, args: argparse.Namespace) -> int:
    results = await retention.purge(
        pool, _purge_policy(settings, args), Metrics(), dry_run=args.dry_run
    )
    verb = "would purge" if args.dry_run else "purged"
    for r in results:
        what, when = _PURGED_WHAT[r.table]
        batches = "" if args.dry_run else f" in {r.batches} batch(es)"
        print(f"{verb} {r.rows} {what} {when} {r.before:%Y-%m-%d %H:%M:%S%z}{batches}")
    return 0


async def run_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``outbox`` subcommand; the exit code (2: a row is unknown or not dead)."""
    pool = await open_pool(settings, max_size=2)
    try:
        if args.outbox_cmd == "list":
            return await _list(pool, args)
        if args.outbox_cmd == "purge":
            return await _purge(pool, settings, args)
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
    outbox = sub.add_parser(
        "outbox", help="list, show, replay and purge outbox rows (events to the ERP)"
    )
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
    purge = outbox_sub.add_parser(
        "purge",
        help="delete done rows and idempotency keys older than the retention now (what the "
        "worker's retention job does); pending and dead rows are never deleted",
    )
    purge.add_argument(
        "--older-than",
        type=parse_duration,
        default=None,
        metavar="DURATION",
        help="done outbox rows finished before this long ago (3600, 90s, 15m, 12h, 30d, 2w); "
        "default OMNISTOCK_OUTBOX_RETENTION_S",
    )
    purge.add_argument(
        "--keys-older-than",
        type=parse_duration,
        default=None,
        metavar="DURATION",
        help="idempotency keys created before this long ago; "
        "default OMNISTOCK_IDEMPOTENCY_RETENTION_S",
    )
    only = purge.add_mutually_exclusive_group()
    only.add_argument("--outbox-only", action="store_true", help="keep every idempotency key")
    only.add_argument("--keys-only", action="store_true", help="keep every outbox row")
    purge.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="rows per DELETE statement; default OMNISTOCK_RETENTION_BATCH_SIZE",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    outbox.set_defaults(func=_cmd_outbox)


def _cmd_outbox(args: argparse.Namespace) -> int:
    return asyncio.run(run_outbox(configured_settings(), args))
