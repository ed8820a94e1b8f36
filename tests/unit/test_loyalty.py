from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from service.domain.errors import InsufficientPoints
from service.domain.loyalty import (
    PointsMovement,
    PointsProgram,
    can_redeem,
    max_redeemable_points,
    points_value,
    require_redeemable,
    unified_balance,
)
from service.domain.money import Money

D = Decimal
AS_OF = datetime(2025, 3, 1, 12, tzinfo=UTC)
PROGRAM = PointsProgram("FIDELITE", 100, Money(D("5.00")))  # 100 points = 5.00 EUR


def test_balance_subtracts_holds_the_erp_has_not_booked() -> None:
    holds = [
        PointsMovement(D(100)),  # not posted yet
        PointsMovement(D(50), AS_OF - timedelta(minutes=1)),  # booked before this reading
        PointsMovement(D(30), AS_OF + timedelta(minutes=1)),  # booked after it
    ]
    balance = unified_balance(D(1000), holds, as_of=AS_OF)
    assert balance.held == D(130)
    assert balance.available == D(870)
    assert balance.overdrawn_by == 0
    assert balance.as_of == AS_OF


def test_pending_accruals_count_only_when_configured() -> None:
    accruals = [PointsMovement(D(40)), PointsMovement(D(10), AS_OF - timedelta(hours=1))]
    without = unified_balance(D(100), [], as_of=AS_OF, accruals=accruals)
    assert without.available == D(100) and without.pending_accruals == 0
    with_accruals = unified_balance(
        D(100), [], as_of=AS_OF, accruals=accruals, count_pending_accruals=True
    )
    assert with_accruals.pending_accruals == D(40)
    assert with_accruals.available == D(140)


def test_offered_balance_is_never_negative() -> None:
    balance = unified_balance(D(20), [PointsMovement(D(50))], as_of=AS_OF)
    assert balance.available == 0
    assert balance.overdrawn_by == D(30)
    negative_erp = unified_balance(D(-5), [], as_of=None)
    assert negative_erp.available == 0 and negative_erp.overdrawn_by == D(5)


def test_can_redeem_and_require_redeemable() -> None:
    balance = unified_balance(D(250), [], as_of=AS_OF)
    assert can_redeem(balance, 250)
    assert not can_redeem(balance, 251)
    assert not can_redeem(balance, 0)
    require_redeemable(balance, D(100))
    with pytest.raises(InsufficientPoints) as caught:
        require_redeemable(balance, 300)
    assert caught.value.available == D(250)
    assert caught.value.requested == D(300)
    with pytest.raises(ValueError):
        require_redeemable(balance, 0)
    with pytest.raises(ValueError):
        can_redeem(balance, -1)


def test_points_value_rounds_down_to_the_cent() -> None:
    assert points_value(PROGRAM, 100) == Money(D("5.00"))
    assert points_value(PROGRAM, 1) == Money(D("0.05"))
    odd = PointsProgram("P", 3, Money(D("1.00")))
    assert points_value(odd, 1) == Money(D("0.33"))  # 0.333.. down
    assert points_value(odd, 2) == Money(D("0.66"))  # 0.666.. down, never up
    assert points_value(PROGRAM, D("12.5")) == Money(D("0.62"))


def test_max_redeemable_points_never_exceeds_the_amount_due_or_the_balance() -> None:
    rich = unified_balance(D(10_000), [], as_of=AS_OF)
    assert max_redeemable_points(PROGRAM, rich, Money(D("12.34"))) == D(246)
    assert points_value(PROGRAM, 246).amount <= D("12.34")
    poor = unified_balance(D(80), [], as_of=AS_OF)
    assert max_redeemable_points(PROGRAM, poor, Money(D("12.34"))) == D(80)
    assert max_redeemable_points(PROGRAM, rich, Money(D("0"))) == 0
    with pytest.raises(ValueError):
        max_redeemable_points(PROGRAM, rich, Money(D("1"), "USD"))


def test_program_and_movements_are_validated() -> None:
    with pytest.raises(ValueError):
        PointsProgram("P", 0, Money(D("1")))
    with pytest.raises(ValueError):
        PointsProgram("P", 100, Money(D("0")))
    with pytest.raises(ValueError):
        PointsMovement(D(-1))
    with pytest.raises(ValueError):
        PointsMovement(D("NaN"))
