"""What the pickup repository (``stores/pickups.py``) takes and gives back: typed records, and the
errors a creation raises instead of the driver's, so that the use case needs neither asyncpg
nor constraint names nor SQLSTATEs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from service.domain.atp import BufferTiers, OpenHold
from service.domain.pickups import Actor, PickupState

CREATE_EVENT = "create"  # the first history row's event (no transition: the pickup begins)


# --------------------------------------------------------------------------- read back
@dataclass(frozen=True, slots=True)
class LineRecord:
    line_no: int  # from 1, in the order the lines were given
    sku: str
    ean: str | None
    quantity: int
    unit_price: Decimal | None
    label: str


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    from_state: str | None
    to_state: str
    event: str
    actor_kind: str  # an ``ActorKind``, or ``admin`` in rows written before keys had roles
    actor_id: str
    actor_name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PickupRecord:
    """A pickup as stored; ``lines`` and ``history`` only when they were read too."""

    id: uuid.UUID
    kind: str
    state: str
    store_id: str
    customer: Mapping[str, Any]  # the JSON object given at creation
    ps_order_id: int | None
    ps_order_reference: str | None
    payment_status: str
    currency: str
    deadline: datetime
    ready_by: datetime | None
    created_at: datetime
    updated_at: datetime
    code_failures: int
    code_locked: bool
    erp_document: Any  # the ERP document key (JSON) once posted
    erp_acked_at: datetime | None
    lines: tuple[LineRecord, ...] = ()
    history: tuple[HistoryRecord, ...] = ()


# --------------------------------------------------------------------------- creation
@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    principal: str
    key: str
    operation: str
    request_hash: bytes


@dataclass(frozen=True, slots=True)
class CapacityDay:
    """A capped store's daily capacity and the local day a creation counts on, with its bounds
    (the first creation of a day counts the pickups already made between them)."""

    capacity: int
    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class NewPickupRow:
    """Everything a new pickup writes, in one call: the pickup, its lines, the units held per
    SKU, its creator, the outbox payload that posts it to the ERP, and (with ``key``) the answer
    stored under the Idempotency-Key; with ``capacity``, it counts on the store's day."""

    id: uuid.UUID
    kind: str
    store_id: str
    customer: Mapping[str, Any]
    ps_order_id: int | None
    ps_order_reference: str | None
    payment_status: str
    currency: str
    code_hash: str
    code_salt: bytes
    created_at: datetime
    deadline: datetime
    ready_by: datetime | None
    lines: tuple[LineRecord, ...]
    held: Mapping[str, int]  # sku -> units held
    actor: Actor
    outbox_payload: Mapping[str, Any]
    key: IdempotencyClaim | None = None
    answer: Mapping[str, Any] | None = None  # the 201 answer stored under ``key``
    capacity: CapacityDay | None = None

    def read_back(self) -> PickupRecord:
        """The pickup as it reads back once written: confirmed, with its first history row."""
        return PickupRecord(
            id=self.id,
            kind=self.kind,
            state=PickupState.CONFIRMED.value,
            store_id=self.store_id,
            customer=self.customer,
            ps_order_id=self.ps_order_id,
            ps_order_reference=self.ps_order_reference,
            payment_status=self.payment_status,
            currency=self.currency,
            deadline=self.deadline,
            ready_by=self.ready_by,
            created_at=self.created_at,
            updated_at=self.created_at,
            code_failures=0,
            code_locked=False,
            erp_document=None,
            erp_acked_at=None,
            lines=self.lines,
            history=(
                HistoryRecord(
                    None,
                    PickupState.CONFIRMED.value,
                    CREATE_EVENT,
                    self.actor.kind.value,
                    self.actor.id,
                    self.actor.name,
                    self.created_at,
                ),
            ),
        )


@dataclass(frozen=True, slots=True)
class StoreTerms:
    """What a creation needs of the store."""

    store_id: str
    active: bool
    services: tuple[str, ...]
    timezone: str
    opening_hours: str  # the JSON text, as stored (parsed once per change by the use case)
    hold_hours: int
    capacity_per_day: int | None


@dataclass(frozen=True, slots=True)
class StockRow:
    erp_available: int
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class CreateContext:
    """What a creation reads: the store, its stock rows of the SKUs, their open holds, the SKU
    checks and the buffers."""

    claimed: bool  # this transaction owns the Idempotency-Key (or none was given)
    existing_order: uuid.UUID | None  # a pickup already made for the PrestaShop order id
    store: StoreTerms | None  # None: no such store
    rows: Mapping[str, StockRow]  # sku -> its row at the store (as_of with the store's check)
    holds: Mapping[str, Sequence[OpenHold]]  # sku -> open holds at the store
    checks: Mapping[str, datetime]  # sku -> last hot-pass read (covers absent rows)
    buffers: BufferTiers


@dataclass(frozen=True, slots=True)
class Guard:
    """What an optimistic write re-checks under the lock: the stock rows as read (as stored),
    the ids of the open holds read, and each SKU's headroom (``atp.hold_headroom``)."""

    stored: Mapping[str, StockRow]
    seen_holds: Sequence[int]
    headroom: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What an optimistic creation read, unlocked: a ``CreateContext`` and what the write
    re-checks."""

    context: CreateContext
    stored: Mapping[str, StockRow]  # sku -> its row as stored (as_of without the store's check)
    seen_holds: Sequence[int]  # ids of the open holds read

    def guard(self, headroom: Mapping[str, int]) -> Guard:
        return Guard(self.stored, self.seen_holds, headroom)


# --------------------------------------------------------------------------- errors
class NotCreated(Exception):
    """A creation wrote nothing (its transaction rolled back), for the reason the subclass
    names."""


class StockMoved(NotCreated):
    """The stock rows or their holds moved between the optimistic read and the write."""


class KeyTaken(NotCreated):
    """The Idempotency-Key is already stored: its answer is to be replayed."""


class OrderExists(NotCreated):
    """A pickup already exists for this PrestaShop order id."""


class StoreFull(NotCreated):
    """The store's daily capacity is reached."""
