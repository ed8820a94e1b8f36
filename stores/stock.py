"""Repository of the ERP stock snapshot. Explicit connection, never commits.

Writes go through a per-connection temporary staging table filled with COPY, then one set-based
upsert that touches only rows whose value changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stock_stage (
    store_id text NOT NULL,
    sku text NOT NULL,
    erp_available integer NOT NULL
) ON COMMIT DELETE ROWS
"""
# A (store, sku) pair twice in one batch (the ERP should not do it) keeps one of its values.
# Only the count and the distinct SKUs come back: returning every row costs more than the write.
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


@dataclass(frozen=True, slots=True)
class Applied:
    changed: int  # rows written
    skus: list[str]  # distinct SKUs among them


async def apply_stock_lines(
    conn: asyncpg.Connection, lines: Sequence[StockLine], as_of: datetime
) -> Applied:
    """Write the lines whose value changed. Must run inside a transaction: the staging table
    empties on commit."""
    if not lines:
        return Applied(0, [])
    await conn.execute(_STAGE)
    await conn.copy_records_to_table(
        "stock_stage",
        records=[(line.store_id, line.sku, line.available) for line in lines],
        columns=("store_id", "sku", "erp_available"),
    )
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
