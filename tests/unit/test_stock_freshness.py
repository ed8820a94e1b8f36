"""When a read asks the ERP again: a store without a row, a row without a time or older than the
TTL, unless the hot pass read the SKU lately. The shortcut on the entry's oldest row time
(``SkuStock.oldest_as_of``) answers as the per-store rule does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.usecases.stock.reader import StockReader
from stores.availability_reads import SkuStock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_time = st.one_of(st.none(), st.integers(0, 10).map(lambda m: T0 + timedelta(minutes=m)))
_stores = st.sampled_from(["S1", "S2", "S3", "S4"])


def _per_store(s: SkuStock, stores: list[str], limit: datetime) -> bool:
    """The rule, store by store."""
    if s.checked_at is not None and s.checked_at >= limit:
        return False
    return any(
        s.rows.get(x) is None or s.rows[x][1] is None or s.rows[x][1] < limit  # type: ignore[operator]
        for x in stores
    )


@given(
    st.dictionaries(_stores, st.tuples(st.integers(0, 5), _time)),
    st.lists(_stores, max_size=4),
    _time,
    st.integers(0, 10),
)
def test_needs_refresh_is_the_per_store_rule(
    rows: dict[str, tuple[int, datetime | None]],
    stores: list[str],
    checked_at: datetime | None,
    limit_minute: int,
) -> None:
    s = SkuStock("SKU", rows, {}, checked_at)
    limit = T0 + timedelta(minutes=limit_minute)
    assert StockReader._needs_refresh(s, stores, set(stores), limit) == _per_store(s, stores, limit)


def test_the_oldest_row_time_is_kept_with_the_entry() -> None:
    early, late = T0, T0 + timedelta(minutes=1)
    assert SkuStock("A", {"S1": (1, late), "S2": (0, early)}, {}, None).oldest_as_of == early
    assert SkuStock("A", {"S1": (1, late), "S2": (0, None)}, {}, None).oldest_as_of is None
    assert SkuStock("A", {}, {}, None).oldest_as_of is None
    assert SkuStock("A", {"S1": (1, late)}, {}, None) == SkuStock("A", {"S1": (1, late)}, {}, None)
