"""Availability to promise per store: one item or a basket, named stores or stores nearby.

The ATP formula lives in ``service.domain.atp``; this module gathers its inputs (the snapshot,
open holds, buffers), picks the stores, and says how fresh and where from each answer is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import attrgetter
from typing import Literal

from service.domain.atp import (
    Buffers,
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


@dataclass(slots=True, eq=False)  # not frozen: a frozen dataclass's __init__ costs more
class CellState:
    """One store's answer for one line, less the store itself (``Matrix.stores`` at the same
    index): the API writes these fields as they are, in order, after the store's.

    A request holds one object per distinct state (``_States``): in a 1,000-cell matrix most
    cells repeat a few dozen states (same stock row, quantity and source), so the formula runs
    and the answer is encoded once per state, not per cell. ``eq=False``: hashed by identity,
    which is what the encoder's per-state cache needs (and cheap)."""

    available: int
    status: StockStatus
    offered_for_pickup: bool
    enough: bool
    as_of: datetime | None
    stale: bool
    source: Source
    oversold: bool


@dataclass(slots=True)  # not frozen: made per matrix line, and a frozen __init__ costs more
class LineAvailability:
    item: ResolvedItem
    quantity: int
    cells: list[CellState]  # one per store of ``Matrix.stores``, in order; not to be changed
    kept: bool = False  # ``cells`` is kept by the line memo: the same list in later answers


@dataclass(frozen=True)  # no __slots__: written in answers (see ``ResolvedItem``)
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
    known = [item for item in reader.items.get_many(lookups) if item is not None]
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


# What decides a cell besides the line's quantity and source: the store's stock row
# (erp_available, as_of), whether the store offers pickup, the SKU's hot-pass time, the pending
# held units, and the buffers (None: the request's uniform buffers).
_StateKey = tuple[tuple[int, datetime | None], bool, datetime | None, int, Buffers | None]
_Row = tuple[int, datetime | None]


class _States(dict[_StateKey, CellState]):
    """The cell states of one request for one (quantity, source), made on first use: the
    formula is ``service.domain.atp``'s, called without re-validating counts read from the
    database. Also the request's stores, as ``line_cells`` reads them."""

    def __init__(
        self,
        stores: Sequence[StoreRef],
        quantity: int,
        source: Source,
        uniform: Buffers | None,
        now: datetime,
        stale_after_s: float,
    ) -> None:
        super().__init__()
        self.stores, self.codes = stores, [s.store_id for s in stores]
        self.without_pickup = [(i, s.store_id) for i, s in enumerate(stores) if not s.pickup]
        self.quantity, self.source, self.uniform = quantity, source, uniform
        self.now, self.stale_after_s = now, stale_after_s
        self._by_row: dict[tuple[bool, datetime | None], _RowStates] = {}
        # id(stock entry) -> (that entry, its line's cells, their oldest as_of): ``_LineMemo``
        self.lines: dict[int, tuple[SkuStock, list[CellState], datetime | None]] = {}
        self.in_memo = False  # kept by a ``_LineMemo``: its lines are worth keeping

    def __missing__(self, key: _StateKey) -> CellState:
        (erp_available, as_of), pickup, checked, pending, buffers = key
        as_of = effective_as_of(as_of, checked)
        chosen = buffers if buffers is not None else self.uniform
        assert chosen is not None  # a None in the key means the request's buffers are uniform
        available, status, offered, short_by = position_figures(erp_available, pending, chosen)
        offered = offered and pickup
        state = self[key] = CellState(
            available,
            status,
            offered,
            offered and available >= self.quantity,
            as_of,
            stale(as_of, self.now, self.stale_after_s),
            self.source,
            short_by > 0,
        )
        return state

    def by_row(self, pickup: bool, checked: datetime | None) -> _RowStates:
        """The states of rows without holds under uniform buffers, looked up by the row alone."""
        found = self._by_row.get((pickup, checked))
        if found is None:
            found = self._by_row[(pickup, checked)] = _RowStates(self, pickup, checked)
        return found


class _RowStates(dict[_Row, CellState]):
    """``_States`` for one (pickup, hot-pass time), no holds and uniform buffers, keyed by the
    stock row alone: the common cell, looked up in C (``map``) with no key built per cell."""

    def __init__(self, states: _States, pickup: bool, checked: datetime | None) -> None:
        super().__init__()
        self.states, self.pickup, self.checked = states, pickup, checked

    def __missing__(self, row: _Row) -> CellState:
        state = self[row] = self.states[(row, self.pickup, self.checked, 0, None)]
        return state


def effective_as_of(as_of: datetime | None, checked: datetime | None) -> datetime | None:
    """A row's snapshot time, or the SKU's later hot-pass read (which saw this store too)."""
    if checked is not None and (as_of is None or checked > as_of):
        return checked
    return as_of


def line_cells(stock: SkuStock, buffers: BufferTiers, states: _States) -> list[CellState]:
    """One line's cells, store by store (the hot loop of a 1,000-cell matrix): dict look-ups;
    the states themselves are made once per request (``_States``)."""
    rows, holds, checked, sku = stock.rows, stock.holds, stock.checked_at, stock.sku
    if not holds and states.uniform is not None:  # the common case: nothing varies but the row
        codes = states.codes
        cells = list(
            map(
                states.by_row(True, checked).__getitem__,
                map(rows.get, codes, repeat(_NO_ROW, len(codes))),
            )
        )
        for i, code in states.without_pickup:  # the web store: offers no pickup service
            cells[i] = states.by_row(False, checked)[rows.get(code, _NO_ROW)]
        return cells
    cells = []
    for ref in states.stores:
        code = ref.store_id
        row = rows.get(code, _NO_ROW)
        held = holds.get(code)
        pending = 0
        if held:
            as_of = effective_as_of(row[1], checked)
            pending = pending_hold_qty([OpenHold(q, a) for q, a in held], as_of)
        tiers = None if states.uniform is not None else buffers.resolve(code, sku)
        cells.append(states[(row, ref.pickup, checked, pending, tiers)])
    return cells


