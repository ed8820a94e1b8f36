"""E-reservations and click-and-collect orders: create with a stock hold, never oversell.

Creating a pickup commits everything or nothing in one transaction: the Idempotency-Key's
answer, the pickup, its lines, holds, history and the outbox row that posts it to the ERP, with
this store's stock rows of the SKUs locked in (store, sku) order. All lines or none: a refusal
lists every short line.

Two ways to get there, both writing through one call, ``omnistock_create_pickup`` (sql/0014):
- optimistic (the default): read without a lock (one statement), decide ATP here, then write
  "guarded": the call locks the rows and proves, in a snapshot taken after the lock, that the
  decision still holds: the rows unchanged and the holds added since within each SKU's headroom
  (``atp.hold_headroom``). Two round trips, and no lock held while this process works. When the
  stock moved, it reads again;
- locked: lock the rows first and read the holds after the lock, decide, write, commit (five
  round trips). Taken after ``optimistic_attempts`` moved reads, so that a hot SKU cannot
  starve a request; and for replays and orders already created.
At a store with a daily capacity, the call counts the creation on the store's row of the day
(sql/0013), after the stock rows' locks and locked until commit: the capacity holds exactly.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import orjson

from service.domain.atp import (
    StockRequest,
    ensure_available,
    hold_headroom,
    pending_hold_qty,
)
from service.domain.atp import stock_position as position_of
from service.domain.hours import OpeningHours
from service.domain.pickup_codes import CodeHasher, new_code_salt, new_pickup_code
from service.domain.pickups import Actor, pickup_deadline, ready_by
from service.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from service.usecases import idempotency
from service.usecases.catalog.identifiers import ItemLookup, ResolvedItem, resolve_items
from service.usecases.catalog.store_model import hours_from_json
from service.usecases.clock import utcnow
from service.usecases.idempotency import Idempotency
from service.usecases.pickups.code_seal import (
    CodeSealer,
    context_of,
    replayed_answer,
    stored_answer,
)
from service.usecases.pickups.views import PickupView, pickup_view, read_view
from service.usecases.ttl_cache import TtlCache
from stores import pickups as repo
from stores.pickup_records import (
    CapacityDay,
    CreateContext,
    Guard,
    IdempotencyClaim,
    KeyTaken,
    LineRecord,
    NewPickupRow,
    OrderExists,
    StockMoved,
    StoreFull,
    StoreTerms,
)

Kind = Literal["reservation", "order"]
SERVICE_OF: dict[str, str] = {"reservation": "reservation", "order": "click_and_collect"}
OPERATION = "create_pickup"  # the Idempotency-Key operation
log = logging.getLogger("omnistock.pickups")


@dataclass(frozen=True)
class PickupSettings:
    max_staleness: timedelta = timedelta(minutes=10)  # older snapshots cannot back a hold
    prep_minutes: int = 60
    # stores the pickup code's hash: keyed (HMAC) under the deployment's shared secret; without
    # one, PBKDF2 at 1,000 rounds (``service.domain.pickup_codes``)
    code_hasher: CodeHasher = field(
        default_factory=lambda: CodeHasher(None, iterations=1000), compare=False
    )
    max_code_attempts: int = 5
    # unlocked reads tried (each then re-checked by the write under the lock) before a creation
    # takes the locked path; 0: always locked
    optimistic_attempts: int = 3
    # seals the pickup code in the stored Idempotency-Key answer; None: not stored at all
    code_sealer: CodeSealer | None = field(default=None, compare=False)


@dataclass(frozen=True)
class NewLine:
    lookup: ItemLookup
    quantity: int
    unit_price: Decimal | None = None
    label: str = ""


@dataclass(frozen=True)
class NewPickup:
    kind: Kind
    store_id: str
    customer: dict[str, Any]
    lines: list[NewLine]
    ps_order_id: int | None = None
    ps_order_reference: str | None = None
    payment_status: Literal["pending", "paid"] = "pending"
    currency: str = "EUR"


def _check_store(store: StoreTerms | None, new: NewPickup) -> StoreTerms:
    if store is None or not store.active:
        raise NotFound(f"no active store {new.store_id!r}", unknown_stores=[new.store_id])
    if SERVICE_OF[new.kind] not in store.services:
        raise Conflict(
            f"store {new.store_id} does not offer {SERVICE_OF[new.kind]}",
            store_id=new.store_id,
            services=list(store.services),
        )
    return store


def _capacity_day(store: StoreTerms, now: datetime) -> CapacityDay | None:
    """A capped store's capacity, and its local day of ``now`` with the day's bounds."""
    if store.capacity_per_day is None:
        return None
    local = now.astimezone(ZoneInfo(store.timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return CapacityDay(store.capacity_per_day, start.date(), start, start + timedelta(days=1))


def _check_stock(
    ctx: CreateContext,
    store_id: str,
    qty: dict[str, int],
    now: datetime,
    settings: PickupSettings,
) -> dict[str, int]:
    """ATP of every line from the rows read; refuse with every shortfall. Returns each SKU's
    headroom: how many more held units would still grant it (``hold_headroom``)."""
    available: dict[tuple[str, str], int] = {}
    headroom: dict[str, int] = {}
    for sku, wanted in qty.items():
        row = ctx.rows.get(sku)
        erp, row_as_of = (row.erp_available, row.as_of) if row else (0, None)
        checked = ctx.checks.get(sku)
        as_of = max((d for d in (row_as_of, checked) if d), default=None)
        if as_of is None or now - as_of > settings.max_staleness:
            raise ServiceUnavailable(
                f"the stock of {sku} at store {store_id} is too old to promise "
                f"(as of {as_of.isoformat() if as_of else 'never'}); try again shortly",
                sku=sku,
                store_id=store_id,
            )
        pending = pending_hold_qty(ctx.holds.get(sku, ()), as_of)
        buffers = ctx.buffers.resolve(store_id, sku)
        position = position_of(erp, pending, buffers)
        available[(store_id, sku)] = position.available if position.offered_for_pickup else 0
        room = hold_headroom(erp, pending, buffers, wanted)
        if room is not None:
            headroom[sku] = room
    ensure_available([StockRequest(store_id, sku, n) for sku, n in qty.items()], available)
    return headroom  # every SKU has one here: ensure_available refused those without


_HOURS: dict[str, tuple[str, OpeningHours]] = {}  # store -> (its JSON text, parsed): pure values


def _hours(store_id: str, text: str) -> OpeningHours:
    """``hours_from_json``, decoded and parsed again only when the store's JSON hours changed
    (the text compared: PostgreSQL writes a jsonb value's text the same way every time)."""
    hit = _HOURS.get(store_id)
    if hit is not None and hit[0] == text:
        return hit[1]
    hours = hours_from_json(orjson.loads(text))
    if len(_HOURS) > 10_000:
        _HOURS.clear()
    _HOURS[store_id] = (text, hours)
    return hours


async def _resolve(
    pool: asyncpg.Pool, lookups: list[ItemLookup], known: TtlCache | None
) -> list[ResolvedItem]:
    """Items of the lines; ``known`` remembers answers for a few seconds (mappings change
    rarely; the availability reader shares the same cache)."""
    cached = [known.get(x) for x in lookups] if known is not None else [None]
    if known is not None and all(c is not None for c in cached):
        return cached  # type: ignore[return-value]
    async with pool.acquire() as conn:
        items = await resolve_items(conn, lookups)
    if known is not None:
        for lookup, item in zip(lookups, items, strict=True):
            known.put(lookup, item)
    return items


async def create_pickup(
    pool: asyncpg.Pool,
    new: NewPickup,
    actor: Actor,
    idem: Idempotency | None,
    settings: PickupSettings,
    items_cache: TtlCache | None = None,
    mark_hot: Callable[[Iterable[str]], None] | None = None,
    observe: Callable[[str], None] | None = None,
    changed: Callable[[Iterable[str]], Awaitable[None]] | None = None,
) -> tuple[int, PickupView]:
    """(HTTP status, answer). 201 new; 200 an order already created for that PrestaShop id.

    Optimistic first: two round trips and no lock held between them (``_create_unlocked``).
    When the stock moved between its read and its write, it reads again, up to
    ``settings.optimistic_attempts`` times; then, and for replays and existing orders, the
    locked path answers (``_create_locked``), which cannot be overtaken. The pickup code's slow
    hash is made only for a write (``_Draft.code_hash``). ``mark_hot`` (the availability
    reader's batched hot-SKU list) hears the SKUs held, so that the hot sync pass keeps them
    fresh; a per-pickup upsert would lock one row per SKU across stores until commit.
    ``observe`` hears how each write went: ``created``, ``stock_moved``, ``locked``.
    ``changed`` hears the SKUs held once the creation has committed (the stock reader's
    ``changed_here``: its cache entries dropped, the other replicas told)."""
    note = observe or (lambda outcome: None)
    items = await _resolve(pool, [line.lookup for line in new.lines], items_cache)
    qty: dict[str, int] = defaultdict(int)
    for item, line in zip(items, new.lines, strict=True):
        qty[item.sku] += line.quantity
    code, salt = new_pickup_code(), new_code_salt()
    draft = _Draft(new, actor, idem, settings, items, dict(qty), code, salt, mark_hot)
    for _ in range(settings.optimistic_attempts):
        try:
            answer = await _create_unlocked(pool, draft)
        except StockMoved:
            note("stock_moved")
            continue  # the stock moved between our read and our write: read again
        except (KeyTaken, OrderExists):
            break  # a replay, or an order created meanwhile: the locked path answers
        note("created")
        await _committed(draft, changed)
        return answer
    note("locked")
    try:
        answer = await _create_locked(pool, draft)
    except OrderExists:
        # another request created this order between our read and our insert (its transaction
        # committed while ours waited): try again, and this time answer with that order (200)
        answer = await _create_locked(pool, draft)
    await _committed(draft, changed)
    return answer


async def _committed(
    draft: _Draft, changed: Callable[[Iterable[str]], Awaitable[None]] | None
) -> None:
    """Tell ``changed`` of the holds a committed creation took (none for a replay or an
    existing order). The pickup stands whatever happens here: a cache that cannot drop the
    SKUs now (Redis down) is logged, and its entries expire by their TTL."""
    if changed is None or not draft.written:
        return
    try:
        await changed(list(draft.qty))
    except Exception as exc:
        log.warning("pickup created, but its SKUs could not be dropped from the cache: %s", exc)


@dataclass
class _Draft:
    """One creation request, resolved, with its code: what every attempt at it shares."""

    new: NewPickup
    actor: Actor
    idem: Idempotency | None
    settings: PickupSettings
    items: list[ResolvedItem]
    qty: dict[str, int]
    code: str
    salt: bytes
    mark_hot: Callable[[Iterable[str]], None] | None
    key: IdempotencyClaim | None = None
    _code_hash: str | None = None
    written: bool = False  # the pickup was written (by the last attempt; committed if returned)

    def code_hash(self) -> str:
        """The code's stored hash, made once, by the first write (a refused request needs none).
        Keyed, it costs 7 us; PBKDF2 (no shared key) 0.33-0.61 ms, here, not in a thread:
        handing it to the default executor cost 0.12 ms more CPU (queue, wake-up, GIL hand-off)
        than it saved, on a server whose other core PostgreSQL uses."""
        if self._code_hash is None:
            self._code_hash = self.settings.code_hasher.hash(self.code, self.salt)
        return self._code_hash

    def __post_init__(self) -> None:
        if self.idem:
            digest = idempotency.request_hash(OPERATION, self.idem.body)
            self.key = IdempotencyClaim(self.idem.principal, self.idem.key, OPERATION, digest)

    def _context(self) -> str:
        assert self.idem is not None
        return context_of(self.idem.principal, self.idem.key)

    def replayed(self, body: Any) -> Any:
        return replayed_answer(body, self.settings.code_sealer, self._context())

    async def write(
        self, conn: asyncpg.Connection, store: StoreTerms, now: datetime, guard: Guard | None
    ) -> tuple[int, PickupView]:
        """Write the pickup for a store that accepted it at ``now``: (201, its answer)."""
        new = self.new
        hours = _hours(store.store_id, store.opening_hours)
        lines = tuple(
            LineRecord(n, i.sku, i.ean, x.quantity, x.unit_price, x.label)
            for n, (i, x) in enumerate(zip(self.items, new.lines, strict=True), start=1)
        )
        pickup_id = uuid.uuid4()
        deadline = pickup_deadline(now, store.hold_hours, hours, store.timezone)
        row = NewPickupRow(
            id=pickup_id,
            kind=new.kind,
            store_id=new.store_id,
            customer=new.customer,
            ps_order_id=new.ps_order_id,
            ps_order_reference=new.ps_order_reference,
            payment_status=new.payment_status,
            currency=new.currency,
            code_hash=self.code_hash(),
            code_salt=self.salt,
            created_at=now,
            deadline=deadline,
            ready_by=ready_by(now, self.settings.prep_minutes, hours, store.timezone),
            lines=lines,
            held=self.qty,
            actor=self.actor,
            outbox_payload=_created_payload(new, pickup_id, now, deadline, lines),
            key=self.key,
            capacity=_capacity_day(store, now),
        )
        if self.mark_hot is not None:
            self.mark_hot(self.qty)
        body = pickup_view(row.read_back())
        body["pickup_code"] = self.code  # shown once (and replayed, sealed, to the same key)
        if self.idem:
            sealed = stored_answer(body, self.settings.code_sealer, self._context())
            row = replace(row, answer=sealed)
        try:
            await repo.create(conn, row, guard)
            self.written = True
        except StoreFull:
            cap = store.capacity_per_day
            raise Conflict(
                f"store {store.store_id} takes no more pickups today (capacity {cap})",
                capacity=cap,
            ) from None
        return 201, body


async def _create_unlocked(pool: asyncpg.Pool, d: _Draft) -> tuple[int, PickupView]:
    """Read without locking, decide here, then write in one call that re-checks under the lock:
    two round trips, no lock held across them.

    Raise ``KeyTaken`` or ``OrderExists`` when the locked path must answer (a replay, an order
    already created), ``StockMoved`` when the stock moved meanwhile, and ``Conflict`` when the
    store's daily capacity is reached."""
    new = d.new
    async with pool.acquire() as conn:
        read = await repo.read_create(conn, new.store_id, list(d.qty), d.key, new.ps_order_id)
        now = utcnow()
        store = _check_store(read.context.store, new)
        headroom = _check_stock(read.context, new.store_id, d.qty, now, d.settings)
        return await d.write(conn, store, now, read.guard(headroom))


async def _create_locked(pool: asyncpg.Pool, d: _Draft) -> tuple[int, PickupView]:
    """Five round trips in one transaction that holds the stock rows' locks from its read to
    its commit: BEGIN, ``prepare_create`` (claim the key and lock; then, in a statement of its
    own, read), ``create`` (write everything and the idempotent answer), COMMIT."""
    new, idem = d.new, d.idem
    async with pool.acquire() as conn, conn.transaction():
        ctx = await repo.prepare_create(conn, new.store_id, list(d.qty), d.key, new.ps_order_id)
        if d.key and idem and not ctx.claimed:
            key = d.key
            replay = await idempotency.stored(
                conn, key.principal, key.key, OPERATION, key.request_hash
            )
            if replay:
                return replay.status, d.replayed(replay.body)
        if ctx.existing_order is not None:
            body = await read_view(conn, ctx.existing_order)
            if idem:
                await idempotency.finish(conn, idem.principal, idem.key, 200, body)
            return 200, body
        now = utcnow()
        store = _check_store(ctx.store, new)
        _check_stock(ctx, new.store_id, d.qty, now, d.settings)
        return await d.write(conn, store, now, None)


def _created_payload(
    new: NewPickup,
    pickup_id: uuid.UUID,
    now: datetime,
    deadline: datetime,
    lines: Iterable[LineRecord],
) -> dict[str, Any]:
    """The ``pickup.created`` outbox payload (``service/usecases/outbox/events.py``)."""
    return {
        "pickup_id": str(pickup_id),
        "kind": new.kind,
        "store_id": new.store_id,
        "customer": new.customer,
        "currency": new.currency,
        "created_at": now.isoformat(),
        "expires_at": deadline.isoformat(),
        "external_reference": new.ps_order_reference or "",
        "paid": new.payment_status == "paid",
        "lines": [
            {
                "sku": x.sku,
                "ean": x.ean,
                "quantity": x.quantity,
                "unit_price": None if x.unit_price is None else str(x.unit_price),
                "label": x.label,
            }
            for x in lines
        ],
    }


def parse_pickup_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"no pickup with id {text!r}") from None


def check_lines(new: NewPickup) -> None:
    if new.kind == "order" and any(line.unit_price is None for line in new.lines):
        raise InvalidInput(
            "an order needs a unit price on every line",
            [
                {"loc": ["lines", i, "unit_price"], "msg": "required for orders", "type": "missing"}
                for i, line in enumerate(new.lines)
                if line.unit_price is None
            ],
        )
