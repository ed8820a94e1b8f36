"""Repository of loyalty: accounts (the per-customer lock row), the last ERP reading of each
customer's cards, and redemption holds.

Explicit connection, never commits: the use case owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

_ENSURE_ACCOUNT = """
INSERT INTO loyalty_accounts (customer_id, email) VALUES ($1, nullif($2, ''))
ON CONFLICT (customer_id) DO UPDATE SET email = coalesce(EXCLUDED.email, loyalty_accounts.email)
"""
_ACCOUNT_EXISTS = "SELECT 1 FROM loyalty_accounts WHERE customer_id = $1"
_LOCK_ACCOUNT = "SELECT 1 FROM loyalty_accounts WHERE customer_id = $1 FOR UPDATE"
_BY_EMAIL = """
SELECT customer_id FROM loyalty_accounts WHERE lower(email) = lower($1) ORDER BY customer_id
"""
_CARD_OWNER = "SELECT customer_id FROM loyalty_cards WHERE card_id = $1"
# A reading replaces the stored one only when it is newer (readers may finish out of order).
_SAVE_SNAPSHOT = """
INSERT INTO loyalty_snapshots (customer_id, as_of) VALUES ($1, $2)
ON CONFLICT (customer_id) DO UPDATE SET as_of = EXCLUDED.as_of
WHERE loyalty_snapshots.as_of < EXCLUDED.as_of
RETURNING 1
"""
_DROP_CARDS = "DELETE FROM loyalty_cards WHERE customer_id = $1 AND card_id <> ALL($2::text[])"
_SAVE_CARDS = """
INSERT INTO loyalty_cards (card_id, customer_id, program_id, program_label, active, points,
                           expires_on, store_id, as_of)
SELECT c, $1, p, l, a, pts, e, s, $9
FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[], $6::numeric[], $7::date[],
            $8::text[]) AS x(c, p, l, a, pts, e, s)