_NO_ROW: tuple[int, datetime | None] = (0, None)
_AS_OF = attrgetter("as_of")


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
    directory = await reader.directory()
    stores = choose_stores(directory, store_ids, near, service)
    codes = [s.store_id for s in stores]
    unique = list({i.sku: i.ean for i in items}.items())
    fresh = await reader.fresh(unique, codes)
    buffers = await reader.buffers()
    now = reader.clock()
    memo = _memo(reader, now, directory, buffers)
    stale_after_s = reader.settings.stale_after.total_seconds()
    uniform = buffers.uniform()
    placed = (tuple(codes), near)  # with the memo's directory: the stores and their order
    by_line: dict[tuple[int, Source], _States] = {}
    lines = []
    data, live, fallback = fresh.data, fresh.live, fresh.fallback
    observe_age = reader.metrics.snapshot_age.observe
    ages: dict[datetime, float] = {}  # oldest snapshot time -> its age: lines share a few
    for item, qty in zip(items, quantities, strict=True):
        sku = item.sku
        source: Source = "live" if sku in live else "fallback" if sku in fallback else "snapshot"
        states = by_line.get((qty, source))
        if states is None:
            states = by_line[(qty, source)] = memo.states_for(
                placed, stores, qty, source, uniform, now, stale_after_s
            )
        stock = data[sku]
        hit = states.lines.get(id(stock))
        if hit is not None and hit[0] is stock:  # the same entry, read again within the memo
            cells, oldest, kept = hit[1], hit[2], True
        else:
            cells = line_cells(stock, buffers, states)
            as_ofs = set(map(_AS_OF, cells))  # in C: a line has one or a few snapshot times
            as_ofs.discard(None)
            oldest = min(as_ofs) if as_ofs else None
            kept = states.in_memo and memo.room > 0
            if kept:
                memo.room -= 1
                states.lines[id(stock)] = (stock, cells, oldest)
        if oldest is not None:  # once per line, the oldest: an observation per cell costs
            age = ages.get(oldest)
            if age is None:
                age = ages[oldest] = max(0.0, (now - oldest).total_seconds())
            observe_age(age)
        lines.append(LineAvailability(item, qty, cells, kept))
    basket = None
    if whole_basket:
        basket = [s for i, s in enumerate(stores) if all(line.cells[i].enough for line in lines)]
    return Matrix(stores, lines, basket)


# ------------------------------------------------------------------ memo across requests
MEMO_MAX_LINES = 4096  # lines kept per memo (each holds its stock entry and its cells)
MEMO_MAX_STATES = 64  # (stores, quantity, source) combinations kept per memo


class _LineMemo:
    """The cells of lines computed in the last ``ReaderSettings.line_memo_s`` (the API's
    ``OMNISTOCK_ANSWER_CACHE_S``, 1 s by default; 0: no memo), reused while neither the
    directory nor the buffers were reloaded: a category page (48 products x 5 stores) asked
    again and again computes each line once a second, not once per request.

    A line is found by its stock entry's identity (``SkuStock`` objects are immutable and
    replaced, never changed, when the stock changes: a sync, a refresh or a hold drops the
    entry and the next read makes a new one) under the same stores, quantity and source (its
    ``_States``). What the clock changes, the ``stale`` flags, is as of the moment the state
    set was made: at most ``line_memo_s`` late, as the encoded answers of
    ``GET /v1/availability`` are. Bounded:
    at most MEMO_MAX_STATES state sets and MEMO_MAX_LINES lines, then lines are computed
    without being kept; the whole memo is replaced after ``line_memo_s`` (with what it held).
    The stock cache's Redis backend decodes a new entry per read, so there the memo finds
    nothing and costs a lookup a line."""

    __slots__ = ("buffers", "directory", "room", "started", "states")

    def __init__(self, started: datetime, directory: object, buffers: BufferTiers) -> None:
        self.started, self.directory, self.buffers = started, directory, buffers
        self.states: dict[object, _States] = {}
        self.room = MEMO_MAX_LINES

    def states_for(
        self,
        placed: object,
        stores: Sequence[StoreRef],
        quantity: int,
        source: Source,
        uniform: Buffers | None,
        now: datetime,
        stale_after_s: float,
    ) -> _States:
        """The state set of ``stores`` (``placed``: what identifies them under the memo's
        directory) for one quantity and source: the memo's, or a new one."""
        key = (placed, quantity, source)
        states = self.states.get(key)
        if states is None:
            states = _States(stores, quantity, source, uniform, now, stale_after_s)
            if len(self.states) < MEMO_MAX_STATES and self.room > 0:
                self.states[key] = states
                states.in_memo = True
        return states


def _memo(reader: StockReader, now: datetime, directory: object, buffers: BufferTiers) -> _LineMemo:
    memo, span = reader.line_memo, reader.settings.line_memo_s
    if (
        not isinstance(memo, _LineMemo)
        or memo.directory is not directory
        or memo.buffers is not buffers
        or not 0 <= (now - memo.started).total_seconds() < span
    ):
        memo = _LineMemo(now, directory, buffers)
        if span <= 0:
            memo.room = 0  # no memo: nothing kept, nothing found
        else:
            reader.line_memo = memo
    return memo
