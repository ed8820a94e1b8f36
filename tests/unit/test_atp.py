from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.atp import (
    BufferOverride,
    Buffers,
    BufferTiers,
    OpenHold,
    StockRequest,
    StockStatus,
    ensure_available,
    find_shortfalls,
    grants,
    hold_counts,
    hold_headroom,
    pending_hold_qty,
    stale,
    stock_position,
)
from service.domain.errors import InsufficientStock, Shortfall

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- holds
def test_a_hold_the_erp_has_not_acknowledged_always_counts() -> None:
    assert hold_counts(None, T0)
    assert hold_counts(None, None)


def test_an_acknowledged_hold_counts_until_a_later_snapshot_is_applied() -> None:
    acked = T0
    assert hold_counts(acked, None)
    assert hold_counts(acked, acked - timedelta(seconds=1))
    assert hold_counts(acked, acked)  # same instant: cannot tell, keep counting
    assert not hold_counts(acked, acked + timedelta(microseconds=1))


def test_hold_times_must_be_aware() -> None:
    with pytest.raises(ValueError):
        hold_counts(datetime(2025, 3, 1), T0)
    with pytest.raises(ValueError):
        OpenHold(1, datetime(2025, 3, 1))


def test_pending_hold_qty_sums_only_holds_the_snapshot_does_not_reflect() -> None:
    holds = [
        OpenHold(2),  # not sent yet
        OpenHold(3, T0 - timedelta(minutes=5)),  # acked before the snapshot: already in ERP stock
        OpenHold(4, T0 + timedelta(minutes=5)),  # acked after the snapshot
    ]
    assert pending_hold_qty(holds, T0) == 2 + 4
    assert pending_hold_qty(holds, None) == 9
    assert pending_hold_qty([], T0) == 0


# --------------------------------------------------------------------------- ATP
def test_available_subtracts_holds_and_safety_stock() -> None:
    position = stock_position(10, 3, Buffers(safety_stock=2, low_stock=3))
    assert position.available == 5
    assert position.status is StockStatus.IN_STOCK
    assert position.offered_for_pickup
    assert not position.oversold
    assert position.short_by == 0


@pytest.mark.parametrize(
    ("erp", "held", "status"),
    [
        (10, 0, "in_stock"),
        (4, 0, "in_stock"),
        (3, 0, "low_stock"),
        (1, 0, "low_stock"),
        (0, 0, "out_of_stock"),
        (5, 5, "out_of_stock"),
    ],
)
def test_status_bands(erp: int, held: int, status: str) -> None:
    assert stock_position(erp, held, Buffers(low_stock=3)).status == status


def test_hide_below_stops_offering_pickup_without_changing_available() -> None:
    buffers = Buffers(hide_below=3)
    assert not stock_position(2, 0, buffers).offered_for_pickup
    assert stock_position(2, 0, buffers).available == 2
    assert stock_position(3, 0, buffers).offered_for_pickup
    assert not stock_position(0, 0, Buffers()).offered_for_pickup


def test_erp_below_our_holds_is_floored_and_flagged() -> None:
    position = stock_position(1, 3, Buffers())
    assert position.available == 0
    assert position.status is StockStatus.OUT_OF_STOCK
    assert position.oversold
    assert position.short_by == 2


def test_negative_erp_stock_short_by_never_exceeds_our_holds() -> None:
    assert stock_position(-4, 2, Buffers()).short_by == 2
    assert not stock_position(-4, 0, Buffers()).oversold


