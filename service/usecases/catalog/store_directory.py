"""The store directory: create/replace, import (all or nothing), read, list and "near me".

Stores are ours (Cegid has no store-listing service), keyed by the Cegid store code. Every answer
carries the structured opening hours and ``open_now`` in the store's own time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import ValidationError

from service.domain.geo import LatLng, nearest_stores
from service.domain.hours import CLOSED_ALL_WEEK, OpeningHours
from service.errors import InvalidInput, NotFound
from service.usecases import cursor as cursors
from service.usecases.catalog.store_model import (
    STORE_CODE,
    StoreEntry,
    StoreFields,
    check_unique_codes,
    field_errors,
    hours_from_json,
)
from stores import store_directory as directory_repo
from stores.store_directory import StoreRecord

log = logging.getLogger("omnistock.stores")
_CURSOR_PREFIX = "s1."


@dataclass(frozen=True, slots=True)
class StoreView:
    """A store as the API shows it: the record, its hours and whether it is open now."""

    record: StoreRecord
    hours: OpeningHours
    open_now: bool
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class StorePage:
    items: list[StoreView]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: list[str]
    updated: list[str]


def _hours(record: StoreRecord) -> OpeningHours:
    try:
        return hours_from_json(record.opening_hours or {})
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        # Written around our validation (by hand in SQL): never promise an opening.
        log.warning("unreadable opening hours", extra={"store_id": record.store_id, "err": exc})
        return CLOSED_ALL_WEEK


def view(record: StoreRecord, now: datetime, distance_km: float | None = None) -> StoreView:
    hours = _hours(record)
    try:
        open_now = hours.is_open_at(now, record.timezone)
    except (ValueError, LookupError):  # an unknown zone written around our validation
        open_now = False
    return StoreView(record, hours, open_now, distance_km)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def store_code(store_id: str) -> str:
    """A valid store code from a path, or 422."""
    try:
        return STORE_CODE.validate_python(store_id)
    except ValidationError as exc:
        raise InvalidInput("the store code is invalid", field_errors(exc, ["store_id"])) from None


# --------------------------------------------------------------------------- writes
async def put_store(
    pool: asyncpg.Pool, store_id: str, body: StoreFields, *, now: datetime | None = None
) -> tuple[StoreView, bool]:
    """Create or replace one store; return it and whether it was created."""
    code = store_code(store_id)
    if body.store_id is not None and body.store_id != code:
        msg = f"the body names store {body.store_id!r} but the path names {code!r}"
        raise InvalidInput(msg, [{"loc": ["store_id"], "msg": msg, "type": "mismatch"}])
    columns = {**body.columns(), "store_id": code}
    async with pool.acquire() as conn, conn.transaction():
        created = await directory_repo.save(conn, columns)
        record = await directory_repo.get(conn, code)
    assert record is not None
    return view(record, _now(now)), created


async def import_stores(
    pool: asyncpg.Pool, entries: Sequence[StoreEntry], *, keep_unset: bool = False
) -> ImportReport:
    """Create or replace every store in one transaction (all or nothing).

    With ``keep_unset`` (sources that carry only some fields, like a PrestaShop export), fields
    an entry does not set keep their current value on existing stores.
    """
    check_unique_codes(entries)
    created: list[str] = []
    updated: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        existing = {}
        if keep_unset:
            found = await directory_repo.get_many(conn, [e.store_id for e in entries])
            existing = {r.store_id: r.fields() for r in found}
        for entry in entries:
            columns = entry.columns()
            if entry.store_id in existing:
                given = {k: v for k, v in columns.items() if k in entry.model_fields_set}
                columns = {**existing[entry.store_id], **given}
            is_new = await directory_repo.save(conn, columns)
            (created if is_new else updated).append(entry.store_id)
    return ImportReport(created=created, updated=updated)


async def upsert_trusted(pool: asyncpg.Pool, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write directory rows as given, in one transaction, without ``import_stores``' checks: for
    sources we generate ourselves (the demo's simulated tenant)."""
    async with pool.acquire() as conn, conn.transaction():
        for row in rows:
            await directory_repo.upsert(conn, row)


# --------------------------------------------------------------------------- reads
async def get_store(pool: asyncpg.Pool, store_id: str, *, now: datetime | None = None) -> StoreView:
    async with pool.acquire() as conn:
        record = await directory_repo.get(conn, store_id)
    if record is None:
        raise NotFound(f"no store {store_id!r} in the directory", store_id=store_id)
    return view(record, _now(now))


def _check_search(near: LatLng | None, radius_km: float | None, cursor: str | None) -> None:
    errors = []
    if near is None and radius_km is not None:
        errors.append({"loc": ["radius_km"], "msg": "radius_km needs near=lat,lng"})
    if near is not None and cursor is not None:
        msg = "results near a point come in one page, nearest first: raise limit instead"
        errors.append({"loc": ["cursor"], "msg": msg})
    if errors:
        raise InvalidInput("the store search is invalid", errors)


@dataclass(frozen=True, slots=True)
class StoreFilter:
    service: str | None = None
    include_inactive: bool = False


async def find_stores(
    pool: asyncpg.Pool,
    *,
    near: LatLng | None = None,
    radius_km: float | None = None,
    limit: int = 50,
    cursor: str | None = None,
    where: StoreFilter | None = None,
    now: datetime | None = None,
) -> StorePage:
    """Stores nearest first (with distances) when ``near`` is given, else by store code with a
    cursor to the next page."""
    _check_search(near, radius_km, cursor)
    where = where or StoreFilter()
    async with pool.acquire() as conn:
        if near is None:
            after = cursors.decode(cursor, prefix=_CURSOR_PREFIX) if cursor is not None else None
            return await _by_code(conn, after, limit, where, _now(now))
        return await _near(conn, near, radius_km, limit, where, _now(now))


async def _by_code(
    conn: asyncpg.Connection, after: str | None, limit: int, where: StoreFilter, now: datetime
) -> StorePage:
    records = await directory_repo.page(
        conn,
        after=after,
        limit=limit + 1,
        service=where.service,
        include_inactive=where.include_inactive,
    )
    page = records[:limit]
    more = len(records) > limit
    next_cursor = cursors.encode(page[-1].store_id, prefix=_CURSOR_PREFIX) if more else None
    return StorePage([view(r, now) for r in page], next_cursor)


async def _near(
    conn: asyncpg.Connection,
    origin: LatLng,
    radius_km: float | None,
    limit: int,
    where: StoreFilter,
    now: datetime,
) -> StorePage:
    records = await directory_repo.located(
        conn, service=where.service, include_inactive=where.include_inactive
    )
    by_id = {r.store_id: r for r in records}
    positions: dict[str, LatLng | None] = {
        r.store_id: LatLng(r.latitude, r.longitude)
        for r in records
        if r.latitude is not None and r.longitude is not None
    }
    found = nearest_stores(origin, positions, radius_km=radius_km, limit=limit)
    return StorePage([view(by_id[d.store_id], now, d.distance_km) for d in found], None)
