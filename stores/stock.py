"""Repository of the ERP stock snapshot. Explicit connection, never commits.

Writes go through a per-connection temporary staging table filled with COPY, then one set-based
statement that touches only rows whose value changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Protocol

import asyncpg

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stock_stage (
    store_id text NOT NULL,
    sku text NOT NULL,
    erp_available integer NOT NULL
) ON COMMIT DELETE ROWS
"""
# The write of a batch, as cheap as PostgreSQL allows it: most of a full pass is unchanged rows,
# and ON CONFLICT DO UPDATE locks (and so rewrites the heap page of, and logs) every row it finds,
# even one its WHERE then skips; a speculative insertion also costs about twice a plain one.
# So the rows of the batch's SKUs are read first (a probe of the primary key, SKU first, per
# SKU, never a scan of the table, whatever its statistics say), unchanged rows stop there, rows
# not stored yet take a plain INSERT, and only changed rows take the upsert (whose WHERE still
# keeps a newer value a concurrent writer committed). A row another writer inserts meanwhile, or
# a pair twice in the batch, makes this statement fail: ``apply_stock_lines`` then runs
# _UPSERT_CHANGED.
# Only the count and the distinct SKUs come back: returning every row costs more than the write;
# the new rows are counted from ``differ`` (all of them are inserted, or the statement fails), not
# returned by their INSERT (8% of the PostgreSQL CPU of a first pass).
_WRITE_CHANGED = """
WITH stored AS (
    SELECT o.store_id, o.sku, o.erp_available
    FROM (SELECT DISTINCT sku FROM stock_stage) k
    CROSS JOIN LATERAL (SELECT store_id, sku, erp_available FROM stock WHERE sku = k.sku OFFSET 0) o
), differ AS (
    SELECT st.store_id, st.sku, st.erp_available, o.sku IS NULL AS new
    FROM stock_stage st LEFT JOIN stored o USING (store_id, sku)
    WHERE o.erp_available IS DISTINCT FROM st.erp_available
), added AS (
    INSERT INTO stock (store_id, sku, erp_available, as_of)
    SELECT store_id, sku, erp_available, $1 FROM differ WHERE new
), updated AS (
    INSERT INTO stock AS s (store_id, sku, erp_available, as_of)
    SELECT store_id, sku, erp_available, $1 FROM differ WHERE NOT new
    ON CONFLICT (store_id, sku) DO UPDATE
        SET erp_available = EXCLUDED.erp_available, as_of = EXCLUDED.as_of
        WHERE s.erp_available <> EXCLUDED.erp_available AND s.as_of <= EXCLUDED.as_of
    RETURNING sku
)
SELECT (SELECT count(*) FROM differ WHERE new) + (SELECT count(*) FROM updated) AS changed,
       array(SELECT sku FROM differ WHERE new UNION SELECT sku FROM updated) AS skus
"""
# Whether any of these SKUs has a row: when none has (a first pass, new items), the batch is
# COPYed straight into ``stock``: no staging table, no join (bench/stock_sync.py, a first pass
# of 1M rows: 58% of raw parse + COPY through _WRITE_CHANGED, 75-80% this way).
# A batch none of whose SKUs is stored: every staged row is new. The pass's time is added here,
# in PostgreSQL: COPYing it with each row made asyncpg encode a datetime per row, three times
# the client CPU of the three other columns (105 vs 34 ms for 25,000 rows), and that CPU is
# the event loop's, shared with everything else the sync does.
_INSERT_STAGED = """
INSERT INTO stock (store_id, sku, erp_available, as_of)
SELECT store_id, sku, erp_available, $1 FROM stock_stage
"""
_ANY_STORED = """
SELECT EXISTS (
    SELECT 1 FROM unnest($1::text[]) k(sku)
    CROSS JOIN LATERAL (SELECT 1 FROM stock WHERE sku = k.sku LIMIT 1) o
)
"""
# The general write, when _WRITE_CHANGED fails: every row through the upsert. A (store, sku)
# pair twice in one batch (the ERP should not do it) keeps one of its values.
_UPSERT_CHANGED = """
WITH written AS (
    INSERT INTO stock AS s (store_id, sku, erp_available, as_of)
    SELECT DISTINCT ON (store_id, sku) store_id, sku, erp_available, $1
    FROM stock_stage
    ORDER BY store_id, sku
    ON CONFLICT (store_id, sku) DO UPDATE
        SET erp_available = EXCLUDED.erp_available, as_of = EXCLUDED.as_of
        WHERE s.erp_available <> EXCLUDED.erp_available AND s.as_of <= EXCLUDED.as_of
    RETURNING sku
)
SELECT count(*) AS changed, coalesce(array_agg(DISTINCT sku), '{}') AS skus FROM written
"""
_MARK_STORES = """
INSERT INTO stock_store_checks (store_id, checked_at)
SELECT unnest($1::text[]), $2
ON CONFLICT (store_id) DO UPDATE SET checked_at = greatest(stock_store_checks.checked_at,
                                                             EXCLUDED.checked_at)
"""
_MARK_SKUS = """
INSERT INTO stock_sku_checks (sku, checked_at)
SELECT unnest($1::text[]), $2
ON CONFLICT (sku) DO UPDATE SET checked_at = greatest(stock_sku_checks.checked_at,
                                                       EXCLUDED.checked_at)
"""
_WANT = """
INSERT INTO hot_skus (sku, wanted_at) SELECT unnest($1::text[]), $2
ON CONFLICT (sku) DO UPDATE SET wanted_at = greatest(hot_skus.wanted_at, EXCLUDED.wanted_at)
"""
# Due first (never read, read before its tier's bound), the SKUs viewed now before the others,
# then the longest unread: past the due ones come those that fall due next.
_HOT = """
SELECT sku, ean, viewed,
       checked_at IS NULL OR checked_at <= $4 OR (viewed AND checked_at <= $3) AS due
FROM (
    SELECT h.sku, i.ean, h.wanted_at >= $2 AS viewed, c.checked_at
    FROM hot_skus h
    JOIN items i USING (sku)
    LEFT JOIN stock_sku_checks c USING (sku)
    WHERE h.wanted_at >= $1 AND i.ean IS NOT NULL
) hot
ORDER BY due DESC, viewed DESC, checked_at NULLS FIRST, sku
LIMIT $5
"""
_FORGET_COLD = "DELETE FROM hot_skus WHERE wanted_at < $1"
_SNAPSHOT = """
SELECT s.store_id, s.sku, s.erp_available,
       greatest(s.as_of, sc.checked_at, kc.checked_at) AS as_of
FROM stock s
LEFT JOIN stock_store_checks sc ON sc.store_id = s.store_id
LEFT JOIN stock_sku_checks kc ON kc.sku = s.sku
WHERE s.sku = ANY($1::text[]) AND ($2::text[] IS NULL OR s.store_id = ANY($2::text[]))
ORDER BY s.store_id, s.sku
"""


