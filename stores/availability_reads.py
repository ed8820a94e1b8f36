"""Reads behind availability: stock snapshot rows with their effective as_of, open holds, buffer
tiers and the store directory's positions. Explicit connection, never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from service.domain.atp import BufferOverride, Buffers, BufferTiers

_SNAPSHOT = """
SELECT s.sku, s.store_id, s.erp_available,
       greatest(s.as_of, sc.checked_at, kc.checked_at) AS as_of
FROM stock s
LEFT JOIN stock_store_checks sc ON sc.store_id = s.store_id
LEFT JOIN stock_sku_checks kc ON kc.sku = s.sku
WHERE s.sku = ANY($1::text[])
"""
_OPEN_HOLDS = """
SELECT sku, store_id, qty, erp_acked_at FROM stock_holds
WHERE released_at IS NULL AND sku = ANY($1::text[])
"""
# The same, for some stores only: a read costs what it asks for, not the tenant's store count
_SNAPSHOT_AT = _SNAPSHOT + "  AND s.store_id = ANY($2::text[])\n"
_OPEN_HOLDS_AT = _OPEN_HOLDS + "  AND store_id = ANY($2::text[])\n"
_SKU_CHECKS = "SELECT sku, checked_at FROM stock_sku_checks WHERE sku = ANY($1::text[])"
_BUFFERS = "SELECT store_id, sku, safety_stock, low_stock, hide_below FROM stock_buffers"
_DIRECTORY = """
SELECT store_id, name, latitude, longitude, services FROM stores WHERE active ORDER BY store_id
"""


@dataclass(frozen=True, slots=True)
class SkuStock:
    """Everything availability needs for one SKU in the stores it covers (what the cache holds).

    ``stores`` is the set of stores whose rows and holds were read (None: every store): a store
    outside it is unknown here, not out of stock (``covers``)."""

    sku: str
    rows: dict[str, tuple[int, datetime | None]]  # store_id -> (erp_available, as_of)
    holds: dict[str, list[tuple[int, datetime | None]]]  # store_id -> [(qty, erp_acked_at)]
    checked_at: datetime | None  # last hot-pass read of this SKU (also covers absent rows)
    stores: frozenset[str] | None = None
    # the oldest ``as_of`` of its rows; None when a row has none, or there are no rows. Made
    # with the entry (once per cache entry): most reads then need no per-store time comparison
    oldest_as_of: datetime | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        times = [as_of for _, as_of in self.rows.values()]
        oldest = None
        if times and all(t is not None for t in times):
            oldest = min(t for t in times if t is not None)
        object.__setattr__(self, "oldest_as_of", oldest)

    def covers(self, stores: frozenset[str]) -> bool:
        return self.stores is None or self.stores >= stores

    def widened(self, other: SkuStock) -> SkuStock:
        """This entry with ``other``'s stores read later (``other`` wins where both cover a
        store: its rows, its holds and its SKU check are the newer read)."""
        if self.stores is None or other.stores is None:
            return other
        rows = {k: v for k, v in self.rows.items() if k not in other.stores}
        holds = {k: v for k, v in self.holds.items() if k not in other.stores}
        rows.update(other.rows)
        holds.update(other.holds)
        return SkuStock(self.sku, rows, holds, other.checked_at, self.stores | other.stores)


@dataclass(frozen=True, slots=True)
class DirectoryStore:
    store_id: str
    name: str
    latitude: float | None
    longitude: float | None
    services: tuple[str, ...]


async def load_sku_stock(
    conn: asyncpg.Connection, skus: Sequence[str], stores: Iterable[str] | None = None
) -> dict[str, SkuStock]:
    """The SKUs' rows and open holds in ``stores`` (None: in every store)."""
    wanted = sorted(set(skus))
    rows: dict[str, dict[str, tuple[int, datetime | None]]] = {s: {} for s in wanted}
    holds: dict[str, dict[str, list[tuple[int, datetime | None]]]] = {s: {} for s in wanted}
    at = None if stores is None else frozenset(stores)
    args: tuple[object, ...] = (wanted,) if at is None else (wanted, sorted(at))
    for r in await conn.fetch(_SNAPSHOT if at is None else _SNAPSHOT_AT, *args):
        rows[r["sku"]][r["store_id"]] = (r["erp_available"], r["as_of"])
    for r in await conn.fetch(_OPEN_HOLDS if at is None else _OPEN_HOLDS_AT, *args):
        holds[r["sku"]].setdefault(r["store_id"], []).append((r["qty"], r["erp_acked_at"]))
    checks = {r["sku"]: r["checked_at"] for r in await conn.fetch(_SKU_CHECKS, wanted)}
    return {s: SkuStock(s, rows[s], holds[s], checks.get(s), at) for s in wanted}


async def load_buffer_tiers(conn: asyncpg.Connection) -> BufferTiers:
    return buffer_tiers(tuple(r) for r in await conn.fetch(_BUFFERS))


def buffer_tiers(
    rows: Iterable[tuple[str | None, str | None, int | None, int | None, int | None]],
) -> BufferTiers:
    """Tiers from ``stock_buffers`` rows: (store_id, sku, safety_stock, low_stock, hide_below)."""
    global_default = Buffers()
    by_store: dict[str, BufferOverride] = {}
    by_sku: dict[str, BufferOverride] = {}
    by_store_sku: dict[tuple[str, str], BufferOverride] = {}
    for store_id, sku, *values in rows:
        if store_id is None and sku is None:
            global_default = Buffers(*(v or 0 for v in values))
        elif sku is None:
            by_store[store_id] = BufferOverride(*values)  # type: ignore[index]
        elif store_id is None:
            by_sku[sku] = BufferOverride(*values)
        else:
            by_store_sku[(store_id, sku)] = BufferOverride(*values)
    return BufferTiers(global_default, by_store, by_sku, by_store_sku)


async def load_directory(conn: asyncpg.Connection) -> dict[str, DirectoryStore]:
    return {
        r["store_id"]: DirectoryStore(
            r["store_id"], r["name"], r["latitude"], r["longitude"], tuple(r["services"])
        )
        for r in await conn.fetch(_DIRECTORY)
    }
