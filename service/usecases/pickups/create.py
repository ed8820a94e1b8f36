"""E-reservations and click-and-collect orders: create with a stock hold, never oversell.

Creating a pickup commits everything or nothing in one transaction: the Idempotency-Key's
answer, the pickup, its lines, holds, history and the outbox row that posts it to the ERP, with
this store's stock rows of the SKUs locked in (store, sku) order. All lines or none: a refusal
lists every short line.

Two ways to get there, with the same rows written:
- optimistic (the default): read without a lock (one statement), decide ATP here, then write in
  one call, ``omnistock_create_pickup`` (sql/0010), which locks the rows and proves, in a
  snapshot taken after the lock, that the decision still holds: the rows unchanged and the holds
  added since within each SKU's headroom (``atp.hold_headroom``). Two round trips, and no lock
  held while this process works. When the stock moved, it reads again;
- locked: lock the rows first and read the holds after the lock, decide, write, commit (five
  round trips). Taken after ``optimistic_attempts`` moved reads, so that a hot SKU cannot
  starve a request; and for replays and orders already created.
At a store with a daily capacity, both paths count the creation on the store's row of the day
(sql/0013), after the stock rows' locks and locked until commit: the capacity holds exactly.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg

from service.domain.atp import (
    OpenHold,
    StockRequest,
    ensure_available,
    hold_headroom,
    pending_hold_qty,
)
from service.domain.atp import stock_position as position_of
from service.domain.hours import OpeningHours
from service.domain.pickup_codes import hash_pickup_code, new_code_salt, new_pickup_code
from service.domain.pickups import Actor, has_capacity, pickup_deadline, ready_by
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
from service.usecases.pickups.views import created_view, pickup_view
from service.usecases.ttl_cache import TtlCache
from stores import pickups as repo
from stores.availability_reads import buffer_tiers

Kind = Literal["reservation", "order"]
SERVICE_OF: dict[str, str] = {"reservation": "reservation", "order": "click_and_collect"}
OPERATION = "create_pickup"  # the Idempotency-Key operation


@dataclass(frozen=True)
class PickupSettings:
    max_staleness: timedelta = timedelta(minutes=10)  # older snapshots cannot back a hold
    prep_minutes: int = 60
    code_iterations: int = 1000  # PBKDF2 rounds of the stored pickup code hash
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


def _check_store(store: asyncpg.Record, new: NewPickup) -> asyncpg.Record:
    if store["store_id"] is None or not store["active"]:
        raise NotFound(f"no active store {new.store_id!r}", unknown_stores=[new.store_id])
    if SERVICE_OF[new.kind] not in store["services"]:
        raise Conflict(
            f"store {new.store_id} does not offer {SERVICE_OF[new.kind]}",
            store_id=new.store_id,
            services=list(store["services"]),
        )
    return store


def _capacity_day(store: asyncpg.Record, now: datetime) -> tuple[int, date, datetime, datetime]:
    """The store's daily capacity, and its local day of ``now`` with the day's bounds."""
    local = now.astimezone(ZoneInfo(store["timezone"]))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return store["pickup_capacity_per_day"], start.date(), start, start + timedelta(days=1)


def _full(store: asyncpg.Record) -> Conflict:
    cap = store["pickup_capacity_per_day"]
    return Conflict(
        f"store {store['store_id']} takes no more pickups today (capacity {cap})", capacity=cap
    )


async def _check_capacity(conn: asyncpg.Connection, store: asyncpg.Record, now: datetime) -> None:
    """Count this creation against the store's daily capacity, in the creating transaction: the
    store's count row for the day stays locked until it commits (or rolls back, taking the
    increment with it), so concurrent creations at one store, whatever their SKUs, paths and
    replicas, take turns and the capacity holds exactly (the optimistic path counts on the
    same row, in ``omnistock_create_pickup``)."""
    if store["pickup_capacity_per_day"] is None:
        return
    cap, day, start, end = _capacity_day(store, now)
    count = await repo.count_one_more(conn, store["store_id"], day, start, end)
    if not has_capacity(cap, count - 1):
        raise _full(store)


def _check_stock(
    ctx: repo.CreateContext,
    store_id: str,
    qty: dict[str, int],
    now: datetime,
    settings: PickupSettings,
) -> dict[str, int]:
    """ATP of every line from the rows read; refuse with every shortfall. Returns each SKU's
    headroom: how many more held units would still grant it (``hold_headroom``)."""
    tiers = buffer_tiers(ctx.buffer_rows)
    available: dict[tuple[str, str], int] = {}
    headroom: dict[str, int] = {}
    for sku, wanted in qty.items():
        erp, row_as_of = ctx.rows.get(sku, (0, None))
        checked = ctx.checks.get(sku)
        as_of = max((d for d in (row_as_of, checked) if d), default=None)
        if as_of is None or now - as_of > settings.max_staleness:
            raise ServiceUnavailable(
                f"the stock of {sku} at store {store_id} is too old to promise "
                f"(as of {as_of.isoformat() if as_of else 'never'}); try again shortly",
                sku=sku,
                store_id=store_id,
            )
        pending = pending_hold_qty([OpenHold(q, a) for q, a in ctx.holds.get(sku, ())], as_of)
        buffers = tiers.resolve(store_id, sku)
        position = position_of(erp, pending, buffers)
        available[(store_id, sku)] = position.available if position.offered_for_pickup else 0
        room = hold_headroom(erp, pending, buffers, wanted)
        if room is not None:
            headroom[sku] = room
    ensure_available([StockRequest(store_id, sku, n) for sku, n in qty.items()], available)
    return headroom  # every SKU has one here: ensure_available refused those without


_HOURS: dict[str, tuple[Any, OpeningHours]] = {}  # store -> (its JSON, parsed): pure values


def _hours(store_id: str, data: Any) -> OpeningHours:
    """``hours_from_json``, parsed again only when the store's JSON hours changed."""
    hit = _HOURS.get(store_id)
    if hit is not None and hit[0] == data:
        return hit[1]
    hours = hours_from_json(data)
    if len(_HOURS) > 10_000:
        _HOURS.clear()
    _HOURS[store_id] = (data, hours)
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
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, answer). 201 new; 200 an order already created for that PrestaShop id.

    Optimistic first: two round trips and no lock held between them (``_create_unlocked``).
    When the stock moved between its read and its write, it reads again, up to
    ``settings.optimistic_attempts`` times; then, and for replays and existing orders, the
    locked path answers (``_create_locked``), which cannot be overtaken. The pickup code's slow
    hash runs in a thread meanwhile (hashlib releases the GIL). ``mark_hot`` (the availability
    reader's batched hot-SKU list) hears the SKUs held, so that the hot sync pass keeps them
    fresh; a per-pickup upsert would lock one row per SKU across stores until commit.
    ``observe`` hears how each write went: ``created``, ``stock_moved``, ``locked``."""
    note = observe or (lambda outcome: None)
    items = await _resolve(pool, [line.lookup for line in new.lines], items_cache)
    qty: dict[str, int] = defaultdict(int)
    for item, line in zip(items, new.lines, strict=True):
        qty[item.sku] += line.quantity
    code, salt = new_pickup_code(), new_code_salt()
    code_hash = asyncio.get_running_loop().run_in_executor(
        None, partial(hash_pickup_code, code, salt, iterations=settings.code_iterations)
    )
    draft = _Draft(new, actor, idem, settings, items, dict(qty), code, salt, code_hash, mark_hot)
    for _ in range(settings.optimistic_attempts):
        try:
            answer = await _create_unlocked(pool, draft)
        except asyncpg.SerializationError:
            note("stock_moved")
            continue  # the stock moved between our read and our write: read again
        except asyncpg.UniqueViolationError as exc:
            if new.ps_order_id is None or exc.constraint_name != "pickups_ps_order_unique":
                raise
            break  # this order was created meanwhile: the locked path answers with it (200)
        if answer is None:
            break
        note("created")
        return answer
    note("locked")
    try:
        return await _create_locked(pool, draft)
    except asyncpg.UniqueViolationError as exc:
        if new.ps_order_id is None or exc.constraint_name != "pickups_ps_order_unique":
            raise
    # another request created this order between our read and our insert (its transaction
    # committed while ours waited): try again, and this time answer with that order (200)
    return await _create_locked(pool, draft)


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
    code_hash: asyncio.Future[str]
    mark_hot: Callable[[Iterable[str]], None] | None
    digest: bytes = b""

    def __post_init__(self) -> None:
        if self.idem:
            self.digest = idempotency.request_hash(OPERATION, self.idem.body)

    def stored(self, body: dict[str, Any]) -> dict[str, Any]:
        """The 201 answer as stored under the Idempotency-Key: its pickup code sealed."""
        assert self.idem is not None
        context = context_of(self.idem.principal, self.idem.key)
        return stored_answer(body, self.settings.code_sealer, context)

    def replayed(self, body: Any) -> Any:
        assert self.idem is not None
        context = context_of(self.idem.principal, self.idem.key)
        return replayed_answer(body, self.settings.code_sealer, context)

    async def pickup(
        self, store: asyncpg.Record, now: datetime
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        """(pickup row, line rows, 201 answer) for a store that accepted it at ``now``."""
        new = self.new
        hours = _hours(store["store_id"], store["opening_hours"])
        row = {
            "id": uuid.uuid4(),
            "kind": new.kind,
            "store_id": new.store_id,
            "customer": new.customer,
            "ps_order_id": new.ps_order_id,
            "ps_order_reference": new.ps_order_reference,
            "payment_status": new.payment_status,
            "currency": new.currency,
            "code_hash": await self.code_hash,
            "code_salt": self.salt,
            "created_at": now,
            "deadline": pickup_deadline(now, store["hold_hours"], hours, store["timezone"]),
            "ready_by": ready_by(now, self.settings.prep_minutes, hours, store["timezone"]),
        }
        lines = [
            {
                "sku": i.sku,
                "ean": i.ean,
                "quantity": x.quantity,
                "unit_price": x.unit_price,
                "label": x.label,
            }
            for i, x in zip(self.items, new.lines, strict=True)
        ]
        if self.mark_hot is not None:
            self.mark_hot(self.qty)
        body = created_view(row, lines, self.actor)
        body["pickup_code"] = self.code  # shown once (and replayed, sealed, to the same key)
        return row, lines, body


async def _create_unlocked(pool: asyncpg.Pool, d: _Draft) -> tuple[int, dict[str, Any]] | None:
    """Read without locking, decide here, then write in one call that re-checks under the lock
    (``repo.create_guarded``, sql/0010): two round trips, no lock held across them.

    None when the locked path must answer: the Idempotency-Key or the PrestaShop order is
    already known. Raise ``asyncpg.SerializationError`` when the stock moved meanwhile, and
    ``Conflict`` when the store's daily capacity is reached."""
    new, idem = d.new, d.idem
    async with pool.acquire() as conn:
        read = await repo.read_create(
            conn,
            new.store_id,
            list(d.qty),
            (idem.principal, idem.key) if idem else None,
            new.ps_order_id,
        )
        ctx = read.context
        if read.key_taken or ctx.existing_order is not None:
            return None
        now = utcnow()
        store = _check_store(ctx.store, new)
        capped = store["pickup_capacity_per_day"] is not None
        headroom = _check_stock(ctx, new.store_id, d.qty, now, d.settings)
        row, lines, body = await d.pickup(store, now)
        try:
            created = await repo.create_guarded(
                conn,
                read,
                row,
                lines,
                d.qty,
                headroom,
                (d.actor.kind.value, d.actor.id, d.actor.name),
                _created_payload(row, lines),
                (idem.principal, idem.key, OPERATION, d.digest, d.stored(body)) if idem else None,
                _capacity_day(store, now) if capped else None,
            )
        except asyncpg.PostgresError as exc:
            if exc.sqlstate == repo.CAPACITY_SQLSTATE:
                raise _full(store) from None
            raise
    return (201, body) if created else None


async def _create_locked(pool: asyncpg.Pool, d: _Draft) -> tuple[int, dict[str, Any]]:
    """Five round trips in one transaction that holds the stock rows' locks from its read to
    its commit: BEGIN, ``prepare_create`` (claim the key and lock; then read the open holds),
    ``create_all`` (write everything and the idempotent answer), COMMIT."""
    new, idem = d.new, d.idem
    claim = (idem.principal, idem.key, OPERATION, d.digest) if idem else None
    async with pool.acquire() as conn, conn.transaction():
        ctx = await repo.prepare_create(conn, new.store_id, list(d.qty), claim, new.ps_order_id)
        if idem and not ctx.claimed:
            replay = await idempotency.stored(conn, idem.principal, idem.key, OPERATION, d.digest)
            if replay:
                return replay.status, d.replayed(replay.body)
        if ctx.existing_order is not None:
            body = await pickup_view(conn, ctx.existing_order)
            if idem:
                await idempotency.finish(conn, idem.principal, idem.key, 200, body)
            return 200, body
        now = utcnow()
        store = _check_store(ctx.store, new)
        await _check_capacity(conn, store, now)
        _check_stock(ctx, new.store_id, d.qty, now, d.settings)
        row, lines, body = await d.pickup(store, now)
        await repo.create_all(
            conn,
            row,
            lines,
            d.qty,
            (d.actor.kind.value, d.actor.id, d.actor.name),
            _created_payload(row, lines),
            (idem.principal, idem.key, d.stored(body)) if idem else None,
        )
        return 201, body


def _created_payload(row: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "pickup_id": str(row["id"]),
        "kind": row["kind"],
        "store_id": row["store_id"],
        "customer": row["customer"],
        "currency": row["currency"],
        "created_at": row["created_at"].isoformat(),
        "expires_at": row["deadline"].isoformat(),
        "external_reference": row["ps_order_reference"] or "",
        "paid": row["payment_status"] == "paid",
        "lines": [
            {**x, "unit_price": None if x["unit_price"] is None else str(x["unit_price"])}
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
