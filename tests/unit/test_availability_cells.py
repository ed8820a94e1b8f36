"""A matrix's cells, made once per distinct state and pre-encoded, say what the formula says
cell by cell, in the bytes orjson writes for the same cells as objects."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import given
from hypothesis import strategies as st

from service.api.availability import _CellsJson
from service.api.routing import dumps
from service.domain.atp import (
    BufferOverride,
    Buffers,
    BufferTiers,
    OpenHold,
    pending_hold_qty,
    position_figures,
    stale,
)
from service.usecases.catalog.identifiers import ResolvedItem
from service.usecases.stock.availability import LineAvailability, StoreRef, _States, line_cells
from stores.availability_reads import SkuStock

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
ITEM = ResolvedItem("SKU-1", None, None, None, None, "sku")
STORES = ["S1", "S2", "S3", "WEB"]
times = st.one_of(st.none(), st.integers(0, 4).map(lambda m: NOW - timedelta(minutes=m)))
counts = st.integers(0, 12)
overrides = st.builds(
    BufferOverride,
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 5)),
    st.one_of(st.none(), st.integers(0, 4)),
)
tiers = st.one_of(
    st.builds(BufferTiers, st.builds(Buffers, st.integers(0, 2), st.integers(0, 4))),
    st.builds(
        BufferTiers,
        st.builds(Buffers, st.integers(0, 2), st.integers(0, 4), st.integers(0, 3)),
        st.dictionaries(st.sampled_from(STORES), overrides, max_size=2),
        st.dictionaries(st.just("SKU"), overrides, max_size=1),
        st.dictionaries(st.tuples(st.sampled_from(STORES), st.just("SKU")), overrides, max_size=2),
    ),
)
stocks = st.builds(
    SkuStock,
    st.just("SKU"),
    st.dictionaries(st.sampled_from(STORES), st.tuples(st.integers(-3, 12), times)),
    st.dictionaries(
        st.sampled_from(STORES), st.lists(st.tuples(counts, times), min_size=1, max_size=3)
    ),
    times,
)
stores = [
    StoreRef("S1", "One", None),
    StoreRef("S2", "Two", 1.5),
    StoreRef("S3", 'Thr"ee', 12.25),
    StoreRef("WEB", "Web", None, pickup=False),
]


def _reference(stock: SkuStock, buffers: BufferTiers, qty: int) -> list[dict[str, object]]:
    """Cell by cell, as the availability answer has always been computed."""
    cells = []
    for ref in stores:
        erp, as_of = stock.rows.get(ref.store_id, (0, None))
        if stock.checked_at is not None and (as_of is None or stock.checked_at > as_of):
            as_of = stock.checked_at
        held = [OpenHold(q, a) for q, a in stock.holds.get(ref.store_id, [])]
        pending = pending_hold_qty(held, as_of)
        available, status, offered, short = position_figures(
            erp, pending, buffers.resolve(ref.store_id, "SKU")
        )
        offered = offered and ref.pickup
        cells.append(
            {
                "store_id": ref.store_id,
                "name": ref.name,
                "distance_km": ref.distance_km,
                "available": available,
                "status": status,
                "offered_for_pickup": offered,
                "enough": offered and available >= qty,
                "as_of": as_of,
                "stale": stale(as_of, NOW, 90.0),
                "source": "snapshot",
                "oversold": short > 0,
            }
        )
    return cells


@given(st.lists(stocks, min_size=1, max_size=4), tiers, st.integers(1, 6))
def test_cells_are_the_formula_cell_by_cell_in_the_same_bytes(
    lines: list[SkuStock], buffers: BufferTiers, qty: int
) -> None:
    states = _States(stores, qty, "snapshot", buffers.uniform(), NOW, 90.0)
    encode = _CellsJson(stores)
    for stock in lines:
        cells = line_cells(stock, buffers, states)
        expected = _reference(stock, buffers, qty)
        got = [
            {"store_id": s.store_id, "name": s.name, "distance_km": s.distance_km}
            | dataclasses.asdict(c)
            for s, c in zip(stores, cells, strict=True)
        ]
        assert got == expected
        for kept in (False, True, True):  # as computed, then kept and found again
            line = LineAvailability(ITEM, qty, cells, kept)
            assert orjson.dumps({"stores": encode(line)}) == dumps({"stores": expected})
