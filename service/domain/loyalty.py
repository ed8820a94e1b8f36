"""Loyalty points arithmetic: the unified balance and what points are worth.

Unified balance = ERP points - open redemption holds (+ pending accruals where the program says
so). Holds and accruals are point movements omnistock has posted (or will post) to the ERP; like
stock holds, each one stops counting once the ERP acknowledged it AND a points reading taken after
that acknowledgement is in hand (``service.domain.atp.hold_counts``). The amount offered to the
shopper is never negative; ``overdrawn_by`` says how far below zero it would be.

Value: a program says ``points_per_step`` points are worth ``step_value`` (100 points = 5.00
EUR). ``points_value`` rounds DOWN to the cent (ROUND_DOWN), so points are never worth more than
the program promises; ``max_redeemable_points`` is the largest whole number of points whose value
does not exceed the amount to pay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from service.domain.atp import hold_counts
from service.domain.errors import InsufficientPoints
from service.domain.money import Money, to_cents

ZERO = Decimal(0)


def _points(name: str, value: Decimal | int, *, signed: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a number of points, got {value!r}")
    points = Decimal(value)
    if not points.is_finite() or (points < 0 and not signed):
        raise ValueError(f"{name} must be a finite number of points >= 0, got {value!r}")
    return points


@dataclass(frozen=True, slots=True)
class PointsProgram:
    program_id: str
    points_per_step: int
    step_value: Money

    def __post_init__(self) -> None:
        if isinstance(self.points_per_step, bool) or self.points_per_step < 1:
            raise ValueError(f"points_per_step must be >= 1, got {self.points_per_step!r}")
        if self.step_value.amount <= 0:
            raise ValueError(f"step_value must be positive, got {self.step_value}")


@dataclass(frozen=True, slots=True)
class PointsMovement:
    """A redemption hold or a pending accrual, and when the ERP acknowledged it (if yet)."""

    points: Decimal
    erp_acked_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _points("points", self.points))


@dataclass(frozen=True, slots=True)
class LoyaltyBalance:
    erp_points: Decimal
    held: Decimal
    pending_accruals: Decimal
    available: Decimal
    overdrawn_by: Decimal
    as_of: datetime | None


def unified_balance(
    erp_points: Decimal | int,
    holds: Iterable[PointsMovement],
    *,
    as_of: datetime | None,
    accruals: Iterable[PointsMovement] = (),
    count_pending_accruals: bool = False,
) -> LoyaltyBalance:
    """The points a customer can spend now; ``as_of`` is when the ERP points were read."""
    erp = _points("erp_points", erp_points, signed=True)
    held = sum((h.points for h in holds if hold_counts(h.erp_acked_at, as_of)), ZERO)
    pending = ZERO
    if count_pending_accruals:
        pending = sum((a.points for a in accruals if hold_counts(a.erp_acked_at, as_of)), ZERO)
    raw = erp - held + pending
    return LoyaltyBalance(
        erp_points=erp,
        held=held,
        pending_accruals=pending,
        available=max(ZERO, raw),
        overdrawn_by=max(ZERO, -raw),
        as_of=as_of,
    )


def can_redeem(balance: LoyaltyBalance, points: Decimal | int) -> bool:
    """Whether ``points`` (> 0) can be taken from ``balance`` now."""
    wanted = _points("points", points)
    return ZERO < wanted <= balance.available


def require_redeemable(balance: LoyaltyBalance, points: Decimal | int) -> None:
    """Raise ``InsufficientPoints`` unless ``can_redeem``; zero points is a ``ValueError``."""
    if _points("points", points) == 0:
        raise ValueError("a redemption needs at least one point")
    if not can_redeem(balance, points):
        raise InsufficientPoints(balance.available, Decimal(points))


def points_value(program: PointsProgram, points: Decimal | int) -> Money:
    """What ``points`` are worth, rounded down to the cent."""
    worth = _points("points", points) * program.step_value.amount / program.points_per_step
    return Money(to_cents(worth, ROUND_DOWN), program.step_value.currency)


def max_redeemable_points(
    program: PointsProgram, balance: LoyaltyBalance, amount_due: Money
) -> Decimal:
    """Most whole points the customer can spend on ``amount_due`` without exceeding it."""
    if amount_due.currency != program.step_value.currency:
        raise ValueError(f"program pays in {program.step_value.currency}, not {amount_due}")
    if amount_due.amount <= 0:
        return ZERO
    covering = amount_due.amount * program.points_per_step / program.step_value.amount
    whole = min(covering, balance.available).to_integral_value(rounding=ROUND_DOWN)
    return max(ZERO, whole)
