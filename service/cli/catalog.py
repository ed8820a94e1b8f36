"""Catalogue commands: ``stores import FILE`` and ``mapping import FILE``.

Both validate the whole file first: on any invalid entry they print a report per entry to stderr,
exit with code 2 and write nothing. Otherwise they write in one transaction and print a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from service.cli.common import configured_settings, open_pool
from service.errors import AppError, InvalidInput
from service.usecases.catalog import item_mapping as mapping
from service.usecases.catalog import store_directory as stores
from service.usecases.catalog.files import (
    PrestashopOptions,
    Source,
    SourceError,
    read_code_map,
    read_mapping_file,
    read_store_file,
)
from service.usecases.catalog.store_model import validate_entries

INVALID = 2


def _print_errors(source: Source, detail: str, errors: list[dict[str, Any]]) -> int:
    print(f"error: {detail}", file=sys.stderr)
    for err in errors:
        other = err.get("other")
        also = f" ({source.labels[other]})" if isinstance(other, int) else ""
        print(f"  {source.label(err['loc'])}: {err['msg']}{also}", file=sys.stderr)
    print("nothing was written", file=sys.stderr)
    return INVALID


def _print_warnings(source: Source) -> None:
    for warning in source.warnings:
        print(f"warning: {warning}")


async def import_stores_file(
    pool: asyncpg.Pool, path: Path, fmt: str = "auto", prestashop: PrestashopOptions | None = None
) -> int:
    """``omnistock stores import``: the exit code (0 done, 2 invalid input, nothing written)."""
    try:
        source = read_store_file(path, fmt, prestashop)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return INVALID
    errors = list(source.errors)
    try:
        entries = validate_entries(source.entries)
    except InvalidInput as exc:
        errors += exc.extra["errors"]
    if errors:
        errors.sort(key=lambda e: e["loc"][0] if e["loc"] else -1)
        return _print_errors(source, f"{path}: invalid store entries", errors)
    report = await stores.import_stores(pool, entries, keep_unset=source.partial)
    _print_warnings(source)
    print(
        f"stores import: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(source.warnings)} warning(s)"
    )
    for label, ids in (("created", report.created), ("updated", report.updated)):
        if ids:
            print(f"  {label}: {', '.join(ids)}")
    return 0


async def import_mapping_file(pool: asyncpg.Pool, path: Path, fmt: str = "auto") -> int:
    """``omnistock mapping import``: the exit code (0 done, 2 invalid rows, nothing written)."""
    try:
        source = read_mapping_file(path, fmt)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return INVALID
    try:
        report = await mapping.import_mapping(pool, source.entries)
    except InvalidInput as exc:
        return _print_errors(source, f"{path}: {exc.detail}", exc.extra["errors"])
    _print_warnings(source)
    for dup in report.duplicate_references:
        print(f"warning: reference {dup.reference!r} is shared by {', '.join(dup.skus)}")
    if report.blank_references:
        print(f"warning: blank reference for {', '.join(report.blank_references)}")
    print(
        f"mapping import: {len(report.updated)} updated, {report.unchanged} unchanged, "
        f"{len(report.duplicate_references)} duplicate reference(s), "
        f"{len(report.blank_references)} blank reference(s)"
    )
    return 0


def _prestashop_options(args: argparse.Namespace) -> PrestashopOptions:
    codes = read_code_map(args.code_map) if args.code_map else {}
    return PrestashopOptions(
        code_prefix=args.code_prefix, codes=codes, timezone=args.timezone, country=args.country
    )


async def _with_pool(work: Callable[[asyncpg.Pool], Awaitable[int]]) -> int:
    pool = await open_pool(configured_settings(), max_size=2)
    try:
        return await work(pool)
    except AppError as exc:  # a conflict with a concurrent writer
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await pool.close()


def _cmd_stores(args: argparse.Namespace) -> int:
    try:
        options = _prestashop_options(args)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return INVALID
    return asyncio.run(_with_pool(lambda p: import_stores_file(p, args.file, args.format, options)))


def _cmd_mapping(args: argparse.Namespace) -> int:
    return asyncio.run(_with_pool(lambda p: import_mapping_file(p, args.file, args.format)))


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stores_p = sub.add_parser("stores", help="the store directory")
    stores_sub = stores_p.add_subparsers(dest="stores_cmd", required=True)
    imp = stores_sub.add_parser(
        "import", help="create/replace stores from a JSON, CSV or PrestaShop webservice file"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["auto", "json", "csv", "prestashop"], default="auto")
    imp.add_argument("--code-prefix", default="PS", help="PrestaShop: code = prefix + id_store")
    imp.add_argument(
        "--code-map", type=Path, help="PrestaShop: id_store -> code (JSON object or CSV)"
    )
    imp.add_argument("--timezone", default="Europe/Paris", help="PrestaShop: the stores' zone")
    imp.add_argument("--country", default="FR", help="PrestaShop: ISO country code")
    imp.set_defaults(func=_cmd_stores)

    mapping_p = sub.add_parser("mapping", help="PrestaShop keys of our items")
    mapping_sub = mapping_p.add_subparsers(dest="mapping_cmd", required=True)
    imp = mapping_sub.add_parser("import", help="set PrestaShop keys from a CSV or JSON file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["auto", "json", "csv"], default="auto")
    imp.set_defaults(func=_cmd_mapping)