ON CONFLICT (card_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
    program_id = EXCLUDED.program_id, program_label = EXCLUDED.program_label,
    active = EXCLUDED.active, points = EXCLUDED.points, expires_on = EXCLUDED.expires_on,
    store_id = EXCLUDED.store_id, as_of = EXCLUDED.as_of
"""
_SNAPSHOT = "SELECT as_of FROM loyalty_snapshots WHERE customer_id = $1"
_CARDS = "SELECT * FROM loyalty_cards WHERE customer_id = $1 ORDER BY card_id"

_HOLD_COLUMNS = """id, customer_id, card_id, program_id, points, state, reference, store_id,
    created_by, created_at, expires_at, committed_at, closed_at, post_started_at, erp_acked_at"""
_INSERT_HOLD = f"""
INSERT INTO loyalty_holds (id, customer_id, card_id, program_id, points, reference, store_id,
                           created_by, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING {_HOLD_COLUMNS}
"""
_HOLD = f"SELECT {_HOLD_COLUMNS} FROM loyalty_holds WHERE id = $1"
_HOLD_FOR_UPDATE = f"{_HOLD} FOR UPDATE"
# Holds that may still count against a reading: held, or committed (the caller applies the
# "acknowledged before the reading" rule). Acknowledged holds older than the reading are left out.
_OPEN_HOLDS = f"""
SELECT {_HOLD_COLUMNS} FROM loyalty_holds
WHERE customer_id = $1 AND state IN ('held', 'committed')
  AND (erp_acked_at IS NULL OR $2::timestamptz IS NULL OR erp_acked_at >= $2)
ORDER BY created_at, id
"""
_SET_STATE = f"""
UPDATE loyalty_holds SET state = $2,
    committed_at = CASE WHEN $2 = 'committed' THEN $3 ELSE committed_at END,
    closed_at = CASE WHEN $2 IN ('released', 'expired') THEN $3 ELSE closed_at END
WHERE id = $1
RETURNING {_HOLD_COLUMNS}
"""
_EXPIRE_DUE = """
UPDATE loyalty_holds SET state = 'expired', closed_at = $1
WHERE id IN (SELECT id FROM loyalty_holds WHERE state = 'held' AND expires_at <= $1
             ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING id
"""
# The relay's marks: the post started (committed before UpdatePoints is sent), undone when the
# ERP surely did not apply it, and the acknowledgement.
_START_POST = """
UPDATE loyalty_holds SET post_started_at = clock_timestamp()
WHERE id = $1 AND state = 'committed' AND post_started_at IS NULL AND erp_acked_at IS NULL
RETURNING 1
"""
_CLEAR_POST = """
UPDATE loyalty_holds SET post_started_at = NULL WHERE id = $1 AND erp_acked_at IS NULL
"""
_ACK_POST = """
UPDATE loyalty_holds SET erp_acked_at = coalesce(erp_acked_at, clock_timestamp())
WHERE id = $1 AND state = 'committed'
RETURNING erp_acked_at
"""


@dataclass(frozen=True, slots=True)
class CardRow:
    card_id: str
    program_id: str
    program_label: str
    active: bool
    points: Decimal
    expires_on: date | None = None
    store_id: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    as_of: datetime
    cards: tuple[CardRow, ...]


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: uuid.UUID
    customer_id: str
    card_id: str
    program_id: str
    points: int
    state: str
    reference: str
    store_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    committed_at: datetime | None
    closed_at: datetime | None
    post_started_at: datetime | None
    erp_acked_at: datetime | None


def _hold(r: asyncpg.Record) -> HoldRow:
    return HoldRow(**dict(r))


# --------------------------------------------------------------------------- accounts
async def ensure_account(conn: asyncpg.Connection, customer_id: str, email: str = "") -> None:
    await conn.execute(_ENSURE_ACCOUNT, customer_id, email)


async def account_exists(conn: asyncpg.Connection, customer_id: str) -> bool:
    return await conn.fetchval(_ACCOUNT_EXISTS, customer_id) is not None


async def lock_account(conn: asyncpg.Connection, customer_id: str) -> bool:
    """Lock the customer's row until the transaction ends; False when there is none."""
    return await conn.fetchval(_LOCK_ACCOUNT, customer_id) is not None


async def customers_by_email(conn: asyncpg.Connection, email: str) -> list[str]:
    return [r["customer_id"] for r in await conn.fetch(_BY_EMAIL, email)]


async def card_owner(conn: asyncpg.Connection, card_id: str) -> str | None:
    owner: str | None = await conn.fetchval(_CARD_OWNER, card_id)
    return owner


# --------------------------------------------------------------------------- readings
async def save_snapshot(
    conn: asyncpg.Connection, customer_id: str, as_of: datetime, cards: Sequence[CardRow]
) -> bool:
    """Store a reading unless a newer one is stored (False then). Run it in a transaction."""
    if await conn.fetchval(_SAVE_SNAPSHOT, customer_id, as_of) is None:
        return False
    await conn.execute(_DROP_CARDS, customer_id, [c.card_id for c in cards])
    if cards:
        columns: list[list[Any]] = [
            [c.card_id for c in cards],
            [c.program_id for c in cards],
            [c.program_label for c in cards],
            [c.active for c in cards],
            [c.points for c in cards],
            [c.expires_on for c in cards],
            [c.store_id for c in cards],
        ]
        await conn.execute(_SAVE_CARDS, customer_id, *columns, as_of)
    return True


async def snapshot(conn: asyncpg.Connection, customer_id: str) -> Snapshot | None:
    as_of = await conn.fetchval(_SNAPSHOT, customer_id)
    if as_of is None:
        return None
    cards = tuple(
        CardRow(
            card_id=r["card_id"],
            program_id=r["program_id"],
            program_label=r["program_label"],
            active=r["active"],
            points=r["points"],
            expires_on=r["expires_on"],
            store_id=r["store_id"],
        )
        for r in await conn.fetch(_CARDS, customer_id)
    )
    return Snapshot(as_of, cards)


# --------------------------------------------------------------------------- holds
async def insert_hold(conn: asyncpg.Connection, hold: dict[str, Any]) -> HoldRow:
    row = await conn.fetchrow(
        _INSERT_HOLD,
        hold["id"],
        hold["customer_id"],
        hold["card_id"],
        hold["program_id"],
        hold["points"],
        hold["reference"],
        hold["store_id"],
        hold["created_by"],
        hold["created_at"],
        hold["expires_at"],
    )
    assert row is not None
    return _hold(row)


async def get_hold(
    conn: asyncpg.Connection, hold_id: uuid.UUID, *, for_update: bool = False
) -> HoldRow | None:
    row = await conn.fetchrow(_HOLD_FOR_UPDATE if for_update else _HOLD, hold_id)
    return _hold(row) if row is not None else None


async def open_holds(
    conn: asyncpg.Connection, customer_id: str, reading_as_of: datetime | None
) -> list[HoldRow]:
    """Held and committed holds, but not those acknowledged before the reading."""
    return [_hold(r) for r in await conn.fetch(_OPEN_HOLDS, customer_id, reading_as_of)]


async def set_state(
    conn: asyncpg.Connection, hold_id: uuid.UUID, state: str, at: datetime
) -> HoldRow:
    row = await conn.fetchrow(_SET_STATE, hold_id, state, at)
    assert row is not None
    return _hold(row)


async def expire_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    """Held holds past ``expires_at`` -> expired (others' locked rows skipped); their ids."""
    return [r["id"] for r in await conn.fetch(_EXPIRE_DUE, now, limit)]


async def start_post(conn: asyncpg.Connection, hold_id: uuid.UUID) -> bool:
    """Stamp that UpdatePoints is about to be sent; False if a post already started (or the
    hold is acknowledged, or not committed)."""
    return await conn.fetchval(_START_POST, hold_id) is not None


async def clear_post(conn: asyncpg.Connection, hold_id: uuid.UUID) -> None:
    await conn.execute(_CLEAR_POST, hold_id)


async def acknowledge(conn: asyncpg.Connection, hold_id: uuid.UUID) -> datetime | None:
    acked: datetime | None = await conn.fetchval(_ACK_POST, hold_id)
    return acked
