"""Redemption holds: hold points at checkout, then commit them with the order or release them.

Creating a hold is one transaction: claim the Idempotency-Key, lock the customer's
``loyalty_accounts`` row (so redemptions of one customer take turns, across replicas), read the
last stored ERP reading and the open holds, compute the card's unified balance with the domain,
insert the hold. The reading is refreshed (or confirmed fresh) before the transaction; holds are
refused (503) when the newest reading is older than ``max_staleness``.

Committing writes the ``loyalty.redeem`` outbox row in the same transaction; the relay posts it as
UpdatePoints (``service.usecases.loyalty.relay``). Releasing frees the points; the sweeper expires
holds past their TTL. Any other change of state is a 409.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from service.domain.errors import InsufficientPoints
from service.domain.loyalty import require_redeemable
from service.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from service.usecases import idempotency
from service.usecases.clock import utcnow
from service.usecases.idempotency import Idempotency
from service.usecases.loyalty.balances import LoyaltyReader
from service.usecases.loyalty.model import (
    CustomerRef,
    LoyaltySettings,
    card_balance,
    hold_view,
    whole,
)
from service.usecases.outbox.events import REDEEM
from stores import loyalty as repo
from stores import outbox as outbox_repo
from stores.loyalty import CardRow, HoldRow


@dataclass(frozen=True)
class NewHold:
    points: int
    reference: str = ""
    card_number: str | None = None
    store_id: str = ""
    created_by: str = ""


def parse_hold_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"no loyalty hold with id {text!r}") from None


async def _replayed(
    conn: asyncpg.Connection, idem: Idempotency | None, operation: str
) -> idempotency.Replay | None:
    if idem is None:
        return None
    return await idempotency.begin(conn, idem.principal, idem.key, operation, idem.body)


async def _finish(
    conn: asyncpg.Connection, idem: Idempotency | None, status: int, body: Any
) -> None:
    if idem is not None:
        await idempotency.finish(conn, idem.principal, idem.key, status, body)


def _card(cards: tuple[CardRow, ...], who: CustomerRef, wanted: str | None) -> CardRow:
    number = wanted or who.card_id
    if number:
        found = next((c for c in cards if c.card_id == number), None)
        if found is None:
            raise NotFound(f"customer {who.customer_id} has no loyalty card {number!r}")
        if not found.active:
            raise Conflict(f"loyalty card {number} is not active", card_number=number)
        return found
    active = [c for c in cards if c.active]
    if not active:
        raise Conflict(f"customer {who.customer_id} has no active loyalty card", available=0)
    if len(active) > 1:
        raise InvalidInput(
            f"customer {who.customer_id} has {len(active)} active cards: name one",
            [
                {
                    "loc": ["card_number"],
                    "msg": "required: one of " + ", ".join(c.card_id for c in active),
                    "type": "missing",
                }
            ],
        )
    return active[0]


async def create_hold(
    reader: LoyaltyReader, ref: str, new: NewHold, idem: Idempotency | None
) -> tuple[int, dict[str, Any]]:
    """(201, the hold) or the first answer to this Idempotency-Key."""
    settings = reader.settings
    who = await reader.resolve(ref)
    await reader.read(who.customer_id)  # the newest reading, stored in PostgreSQL
    async with reader.pool.acquire() as conn, conn.transaction():
        replay = await _replayed(conn, idem, "loyalty_hold")
        if replay:
            return replay.status, replay.body
        now = utcnow()
        await repo.lock_account(conn, who.customer_id)
        stored = await repo.snapshot(conn, who.customer_id)
        if stored is None or now - stored.as_of > settings.max_staleness:
            as_of = stored.as_of.isoformat() if stored else "never"
            raise ServiceUnavailable(
                f"the loyalty balance of {who.customer_id} is too old to redeem (as of {as_of});"
                " try again shortly",
                as_of=as_of,
            )
        card = _card(stored.cards, who, new.card_number)
        holds = await repo.open_holds(conn, who.customer_id, stored.as_of)
        balance = card_balance(card, holds, stored.as_of, now)
        try:
            require_redeemable(balance, new.points)
        except InsufficientPoints:
            raise Conflict(
                f"{new.points} points requested, {whole(balance.available)} available on card "
                f"{card.card_id}",
                available=whole(balance.available),
                requested=new.points,
                card_number=card.card_id,
            ) from None
        hold = await repo.insert_hold(
            conn,
            {
                "id": uuid.uuid4(),
                "customer_id": who.customer_id,
                "card_id": card.card_id,
                "program_id": card.program_id,
                "points": new.points,
                "reference": new.reference,
                "store_id": new.store_id or settings.web_store_id,
                "created_by": new.created_by,
                "created_at": now,
                "expires_at": now + settings.hold_ttl,
            },
        )
        body = hold_view(hold, settings)
        body["points_available"] = whole(balance.available) - new.points
        await _finish(conn, idem, 201, body)
        return 201, body


async def store_of(pool: asyncpg.Pool, hold_id: uuid.UUID) -> str:
    async with pool.acquire() as conn:
        hold = await repo.get_hold(conn, hold_id)
    if hold is None:
        raise NotFound(f"no loyalty hold {hold_id}")
    return hold.store_id


async def get_hold(pool: asyncpg.Pool, hold_id: uuid.UUID, settings: LoyaltySettings) -> Any:
    async with pool.acquire() as conn:
        hold = await repo.get_hold(conn, hold_id)
    if hold is None:
        raise NotFound(f"no loyalty hold {hold_id}")
    return hold_view(hold, settings)


def _refuse(hold: HoldRow, action: str, now: datetime) -> None:
    state = hold.state
    if state == "held" and hold.expires_at <= now:
        state = "expired"
    if state != "held":
        raise Conflict(
            f"cannot {action} a loyalty hold that is {state}", current_state=state, allowed=[]
        )


def redemption_payload(hold: HoldRow, reference: str, at: datetime) -> dict[str, Any]:
    """What the relay posts as UpdatePoints. The comment names the hold: the ERP's own record
    of the movement is how a person checks an ambiguous post."""
    comment = f"omnistock loyalty hold {hold.id}"
    if reference:
        comment += f" ({reference})"
    return {
        "hold_id": str(hold.id),
        "card_id": hold.card_id,
        "program_id": hold.program_id,
        "points": hold.points,
        "store_id": hold.store_id,
        "comment": comment,
        "at": at.isoformat(),
    }


async def change_hold(
    pool: asyncpg.Pool,
    hold_id: uuid.UUID,
    action: str,
    settings: LoyaltySettings,
    idem: Idempotency | None,
    reference: str = "",
) -> tuple[int, dict[str, Any]]:
    """``commit`` (outbox row in the same transaction) or ``release`` a held hold."""
    async with pool.acquire() as conn, conn.transaction():
        replay = await _replayed(conn, idem, f"loyalty_{action}")
        if replay:
            return replay.status, replay.body
        now = utcnow()
        hold = await repo.get_hold(conn, hold_id, for_update=True)
        if hold is None:
            raise NotFound(f"no loyalty hold {hold_id}")
        _refuse(hold, action, now)
        if action == "commit":
            hold = await repo.set_state(conn, hold_id, "committed", now)
            payload = redemption_payload(hold, reference or hold.reference, now)
            await outbox_repo.append(conn, "loyalty", str(hold_id), REDEEM, payload)
        else:
            hold = await repo.set_state(conn, hold_id, "released", now)
        body = hold_view(hold, settings)
        await _finish(conn, idem, 200, body)
        return 200, body


async def expire_due(pool: asyncpg.Pool, *, limit: int = 500) -> int:
    """The sweeper: held holds past their TTL become expired (their points free again). Safe in
    many workers at once (SKIP LOCKED)."""
    async with pool.acquire() as conn, conn.transaction():
        return len(await repo.expire_due(conn, utcnow(), limit))
