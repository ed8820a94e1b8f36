"""Loyalty values and answers (no I/O): what points are worth (settings), a resolved customer, an
ERP reading, and the balance and hold views built with the domain's unified balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from service.domain.loyalty import LoyaltyBalance, PointsMovement, PointsProgram, points_value
from service.domain.loyalty import unified_balance as unify
from service.domain.money import Money
from stores.loyalty import CardRow, HoldRow

Source = Literal["erp", "cache", "fallback"]
ResolvedBy = Literal["customer_id", "email", "card"]
ZERO = Decimal(0)


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class LoyaltySettings:
    programs: dict[str, PointsProgram] = field(default_factory=dict)  # "*": every other program
    ttl_s: float = 10.0  # a reading this young is served without asking the ERP
    deadline_s: float = 2.0  # longest a read waits for the ERP
    stale_after: timedelta = timedelta(minutes=5)  # older readings are flagged stale
    max_staleness: timedelta = timedelta(minutes=10)  # holds refused on older readings
    hold_ttl: timedelta = timedelta(minutes=30)
    web_store_id: str = "WEB"

    def program(self, program_id: str) -> PointsProgram | None:
        return self.programs.get(program_id) or self.programs.get("*")


# --------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class CustomerRef:
    customer_id: str
    resolved_by: ResolvedBy
    card_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    customer_id: str
    as_of: datetime
    cards: tuple[CardRow, ...]
    source: Source


def whole(points: Decimal) -> int:
    """Points as shown and redeemed: whole points, rounded down."""
    return int(points.to_integral_value(rounding=ROUND_DOWN))


def counts_now(hold: HoldRow, now: datetime) -> bool:
    """A committed hold counts (until acknowledged and read back); a held one until it expires."""
    return hold.state == "committed" or (hold.state == "held" and hold.expires_at > now)


def card_balance(
    card: CardRow, holds: list[HoldRow], as_of: datetime, now: datetime
) -> LoyaltyBalance:
    movements = [
        PointsMovement(Decimal(h.points), h.erp_acked_at)
        for h in holds
        if h.card_id == card.card_id and counts_now(h, now)
    ]
    return unify(card.points if card.active else ZERO, movements, as_of=as_of)


def money(value: Money | None) -> dict[str, str] | None:
    return None if value is None else {"amount": str(value.amount), "currency": value.currency}


def hold_view(hold: HoldRow, settings: LoyaltySettings) -> dict[str, Any]:
    program = settings.program(hold.program_id)
    return {
        "id": str(hold.id),
        "customer_id": hold.customer_id,
        "card_number": hold.card_id,
        "program_id": hold.program_id,
        "points": hold.points,
        "value": money(points_value(program, hold.points)) if program else None,
        "state": hold.state,
        "reference": hold.reference,
        "store_id": hold.store_id,
        "created_at": hold.created_at,
        "expires_at": hold.expires_at,
        "committed_at": hold.committed_at,
        "closed_at": hold.closed_at,
        "erp_posted": hold.erp_acked_at is not None,
        "erp_acked_at": hold.erp_acked_at,
    }


def balance_view(
    who: CustomerRef,
    reading: Reading,
    holds: list[HoldRow],
    settings: LoyaltySettings,
    now: datetime,
) -> dict[str, Any]:
    cards: list[dict[str, Any]] = []
    programs: dict[str, list[Any]] = {}
    for card in reading.cards:
        b = card_balance(card, holds, reading.as_of, now)
        cards.append(
            {
                "number": card.card_id,
                "program_id": card.program_id,
                "program_label": card.program_label,
                "active": card.active,
                "expires_on": card.expires_on,
                "erp_points": whole(card.points),
                "held_points": whole(b.held),
                "points_available": whole(b.available),
            }
        )
        total = programs.setdefault(card.program_id, [card.program_label, 0])
        total[1] += whole(b.available)
    program_views = []
    for program_id, (label, available) in programs.items():
        rate = settings.program(program_id)
        program_views.append(
            {
                "program_id": program_id,
                "label": label,
                "points_available": available,
                "value": money(points_value(rate, available)) if rate else None,
                "rate": None
                if rate is None
                else {"points": rate.points_per_step, **(money(rate.step_value) or {})},
            }
        )
    counted = [h for h in holds if counts_now(h, now)]
    return {
        "customer_id": who.customer_id,
        "resolved_by": who.resolved_by,
        "cards": cards,
        "erp_points": sum(c["erp_points"] for c in cards if c["active"]),
        "held_points": sum(c["held_points"] for c in cards),
        "pending_accruals": 0,
        "points_available": sum(c["points_available"] for c in cards),
        "programs": program_views,
        "holds": [hold_view(h, settings) for h in counted],
        "as_of": reading.as_of,
        "stale": reading.source == "fallback" or now - reading.as_of > settings.stale_after,
        "source": reading.source,
    }
