"""Posting a committed redemption hold to the ERP (UpdatePoints), at most once.

UpdatePoints is not idempotent in Cegid, and the port has no way to ask which movements a card
received. So before sending, the relay stamps ``post_started_at`` on the hold and commits that on
its own connection; then:

- the ERP answers: the hold is acknowledged in the relay's transaction (row ``done``);
- the ERP surely did not apply it (a business fault, HTTP 503 or connection refused, an open
  circuit, refused credentials): the stamp is cleared; the row is retried, or dead for a fault;
- anything else (timeout, dropped connection, unreadable reply, a crash of this process before
  its transaction committed): the post MAY have been applied. The stamp stays, and every later
  attempt (retry, replay) finds it and sends nothing: the row is dead, with a message saying how
  to check the card in Cegid (the comment names the hold) and settle it with
  ``POST /v1/admin/loyalty/holds/{id}/resolve``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from service.erp.port import ErpAuthError, ErpBusinessError, ErpNotSent, ErpPort
from service.errors import Conflict, NotFound
from service.usecases.outbox.events import REDEEM, BadEvent, redemption
from stores import loyalty as repo
from stores import outbox as outbox_repo

NOT_APPLIED = (ErpBusinessError, ErpNotSent, ErpAuthError)
MARK_TIMEOUT_S = 10.0  # waiting for a connection to stamp the hold; then retried later


class AmbiguousPost(BadEvent):
    """UpdatePoints may have been applied: a person decides (never sent again automatically)."""


def _hold_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadEvent(f"aggregate_id {text!r} is not a loyalty hold id") from None


def _ambiguous(hold_id: uuid.UUID, card_id: str, why: str) -> AmbiguousPost:
    return AmbiguousPost(
        f"UpdatePoints of hold {hold_id} may have been applied ({why}); not sent again. Look for "
        f"the comment 'omnistock loyalty hold {hold_id}' on card {card_id} in Cegid, then "
        f"POST /v1/admin/loyalty/holds/{hold_id}/resolve with posted true or false"
    )


async def post_redemption(
    conn: asyncpg.Connection,
    pool: asyncpg.Pool,
    erp: ErpPort,
    kind: str,
    aggregate_id: str,
    payload: dict[str, Any],
    timeout_s: float,
) -> dict[str, Any]:
    """Handle one ``loyalty`` outbox row (claimed on ``conn``); the row's result."""
    if kind != REDEEM:
        raise BadEvent(f"no handler for outbox kind {kind!r}")
    hold_id = _hold_id(aggregate_id)
    r = redemption(payload)
    hold = await repo.get_hold(conn, hold_id)
    if hold is None:
        raise BadEvent(f"no loyalty hold {hold_id}")
    if hold.erp_acked_at is not None:
        return {"card_id": r.card_id, "points": str(-r.points), "already_posted": True}
    async with pool.acquire(timeout=MARK_TIMEOUT_S) as mark:
        started = await repo.start_post(mark, hold_id)
    if not started:
        if hold.state != "committed":
            raise BadEvent(f"loyalty hold {hold_id} is {hold.state}, not committed")
        raise _ambiguous(hold_id, r.card_id, "an earlier attempt started and never finished")
    try:
        async with asyncio.timeout(timeout_s):
            await erp.update_points(
                r.card_id, r.program_id, -r.points, store_id=r.store_id, comment=r.comment,
                when=r.at,
            )  # fmt: skip
    except NOT_APPLIED:
        async with pool.acquire(timeout=MARK_TIMEOUT_S) as mark:
            await repo.clear_post(mark, hold_id)
        raise
    except Exception as exc:
        raise _ambiguous(hold_id, r.card_id, f"{type(exc).__name__}: {exc}") from exc
    acked = await repo.acknowledge(conn, hold_id)
    return {"card_id": r.card_id, "points": str(-r.points), "acked_at": acked}


async def resolve(pool: asyncpg.Pool, hold_id: uuid.UUID, posted: bool) -> repo.HoldRow:
    """A person checked Cegid for a post the relay could not confirm. ``posted``: the hold is
    acknowledged and its outbox row done; otherwise the stamp is cleared and the dead row
    replayed (sent again by the next relay run)."""
    async with pool.acquire() as conn, conn.transaction():
        try:
            rows = await outbox_repo.lock_aggregate(conn, "loyalty", str(hold_id))
        except asyncpg.LockNotAvailableError:
            raise Conflict(f"loyalty hold {hold_id} is being posted right now") from None
        hold = await repo.get_hold(conn, hold_id, for_update=True)
        if hold is None:
            raise NotFound(f"no loyalty hold {hold_id}")
        if hold.post_started_at is None or hold.erp_acked_at is not None:
            raise Conflict(
                f"loyalty hold {hold_id} has no unconfirmed post to resolve",
                current_state=hold.state,
                erp_posted=hold.erp_acked_at is not None,
            )
        open_rows = [r.id for r in rows if r.status != "done"]
        if posted:
            await repo.acknowledge(conn, hold_id)
            for row_id in open_rows:
                await outbox_repo.mark_done(conn, row_id, {"resolved": "posted, checked by hand"})
        else:
            await repo.clear_post(conn, hold_id)
            await outbox_repo.replay(conn, open_rows)
        found = await repo.get_hold(conn, hold_id)
        assert found is not None
        return found
