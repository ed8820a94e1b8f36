"""Available to promise (ATP) for one store and SKU, written once and reused everywhere.

    available = erp_available - pending_held - safety_stock, floored at 0

``pending_held`` sums our open holds that the ERP has not booked yet. A hold stops counting once
the ERP acknowledged its document AND a stock snapshot taken strictly after that acknowledgement
has been applied (``hold_counts``): before that, the snapshot cannot include the hold, so it must
still be subtracted; after it, subtracting it again would count it twice. Unknown times (no ack,
no snapshot, or a snapshot at the very instant of the ack) keep the hold counting: we never drop
a hold early.

Buffers come in tiers, resolved field by field, most specific first:
**store+SKU > SKU > store > global**. Each tier may set any of ``safety_stock``, ``low_stock``
and ``hide_below``; a field left unset (None) falls through to the next tier, and the global
tier sets all three.

- ``safety_stock``: units never promised.
- ``low_stock``: ``available <= low_stock`` (and > 0) gives the status ``low_stock``.
- ``hide_below``: the SKU is offered for pickup in this store only when
  ``available >= max(1, hide_below)``.

The ERP may report on-hand below our holds (the store sold the units meanwhile): the position is
then ``oversold`` and ``short_by`` counts the held units the ERP stock no longer covers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from service.domain.errors import InsufficientStock, Shortfall


class StockStatus(StrEnum):
    IN_STOCK = "in_stock"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"


def _require_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class Buffers:
    """The buffers that apply to one store and SKU."""

    safety_stock: int = 0
    low_stock: int = 0
    hide_below: int = 0

    def __post_init__(self) -> None:
        for name in ("safety_stock", "low_stock", "hide_below"):
            _require_count(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class BufferOverride:
    """One tier's settings; None means "not set here, ask the next tier"."""

    safety_stock: int | None = None
    low_stock: int | None = None
    hide_below: int | None = None

    def __post_init__(self) -> None:
        for name in ("safety_stock", "low_stock", "hide_below"):
            if getattr(self, name) is not None:
                _require_count(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class BufferTiers:
    """All buffer settings: a global default and overrides per store, SKU and store+SKU."""

    global_default: Buffers = field(default_factory=Buffers)
    by_store: Mapping[str, BufferOverride] = field(default_factory=dict)
    by_sku: Mapping[str, BufferOverride] = field(default_factory=dict)
    by_store_sku: Mapping[tuple[str, str], BufferOverride] = field(default_factory=dict)

    def uniform(self) -> Buffers | None:
        """The global default when no tier overrides it anywhere (``resolve`` is then constant),
        else None."""
        if self.by_store_sku or self.by_sku or self.by_store:
            return None
        return self.global_default

    def resolve(self, store_id: str, sku: str) -> Buffers:
        """Buffers for one store and SKU: per field, store+SKU > SKU > store > global."""
        if not (self.by_store_sku or self.by_sku or self.by_store):
            return self.global_default  # the common case: no override anywhere
        tiers = [
            self.by_store_sku.get((store_id, sku)),
            self.by_sku.get(sku),
            self.by_store.get(store_id),
        ]
        values: dict[str, int] = {}
        for name in ("safety_stock", "low_stock", "hide_below"):
            chosen = next(
                (v for t in tiers if t is not None and (v := getattr(t, name)) is not None),
                getattr(self.global_default, name),
            )
            values[name] = chosen
        return Buffers(**values)


@dataclass(frozen=True, slots=True)
class OpenHold:
    """An open stock hold: its quantity and when the ERP acknowledged its document (if yet)."""

    qty: int
    erp_acked_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_count("qty", self.qty)
        _require_aware("erp_acked_at", self.erp_acked_at)


def hold_counts(hold_acked_at: datetime | None, snapshot_as_of: datetime | None) -> bool:
    """Whether a hold must still be subtracted from a snapshot taken at ``snapshot_as_of``."""
    _require_aware("hold_acked_at", hold_acked_at)
    _require_aware("snapshot_as_of", snapshot_as_of)
    if hold_acked_at is None or snapshot_as_of is None:
        return True
    return snapshot_as_of <= hold_acked_at


def pending_hold_qty(holds: Iterable[OpenHold], snapshot_as_of: datetime | None) -> int:
    """Units held by us that the snapshot taken at ``snapshot_as_of`` does not reflect yet."""
    return sum(h.qty for h in holds if hold_counts(h.erp_acked_at, snapshot_as_of))


@dataclass(frozen=True, slots=True)
class StockPosition:
    """What omnistock can promise for one store and SKU, and why."""

    available: int
    status: StockStatus
    offered_for_pickup: bool
    erp_available: int
    pending_held: int
    safety_stock: int
    short_by: int

    @property
    def oversold(self) -> bool:
        """The ERP stock no longer covers all of our pending holds."""
        return self.short_by > 0


def stock_position(erp_available: int, pending_held: int, buffers: Buffers) -> StockPosition:
    """Apply the ATP formula, the status bands and the pickup threshold."""
    if isinstance(erp_available, bool) or not isinstance(erp_available, int):
        raise ValueError(f"erp_available must be an integer, got {erp_available!r}")
    _require_count("pending_held", pending_held)
    available, status, offered, short_by = position_figures(erp_available, pending_held, buffers)
    return StockPosition(
        available=available,
        status=status,
        offered_for_pickup=offered,
        erp_available=erp_available,
        pending_held=pending_held,
        safety_stock=buffers.safety_stock,
        short_by=short_by,
    )


def position_figures(
    erp_available: int, pending_held: int, buffers: Buffers
) -> tuple[int, StockStatus, bool, int]:
    """The formula itself: (available, status, offered_for_pickup, short_by).

    ``stock_position`` validates its inputs and calls this; bulk readers (1,000 cells per
    availability matrix) call it directly with counts read from the database."""
    available = erp_available - pending_held - buffers.safety_stock
    if available <= 0:
        available, status = 0, StockStatus.OUT_OF_STOCK
    elif available <= buffers.low_stock:
        status = StockStatus.LOW_STOCK
    else:
        status = StockStatus.IN_STOCK
    short_by = pending_held - erp_available
    if short_by <= 0:
        short_by = 0
    elif short_by > pending_held:
        short_by = pending_held
    hide_below = buffers.hide_below
    return available, status, available >= (hide_below if hide_below > 1 else 1), short_by


def grants(erp_available: int, pending_held: int, buffers: Buffers, qty: int) -> bool:
    """Whether ``qty`` units can be held: offered for pickup and at least ``qty`` available."""
    available, _, offered, _ = position_figures(erp_available, pending_held, buffers)
    return offered and available >= qty


def hold_headroom(erp_available: int, pending_held: int, buffers: Buffers, qty: int) -> int | None:
    """How many more pending units ``grants`` tolerates for ``qty``; None when it refuses now.

    Creating a pickup decides from an unlocked read, then writes only if the holds added since
    stay within this headroom (sql/0014). Found by bisection over ``grants``, which can only turn
    false as ``pending_held`` grows, so the formula stays written once, in ``position_figures``.
    """
    if not grants(erp_available, pending_held, buffers, qty):
        return None
    low, high = 0, max(erp_available - pending_held, 0)  # beyond ``high`` nothing is available
    while low < high:  # invariant: grants at pending_held + low
        middle = (low + high + 1) // 2
        if grants(erp_available, pending_held + middle, buffers, qty):
            low = middle
        else:
            high = middle - 1
    return low


def stale(as_of: datetime | None, now: datetime, budget_seconds: float) -> bool:
    """Whether a snapshot taken at ``as_of`` is older than the staleness budget (None: stale)."""
    if budget_seconds < 0:
        raise ValueError(f"budget_seconds must be >= 0, got {budget_seconds}")
    _require_aware("as_of", as_of)
    _require_aware("now", now)
    if as_of is None:
        return True
    return (now - as_of).total_seconds() > budget_seconds


@dataclass(frozen=True, slots=True)
class StockRequest:
    """``qty`` units of ``sku`` wanted from ``store_id``."""

    store_id: str
    sku: str
    qty: int

    def __post_init__(self) -> None:
        if isinstance(self.qty, bool) or not isinstance(self.qty, int) or self.qty < 1:
            raise ValueError(f"qty must be an integer >= 1, got {self.qty!r}")


def find_shortfalls(
    requests: Iterable[StockRequest], available: Mapping[tuple[str, str], int]
) -> list[Shortfall]:
    """Every (store, SKU) whose summed request exceeds ``available`` (missing keys count as 0).

    Lines for the same store and SKU are added up first; the result is sorted by store, SKU.
    """
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for request in requests:
        wanted[(request.store_id, request.sku)] += request.qty
    return [
        Shortfall(store_id, sku, qty, available.get((store_id, sku), 0))
        for (store_id, sku), qty in sorted(wanted.items())
        if qty > available.get((store_id, sku), 0)
    ]


def ensure_available(
    requests: Iterable[StockRequest], available: Mapping[tuple[str, str], int]
) -> None:
    """All-or-nothing: raise ``InsufficientStock`` listing every short line, if any."""
    shortfalls = find_shortfalls(requests, available)
    if shortfalls:
        raise InsufficientStock(shortfalls)
