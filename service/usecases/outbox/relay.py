"""The outbox relay: posts pickup events to the ERP, in order per pickup, at least once; and
loyalty redemptions (aggregate ``loyalty``) at most once (``service.usecases.loyalty.relay``);
and, when configured, the notifications of pickup events (aggregates ``webhook`` and
``prestashop``, appended when a pickup row is done: ``service.usecases.outbox.notifications``).

Each row is handled in its own transaction on its own connection: claimed ``FOR UPDATE SKIP
LOCKED`` and kept locked during the ERP call, so a relay that crashes mid-post releases it and
the next run posts it again; the ERP reference (our pickup id) makes that re-post idempotent
(CBR00009, "already exists", is success). A few rows are handled at once.

Outcomes: success -> ``done`` (with the ERP's answer in ``result``); ERP unavailable, timeout,
unreadable reply, refused credentials -> retried later with exponential backoff and full jitter;
a business fault (bad data) -> ``dead`` at once with the ERP's message; ``max_attempts`` tries
-> ``dead`` with the last error. Dead rows (and the rows after them, same pickup) wait for a
replay.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

from service.erp.port import (
    DocumentKey,
    ErpAuthError,
    ErpBusinessError,
    ErpPort,
    ErpProtocolError,
    ErpUnavailable,
)
from service.observability import Metrics
from service.usecases.customers.links import resolve_customer
from service.usecases.loyalty.relay import post_redemption
from service.usecases.outbox import notifications, prestashop_stock
from service.usecases.outbox.events import (
    CANCELLING,
    CREATED,
    FOLLOW_UPS,
    BadEvent,
    document_key,
    key_json,
    payload_skus,
    pickup_document,
)
from service.usecases.outbox.notifications import (
    DeliveryFailed,
    DeliveryRejected,
    NotificationConfig,
)
from service.usecases.outbox.prestashop_stock import StockPushConfig
from stores import outbox as outbox_repo
from stores.notify import STOCK_CHANNEL, notify_changed
from stores.outbox import OutboxRow

log = logging.getLogger("omnistock.outbox")
T = TypeVar("T")
AGGREGATES = ("pickup", "loyalty", *notifications.AGGREGATES, prestashop_stock.AGGREGATE)
RETRYABLE = (ErpUnavailable, ErpProtocolError, ErpAuthError, TimeoutError)


class DocumentMissing(Exception):
    """A transition of a pickup whose document the ERP does not know (yet): retried."""


@dataclass(frozen=True)
class RelayDeps:
    pool: asyncpg.Pool
    erp: ErpPort
    metrics: Metrics
    web_store_id: str = "WEB"
    default_customer_id: str = ""  # when the customer is neither given, linked, found nor made
    create_customers: bool = True  # False: shoppers Cegid does not know stay without customer
    batch_size: int = 100  # most rows per run
    concurrency: int = 4  # rows (connections, ERP calls) at once
    max_attempts: int = 10
    backoff_base_s: float = 5.0
    backoff_max_s: float = 900.0
    post_timeout_s: float = 60.0  # longest ERP exchange for one row (the row stays locked)
    rng: random.Random = field(default_factory=random.Random)
    notifications: NotificationConfig | None = None  # None: no webhooks, no PrestaShop states
    stock_push: StockPushConfig | None = None  # None: no stock push to PrestaShop


def retry_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**attempt)];
    ``attempt`` counts the failures before this one."""
    return rng.uniform(0.0, min(max_s, base_s * 2 ** min(attempt, 60)))


# --------------------------------------------------------------------------- the run
async def relay_once(deps: RelayDeps) -> int:
    """Handle up to ``batch_size`` due rows, ``concurrency`` at a time, each at most once (a
    row that fails waits for its next attempt time, even a short one); return how many."""
    handled: list[int] = []
    claims = [0]
    failures: list[Exception] = []  # e.g. the database went away: the other lanes stop too

    async def lane() -> None:
        try:
            while not failures and claims[0] < deps.batch_size:
                claims[0] += 1
                if not await relay_one(deps, handled):
                    return
        except Exception as exc:
            failures.append(exc)

    # Lanes are not cancelled when one fails: a post in flight finishes and is settled.
    await asyncio.gather(*(lane() for _ in range(max(1, deps.concurrency))))
    if failures:
        raise failures[0]
    return len(handled)


async def relay_one(deps: RelayDeps, handled: list[int] | None = None) -> bool:
    """Claim the next due row (not in ``handled``), post it, settle it, commit, add its id to
    ``handled``; False when no row is due."""
    seen = handled if handled is not None else []
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await outbox_repo.claim_next(conn, AGGREGATES, seen)
        if row is None:
            return False
        seen.append(row.id)
        await _settle(deps, conn, row)
        return True


async def _settle(deps: RelayDeps, conn: asyncpg.Connection, row: OutboxRow) -> None:
    started = time.perf_counter()
    try:
        async with conn.transaction():  # a savepoint: the row's own writes, all or none
            result = await _handle(deps, conn, row)
            if row.aggregate == "pickup":  # done: its notifications, in the same transaction
                await notifications.enqueue_follow_ups(conn, deps.notifications, row)
    except (ErpBusinessError, BadEvent, DeliveryRejected) as exc:
        outcome = "dead"
        await _dead(conn, row, _message(exc))
    except (*RETRYABLE, DocumentMissing, DeliveryFailed) as exc:
        outcome = await _retry(deps, conn, row, _message(exc))
    except Exception as exc:  # a bug or a database error: keep the row, count the try
        log.exception("outbox row %s (%s) failed", row.id, row.kind)
        outcome = await _retry(deps, conn, row, f"internal error: {exc!r}")
    else:
        outcome = "already_existed" if result.get("already_existed") else "posted"
        await outbox_repo.mark_done(conn, row.id, result)
    kind = row.kind if row.aggregate in ("pickup", "loyalty") else f"{row.aggregate}:{row.kind}"
    deps.metrics.outbox_posts.labels(kind, outcome).inc()
    deps.metrics.outbox_post_latency.labels(kind).observe(time.perf_counter() - started)