@given(
    st.integers(-1000, 1000),
    st.integers(0, 1000),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 50),
)
def test_available_matches_the_formula(
    erp: int, held: int, safety: int, low: int, hide: int
) -> None:
    position = stock_position(erp, held, Buffers(safety, low, hide))
    assert position.available == max(0, erp - held - safety)
    assert position.short_by == max(0, min(held, held - erp))
    assert (position.status == StockStatus.OUT_OF_STOCK) == (position.available == 0)
    assert position.offered_for_pickup <= (position.available > 0)


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_bad_numbers_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        Buffers(safety_stock=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        stock_position(5, bad, Buffers())  # type: ignore[arg-type]


def test_erp_available_must_be_an_integer() -> None:
    with pytest.raises(ValueError):
        stock_position(2.5, 0, Buffers())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- buffer tiers
TIERS = BufferTiers(
    global_default=Buffers(safety_stock=1, low_stock=5, hide_below=2),
    by_store={"S1": BufferOverride(safety_stock=2, hide_below=0)},
    by_sku={"SKU-A": BufferOverride(safety_stock=3, low_stock=10)},
    by_store_sku={("S1", "SKU-A"): BufferOverride(safety_stock=0)},
)


@pytest.mark.parametrize(
    ("store", "sku", "expected"),
    [
        ("S9", "SKU-Z", Buffers(1, 5, 2)),  # global only
        ("S1", "SKU-Z", Buffers(2, 5, 0)),  # store overrides global
        ("S9", "SKU-A", Buffers(3, 10, 2)),  # SKU overrides global
        ("S1", "SKU-A", Buffers(0, 10, 0)),  # store+SKU > SKU > store > global, field by field
    ],
)
def test_buffer_precedence_most_specific_wins_per_field(
    store: str, sku: str, expected: Buffers
) -> None:
    assert TIERS.resolve(store, sku) == expected


def test_an_override_of_zero_is_a_value_not_unset() -> None:
    tiers = BufferTiers(Buffers(safety_stock=4), by_sku={"X": BufferOverride(safety_stock=0)})
    assert tiers.resolve("S", "X").safety_stock == 0


def test_override_values_are_validated() -> None:
    with pytest.raises(ValueError):
        BufferOverride(low_stock=-1)


# --------------------------------------------------------------------------- staleness
def test_stale() -> None:
    assert not stale(T0, T0 + timedelta(seconds=60), 60)
    assert stale(T0, T0 + timedelta(seconds=61), 60)
    assert stale(None, T0, 60)
    with pytest.raises(ValueError):
        stale(T0, T0, -1)
    with pytest.raises(ValueError):
        stale(datetime(2025, 3, 1), T0, 60)


# --------------------------------------------------------------------------- all-or-nothing
def test_every_short_line_is_listed_and_duplicates_are_summed() -> None:
    available = {("S1", "A"): 5, ("S1", "B"): 1, ("S2", "A"): 9}
    requests = [
        StockRequest("S2", "A", 2),
        StockRequest("S1", "B", 2),
        StockRequest("S1", "A", 3),
        StockRequest("S1", "A", 3),
        StockRequest("S3", "C", 1),
    ]
    assert find_shortfalls(requests, available) == [
        Shortfall("S1", "A", 6, 5),
        Shortfall("S1", "B", 2, 1),
        Shortfall("S3", "C", 1, 0),
    ]
    with pytest.raises(InsufficientStock) as caught:
        ensure_available(requests, available)
    assert [s.sku for s in caught.value.shortfalls] == ["A", "B", "C"]
    assert caught.value.shortfalls[0].missing == 1
    assert "requested 6, available 5" in str(caught.value)


def test_a_request_that_fits_passes() -> None:
    ensure_available([StockRequest("S1", "A", 5)], {("S1", "A"): 5})
    assert find_shortfalls([StockRequest("S1", "A", 5)], {("S1", "A"): 5}) == []


@pytest.mark.parametrize("qty", [0, -1, True])
def test_requests_need_a_positive_qty(qty: int) -> None:
    with pytest.raises(ValueError):
        StockRequest("S1", "A", qty)


# --------------------------------------------------------------------------- headroom
_buffers = st.builds(
    Buffers,
    safety_stock=st.integers(0, 30),
    low_stock=st.integers(0, 30),
    hide_below=st.integers(0, 30),
)


@given(st.integers(-20, 400), st.integers(0, 400), _buffers, st.integers(1, 60))
def test_headroom_is_the_largest_extra_pending_that_still_grants(
    erp: int, pending: int, buffers: Buffers, qty: int
) -> None:
    room = hold_headroom(erp, pending, buffers, qty)
    position = stock_position(erp, pending, buffers)
    granted_now = position.offered_for_pickup and position.available >= qty
    assert grants(erp, pending, buffers, qty) is granted_now
    if not granted_now:
        assert room is None
        return
    assert room is not None and room >= 0
    assert grants(erp, pending + room, buffers, qty)
    assert not grants(erp, pending + room + 1, buffers, qty)
    # what the formula says in closed form: everything above the request and the thresholds
    assert room == erp - pending - buffers.safety_stock - max(qty, buffers.hide_below, 1)


@given(st.integers(0, 400), st.integers(0, 400), _buffers, st.integers(1, 60), st.data())
def test_any_extra_pending_within_the_headroom_still_grants(
    erp: int, pending: int, buffers: Buffers, qty: int, data: st.DataObject
) -> None:
    """The write's guard (sql/0014) adds unseen holds up to the headroom: each must grant."""
    room = hold_headroom(erp, pending, buffers, qty)
    if room is None:
        return
    extra = data.draw(st.integers(0, room))
    assert grants(erp, pending + extra, buffers, qty)


def test_headroom_examples() -> None:
    plain = Buffers()
    assert hold_headroom(10, 0, plain, 1) == 9
    assert hold_headroom(10, 9, plain, 1) == 0
    assert hold_headroom(10, 10, plain, 1) is None
    assert hold_headroom(10, 0, Buffers(safety_stock=2), 3) == 5
    assert hold_headroom(10, 0, Buffers(hide_below=4), 1) == 6  # offered only from 4 left
    assert hold_headroom(-3, 0, plain, 1) is None