class StockLine(Protocol):
    """What the snapshot keeps of a line the ERP reported (``service.erp.port.StockLine``)."""

    @property
    def store_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def available(self) -> int: ...


_RECORD = attrgetter("store_id", "sku", "available")  # the COPY record of a line, built in C


@dataclass(frozen=True, slots=True)
class Applied:
    changed: int  # rows written
    skus: list[str]  # distinct SKUs among them


# Below this many lines (a read-through of a SKU, a small hot batch) the plain upsert is used:
# the read-first write saves PostgreSQL work on big unchanged batches, but its savepoint costs two
# more round trips, and a read-through waits for them under the load of the reads it serves.
READ_FIRST_MIN_LINES = 500


async def apply_stock_lines(
    conn: asyncpg.Connection,
    lines: Sequence[StockLine],
    as_of: datetime,
    *,
    read_first: bool | None = None,
) -> Applied:
    """Write the lines whose value changed. Must run inside a transaction: the staging table
    empties on commit. The lines are COPYed into it; then ``read_first`` (default: at least
    ``READ_FIRST_MIN_LINES`` lines) INSERTs a batch none of whose SKUs is stored
    (_INSERT_STAGED), else takes _WRITE_CHANGED; either falls back to _UPSERT_CHANGED.
    Otherwise _UPSERT_CHANGED alone."""
    if not lines:
        return Applied(0, [])
    if read_first is None:
        read_first = len(lines) >= READ_FIRST_MIN_LINES
    await conn.execute(_STAGE)
    await conn.copy_records_to_table(
        "stock_stage", records=map(_RECORD, lines), columns=("store_id", "sku", "erp_available")
    )
    if read_first:
        skus = sorted({line.sku for line in lines})
        if not await conn.fetchval(_ANY_STORED, skus):
            try:  # none of these SKUs stored yet (a new tenant, new items): a plain INSERT
                async with conn.transaction():
                    await conn.execute(_INSERT_STAGED, as_of)
                return Applied(len(lines), skus)
            except asyncpg.UniqueViolationError:
                pass  # written meanwhile, or a pair twice in the batch: the general way
    if not read_first:
        row = await conn.fetchrow(_UPSERT_CHANGED, as_of)
        assert row is not None
        return Applied(row["changed"], list(row["skus"]))
    try:
        async with conn.transaction():  # a savepoint: a failure undoes this statement only
            row = await conn.fetchrow(_WRITE_CHANGED, as_of)
    except (asyncpg.UniqueViolationError, asyncpg.CardinalityViolationError):
        row = await conn.fetchrow(_UPSERT_CHANGED, as_of)
    assert row is not None
    return Applied(row["changed"], list(row["skus"]))