def _message(exc: BaseException) -> str:
    if isinstance(exc, ErpBusinessError):
        return f"{exc.code}: {exc.message}" if exc.code else exc.message
    if isinstance(exc, BadEvent | DeliveryRejected | DeliveryFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _retry(deps: RelayDeps, conn: asyncpg.Connection, row: OutboxRow, error: str) -> str:
    if row.attempts + 1 >= deps.max_attempts:
        await _dead(conn, row, f"{error} (after {row.attempts + 1} attempts)")
        return "dead"
    delay = retry_delay(row.attempts, deps.backoff_base_s, deps.backoff_max_s, deps.rng)
    await outbox_repo.mark_retry(conn, row.id, error, delay)
    log.warning(
        "outbox row %s (%s) failed, retry in %.1fs: %s",
        row.id,
        row.kind,
        delay,
        error,
        extra={"outbox_id": row.id, "attempts": row.attempts + 1},
    )
    return "retry"


async def _dead(conn: asyncpg.Connection, row: OutboxRow, error: str) -> None:
    await outbox_repo.mark_dead(conn, row.id, error)
    log.error(
        "outbox row %s (%s %s) is dead: %s",
        row.id,
        row.kind,
        row.aggregate_id,
        error,
        extra={"outbox_id": row.id, "aggregate_id": row.aggregate_id},
    )


# --------------------------------------------------------------------------- posting
async def _erp(deps: RelayDeps, call: Awaitable[T]) -> T:
    async with asyncio.timeout(deps.post_timeout_s):
        return await call


async def _handle(deps: RelayDeps, conn: asyncpg.Connection, row: OutboxRow) -> dict[str, Any]:
    if row.aggregate in notifications.AGGREGATES:
        async with asyncio.timeout(deps.post_timeout_s):
            return await notifications.deliver(deps.notifications, row)
    if row.aggregate == prestashop_stock.AGGREGATE:
        async with asyncio.timeout(deps.post_timeout_s):
            return await prestashop_stock.deliver(deps.stock_push, deps.pool, deps.metrics, row)
    if row.aggregate == "loyalty":
        return await post_redemption(
            conn, deps.pool, deps.erp, row.kind, row.aggregate_id, row.payload, deps.post_timeout_s
        )
    try:
        pickup_id = uuid.UUID(row.aggregate_id)
    except ValueError:
        raise BadEvent(f"aggregate_id {row.aggregate_id!r} is not a pickup id") from None
    exists, stored = await outbox_repo.pickup_document(conn, pickup_id)
    if not exists:
        raise BadEvent(f"no pickup {pickup_id}")
    if row.kind == CREATED:
        return await _post_created(deps, conn, pickup_id, row.payload)
    if row.kind not in FOLLOW_UPS and row.kind not in CANCELLING:
        raise BadEvent(f"no handler for outbox kind {row.kind!r}")
    key = document_key(stored) if stored else await _look_up(deps, conn, pickup_id)
    status = FOLLOW_UPS.get(row.kind)
    if status is not None:
        await _erp(deps, deps.erp.set_follow_up_status(key, status))
        return {"key": key_json(key), "follow_up_status": status}
    await _erp(deps, deps.erp.cancel_document(key))
    return {"key": key_json(key), "cancelled": True}


async def _post_created(
    deps: RelayDeps, conn: asyncpg.Connection, pickup_id: uuid.UUID, payload: dict[str, Any]
) -> dict[str, Any]:
    customer = payload.get("customer")
    resolved = await resolve_customer(
        conn,
        deps.erp,
        customer if isinstance(customer, dict) else {},
        store_id=str(payload.get("store_id") or ""),
        create=deps.create_customers,
        default_customer_id=deps.default_customer_id,
        timeout_s=deps.post_timeout_s,
    )
    doc = pickup_document(payload, str(pickup_id), deps.web_store_id, resolved.customer_id)
    created = await _erp(deps, deps.erp.create_pickup_document(doc))
    await _acknowledge(conn, pickup_id, created.key, payload_skus(payload))
    return {
        "key": key_json(created.key),
        "already_existed": created.already_existed,
        "customer_id": resolved.customer_id,
        "customer_resolved_by": resolved.how,
    }


async def _look_up(deps: RelayDeps, conn: asyncpg.Connection, pickup_id: uuid.UUID) -> DocumentKey:
    """The key of a pickup whose 'created' row was settled without storing it (replayed or
    repaired by hand): ask the ERP, and record the acknowledgement we missed."""
    found = await _erp(deps, deps.erp.find_document(str(pickup_id)))
    if found is None:
        raise DocumentMissing(f"the ERP has no document for pickup {pickup_id}")
    await _acknowledge(conn, pickup_id, found.key, ())
    return found.key


async def _acknowledge(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, key: DocumentKey, skus: tuple[str, ...]
) -> None:
    held = await outbox_repo.acknowledge(conn, pickup_id, key_json(key))
    await notify_changed(conn, STOCK_CHANNEL, {*held, *skus})


# --------------------------------------------------------------------------- gauges
async def refresh_outbox_gauges(conn: asyncpg.Connection, metrics: Metrics) -> None:
    """Set the outbox gauges from PostgreSQL (the truth every replica shares)."""
    pending, oldest_s, dead = await outbox_repo.gauges(conn)
    metrics.outbox_depth.set(pending)
    metrics.outbox_oldest_age.set(oldest_s)
    metrics.outbox_dead.set(dead)
