"""Availability to promise per store: one item or a basket, named stores or stores nearby.

The ATP formula lives in ``service.domain.atp``; this module gathers its inputs (the snapshot,
open holds, buffers), picks the stores, and says how fresh and where from each answer is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from service.domain.atp import (
    BufferTiers,
    OpenHold,
    StockStatus,
    pending_hold_qty,
    position_figures,
    stale,
)
from service.domain.geo import LatLng, nearest_stores
from service.errors import InvalidInput, NotFound
from service.usecases.catalog.identifiers import (
    ItemLookup,
    ResolvedItem,
    resolve_item,
    resolve_items,
)
from service.usecases.stock.reader import StockReader
from stores.availability_reads import DirectoryStore, SkuStock

Source = Literal["snapshot", "live", "fallback"]


@dataclass(frozen=True, slots=True)
class Near:
    origin: LatLng
    radius_km: float
    limit: int = 20


@dataclass  # not frozen (built 1,000 times per matrix; frozen init costs), no slots (orjson
class Cell:  # writes a dataclass from its __dict__ four times faster than through slots)
    """One store's answer for one line; the API writes these fields as they are, in order."""

    store_id: str
    name: str | None
    distance_km: float | None
    available: int
    status: StockStatus
    offered_for_pickup: bool
    enough: bool
    as_of: datetime | None
    stale: bool
    source: Source
    oversold: bool


@dataclass(frozen=True, slots=True)
class LineAvailability:
    item: ResolvedItem
    quantity: int
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class StoreRef:
    store_id: str
    name: str
    distance_km: float | None
    pickup: bool = True  # offers a pickup service (not so the web store: services [])


@dataclass(frozen=True, slots=True)
class Matrix:
    stores: list[StoreRef]
    lines: list[LineAvailability]
    whole_basket: list[StoreRef] | None


async def _resolve(reader: StockReader, lookups: Sequence[ItemLookup]) -> list[ResolvedItem]:
    """One item: errors name it directly (409 lists ``candidates``); many: per line.
    Answers are remembered for a few seconds (``StockReader.items``): mappings change rarely."""
    known = [item for item in map(reader.items.get, lookups) if item is not None]
    if len(known) == len(lookups):
        return known
    resolved = await _resolve_now(reader, lookups)
    for lookup, item in zip(lookups, resolved, strict=True):
        reader.items.put(lookup, item)
    return resolved


async def _resolve_now(reader: StockReader, lookups: Sequence[ItemLookup]) -> list[ResolvedItem]:
    async with reader.pool.acquire() as conn:
        if len(lookups) == 1:
            one = lookups[0]
            return [
                await resolve_item(
                    conn,
                    sku=one.sku,
                    ean=one.ean,
                    ps_product=one.ps_product,
                    ps_attribute=one.ps_attribute,
                    reference=one.reference,
                )
            ]
        return await resolve_items(conn, lookups)


def choose_stores(
    directory: dict[str, DirectoryStore],
    store_ids: Sequence[str] | None,
    near: Near | None,
    service: str | None = None,
) -> list[StoreRef]:
    """The named stores (404 naming the unknown ones) or the stores near a point, nearest first."""
    if store_ids:
        unknown = [s for s in dict.fromkeys(store_ids) if s not in directory]
        if unknown:
            raise NotFound(f"unknown store(s): {', '.join(unknown)}", unknown_stores=unknown)
        return [
            StoreRef(s, directory[s].name, None, bool(directory[s].services))
            for s in dict.fromkeys(store_ids)
        ]
    if near is None:
        raise InvalidInput(
            "say which stores: store=CODE (repeatable) or near=LAT,LNG",
            [{"loc": ["store"], "msg": "give store or near", "type": "missing"}],
        )
    located = {
        s.store_id: LatLng(s.latitude, s.longitude)
        for s in directory.values()
        if s.latitude is not None
        and s.longitude is not None
        and (service is None or service in s.services)
    }
    found = nearest_stores(near.origin, located, radius_km=near.radius_km, limit=near.limit)
    return [
        StoreRef(
            d.store_id,
            directory[d.store_id].name,
            round(d.distance_km, 3),
            bool(directory[d.store_id].services),
        )
        for d in found
    ]


def line_cells(
    stock: SkuStock,
    stores: Sequence[StoreRef],
    quantity: int,
    source: Source,
    buffers: BufferTiers,
    now: datetime,
    stale_after_s: float,
) -> list[Cell]:
    """One line's cells, store by store (the hot loop of a 1,000-cell matrix): the formula is
    ``service.domain.atp``'s, called without re-validating counts read from the database."""
    rows, holds, checked, sku = stock.rows, stock.holds, stock.checked_at, stock.sku
    uniform = buffers.uniform()
    stale_by_as_of: dict[datetime | None, bool] = {}
    cells = []
    for ref in stores:
        code = ref.store_id
        erp_available, as_of = rows.get(code, _NO_ROW)
        if checked is not None and (as_of is None or checked > as_of):
            as_of = checked
        held = holds.get(code)
        pending = pending_hold_qty([OpenHold(q, a) for q, a in held], as_of) if held else 0
        available, status, offered, short_by = position_figures(
            erp_available, pending, uniform if uniform is not None else buffers.resolve(code, sku)
        )
        offered = offered and ref.pickup
        is_stale = stale_by_as_of.get(as_of)
        if is_stale is None:
            is_stale = stale_by_as_of[as_of] = stale(as_of, now, stale_after_s)
        cells.append(
            Cell(
                code,
                ref.name,
                ref.distance_km,
                available,
                status,
                offered,
                offered and available >= quantity,
                as_of,
                is_stale,
                source,
                short_by > 0,
            )
        )
    return cells


_NO_ROW: tuple[int, datetime | None] = (0, None)


async def availability(
    reader: StockReader,
    lookups: Sequence[ItemLookup],
    quantities: Sequence[int],
    *,
    store_ids: Sequence[str] | None = None,
    near: Near | None = None,
    service: str | None = None,
    whole_basket: bool = False,
) -> Matrix:
    items = await _resolve(reader, lookups)
    stores = choose_stores(await reader.directory(), store_ids, near, service)
    codes = [s.store_id for s in stores]
    unique = list({i.sku: i.ean for i in items}.items())
    fresh = await reader.fresh(unique, codes)
    buffers = await reader.buffers()
    now = reader.clock()
    stale_after_s = reader.settings.stale_after.total_seconds()
    lines = []
    for item, qty in zip(items, quantities, strict=True):
        source: Source = (
            "live"
            if item.sku in fresh.live
            else "fallback"
            if item.sku in fresh.fallback
            else "snapshot"
        )
        stock = fresh.data[item.sku]
        cells = line_cells(stock, stores, qty, source, buffers, now, stale_after_s)
        oldest = min((c.as_of for c in cells if c.as_of is not None), default=None)
        if oldest is not None:  # once per line: a histogram observation per cell costs
            reader.metrics.snapshot_age.observe(max(0.0, (now - oldest).total_seconds()))
        lines.append(LineAvailability(item, qty, cells))
    basket = None
    if whole_basket:
        basket = [s for i, s in enumerate(stores) if all(line.cells[i].enough for line in lines)]
    return Matrix(stores, lines, basket)