async def mark_stores_checked(
    conn: asyncpg.Connection, store_ids: Iterable[str], at: datetime
) -> None:
    ids = sorted(set(store_ids))
    if ids:
        await conn.execute(_MARK_STORES, ids, at)


async def mark_skus_checked(conn: asyncpg.Connection, skus: Iterable[str], at: datetime) -> None:
    ids = sorted(set(skus))
    if ids:
        await conn.execute(_MARK_SKUS, ids, at)


async def want_skus(conn: asyncpg.Connection, skus: Iterable[str], at: datetime) -> None:
    ids = sorted(set(skus))
    if ids:
        await conn.execute(_WANT, ids, at)


@dataclass(frozen=True, slots=True)
class HotSku:
    sku: str
    ean: str
    viewed: bool  # wanted since ``viewed_since``: read on every pass
    due: bool  # never read, or read before the bound of its tier


async def hot_skus(
    conn: asyncpg.Connection,
    since: datetime,
    limit: int,
    *,
    viewed_since: datetime,
    viewed_read_before: datetime,
    rest_read_before: datetime,
) -> list[HotSku]:
    """At most ``limit`` of the SKUs wanted since ``since``, due ones first. Due: never read (no
    ``stock_sku_checks`` row), read at or before ``rest_read_before``, or, when wanted since
    ``viewed_since`` (viewed now), read at or before ``viewed_read_before``."""
    rows = await conn.fetch(_HOT, since, viewed_since, viewed_read_before, rest_read_before, limit)
    return [HotSku(r["sku"], r["ean"], r["viewed"], r["due"]) for r in rows]


async def forget_cold_skus(conn: asyncpg.Connection, before: datetime) -> int:
    status = await conn.execute(_FORGET_COLD, before)
    return int(status.split()[-1])


async def snapshot(
    conn: asyncpg.Connection, skus: Sequence[str], store_ids: Sequence[str] | None = None
) -> list[asyncpg.Record]:
    """store_id, sku, erp_available and the effective as_of of each known row."""
    return list(await conn.fetch(_SNAPSHOT, list(skus), list(store_ids) if store_ids else None))
