"""Repository of items (SKU, barcode, PrestaShop keys). Explicit connection, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg


class Item(Protocol):
    """What the item table keeps of an item the ERP reported (``service.erp.port.Item``)."""

    @property
    def sku(self) -> str: ...
    @property
    def barcode(self) -> str: ...
    @property
    def description(self) -> str: ...


_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS items_stage (
    sku text NOT NULL, ean text, description text NOT NULL
) ON COMMIT DELETE ROWS
"""
_UPSERT_CHANGED = """
INSERT INTO items AS i (sku, ean, description, updated_at)
SELECT DISTINCT ON (sku) sku, nullif(ean, ''), description, now() FROM items_stage ORDER BY sku
ON CONFLICT (sku) DO UPDATE
    SET ean = EXCLUDED.ean, description = EXCLUDED.description, updated_at = now()
    WHERE (i.ean, i.description) IS DISTINCT FROM (EXCLUDED.ean, EXCLUDED.description)
RETURNING sku
"""
_EANS = "SELECT sku, ean FROM items WHERE ean IS NOT NULL ORDER BY sku"


async def apply_items(conn: asyncpg.Connection, items: Sequence[Item]) -> list[str]:
    """Write new or changed items; return their SKUs. Run inside a transaction."""
    if not items:
        return []
    await conn.execute(_STAGE)
    await conn.copy_records_to_table(
        "items_stage",
        records=[(i.sku, i.barcode, i.description) for i in items],
        columns=("sku", "ean", "description"),
    )
    rows = await conn.fetch(_UPSERT_CHANGED)
    await conn.execute("TRUNCATE items_stage")
    return [r["sku"] for r in rows]


_STOCKED_WITHOUT_ITEM = """
SELECT DISTINCT s.sku FROM stock s
WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.sku = s.sku)
ORDER BY s.sku LIMIT $1
"""


async def stocked_skus_without_item(conn: asyncpg.Connection, limit: int) -> list[str]:
    """SKUs the stock sync has seen that have no item (no barcode, no description) yet."""
    return [r["sku"] for r in await conn.fetch(_STOCKED_WITHOUT_ITEM, limit)]


async def all_barcodes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(sku, ean) of every item that has a barcode."""
    return [(r["sku"], r["ean"]) for r in await conn.fetch(_EANS)]


# --------------------------------------------------------------------------- identifiers
_KEYS = "i.sku, i.ean, i.ps_product_id, i.ps_attribute_id, i.ps_reference"
# One query for many lookups of mixed kinds; each branch can use its index.
_FIND = f"""
SELECT q.line, {_KEYS} FROM unnest($1::int[], $2::text[]) AS q(line, key)
    JOIN items i ON i.sku = q.key
UNION ALL
SELECT q.line, {_KEYS} FROM unnest($3::int[], $4::text[]) AS q(line, key)
    JOIN items i ON i.ean = q.key
UNION ALL
SELECT q.line, {_KEYS} FROM unnest($5::int[], $6::int[], $7::int[]) AS q(line, product, attr)
    JOIN items i ON i.ps_product_id = q.product AND i.ps_attribute_id = q.attr
UNION ALL
SELECT q.line, {_KEYS} FROM unnest($8::int[], $9::text[]) AS q(line, key)
    JOIN items i ON upper(btrim(i.ps_reference)) = q.key AND i.ps_reference IS NOT NULL
ORDER BY 1, 2
"""
# Two steps so that keys may move between items in one import (the key is unique).
_CLEAR_MOVED_KEYS = """
UPDATE items i SET ps_product_id = NULL, ps_attribute_id = NULL
FROM unnest($1::text[], $2::int[], $3::int[]) AS m(sku, product, attr)
WHERE i.sku = m.sku AND (i.ps_product_id, i.ps_attribute_id) IS DISTINCT FROM (m.product, m.attr)
"""
_SET_KEYS = """
UPDATE items i
SET ps_product_id = m.product, ps_attribute_id = m.attr, ps_reference = m.ref, updated_at = now()
FROM unnest($1::text[], $2::int[], $3::int[], $4::text[]) AS m(sku, product, attr, ref)
WHERE i.sku = m.sku
    AND (i.ps_product_id, i.ps_attribute_id, i.ps_reference)
        IS DISTINCT FROM (m.product, m.attr, m.ref)
RETURNING i.sku
"""


@dataclass(frozen=True, slots=True)
class ItemKeys:
    """An item's identifiers: SKU, barcode and PrestaShop key and reference."""

    sku: str
    ean: str | None
    ps_product_id: int | None
    ps_attribute_id: int | None
    ps_reference: str | None


@dataclass(frozen=True, slots=True)
class KeyLookups:
    """Lookups tagged with a line number: ``(line, value)``; references already folded
    (trimmed, upper case); PrestaShop keys as ``(line, id_product, id_product_attribute)``."""

    skus: Sequence[tuple[int, str]] = ()
    eans: Sequence[tuple[int, str]] = ()
    ps_keys: Sequence[tuple[int, int, int]] = ()
    references: Sequence[tuple[int, str]] = ()


def _columns(pairs: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[p[i] for p in pairs] for i in range(width)]


async def find_keys(conn: asyncpg.Connection, lookups: KeyLookups) -> list[tuple[int, ItemKeys]]:
    """Items matching each line's lookup, by line then SKU (a line may match several)."""
    rows = await conn.fetch(
        _FIND,
        *_columns(lookups.skus, 2),
        *_columns(lookups.eans, 2),
        *_columns(lookups.ps_keys, 3),
        *_columns(lookups.references, 2),
    )
    return [
        (
            r["line"],
            ItemKeys(
                r["sku"], r["ean"], r["ps_product_id"], r["ps_attribute_id"], r["ps_reference"]
            ),
        )
        for r in rows
    ]


async def set_prestashop_keys(
    conn: asyncpg.Connection, rows: Sequence[tuple[str, int, int, str | None]]
) -> list[str]:
    """Set ``(sku, id_product, id_product_attribute, reference)``; return the SKUs changed.

    Run inside a transaction. Raises ``asyncpg.UniqueViolationError`` when a key is held by an
    item not in ``rows``.
    """
    if not rows:
        return []
    skus, products, attrs, refs = _columns(rows, 4)
    await conn.execute(_CLEAR_MOVED_KEYS, skus, products, attrs)
    return [r["sku"] for r in await conn.fetch(_SET_KEYS, skus, products, attrs, refs)]
