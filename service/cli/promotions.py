"""Promotions commands: ``promotions import FILE [--replace]``.

The import validates the whole file first (shape, then every rule with the domain's
``rule_errors``, then that every categorised SKU exists): on any error it prints one line per
error, naming the rule, to stderr, exits with code 2 and writes nothing. Otherwise it writes
everything in one transaction and prints a summary.
File format: ``service.usecases.promotions.model``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import asyncpg

from service.cli.common import configured_settings, open_pool
from service.errors import AppError, InvalidInput
from service.usecases.promotions.admin import import_promotions
from service.usecases.promotions.model import read_import

INVALID = 2


def _where(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "file"


def _print_errors(detail: str, errors: list[dict[str, Any]]) -> int:
    print(f"error: {detail}", file=sys.stderr)
    for err in errors:
        rule = f" (rule {err['rule_id']!r})" if err.get("rule_id") else ""
        print(f"  {_where(list(err.get('loc', [])))}{rule}: {err['msg']}", file=sys.stderr)
    print("nothing was written", file=sys.stderr)
    return INVALID


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from None


async def import_promotions_file(pool: asyncpg.Pool, path: Path, *, replace: bool = False) -> int:
    """Validate and import ``path``; return the exit code (0 done, 2 invalid: nothing written)."""
    try:
        document = read_import(_read(path))
        report = await import_promotions(pool, document, replace=replace)
    except InvalidInput as exc:
        return _print_errors(f"{path}: {exc.detail}", exc.extra.get("errors") or [])
    print(
        f"promotions import: {len(report.created)} rule(s) created, {len(report.updated)} "
        f"replaced, {len(report.deleted)} deleted; categories set for "
        f"{len(report.categorised)} item(s)"
    )
    for rule_id in report.deleted:
        print(f"deleted rule {rule_id}")
    return 0


async def _run(path: Path, replace: bool) -> int:
    pool = await open_pool(configured_settings(), max_size=2)
    try:
        return await import_promotions_file(pool, path, replace=replace)
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await pool.close()


def _cmd_import(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args.file, args.replace))


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    promotions_p = sub.add_parser("promotions", help="basket promotion rules")
    promotions_sub = promotions_p.add_subparsers(dest="promotions_cmd", required=True)
    imp = promotions_sub.add_parser(
        "import", help="create/replace rules and item categories from a JSON file, all or nothing"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--replace", action="store_true", help="also delete the rules the file does not list"
    )
    imp.set_defaults(func=_cmd_import)
