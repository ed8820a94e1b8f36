from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.money import Money, split_pro_rata, to_cents

D = Decimal


def test_money_normalises_to_cents_and_refuses_fractions_of_a_cent() -> None:
    assert Money(D("5"), "EUR").amount == D("5.00")
    assert str(Money(D("5.5"))) == "5.50 EUR"
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        Money(D("0.005"))


@pytest.mark.parametrize("amount", [D("NaN"), D("Infinity"), 1.5, True, "abc"])
def test_money_refuses_non_amounts(amount: object) -> None:
    with pytest.raises(ValueError):
        Money(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["eur", "EURO", "", "E1R"])
def test_money_refuses_bad_currencies(currency: str) -> None:
    with pytest.raises(ValueError):
        Money(D("1"), currency)


def test_arithmetic_needs_one_currency() -> None:
    assert Money(D("1.25")) + Money(D("2.00")) == Money(D("3.25"))
    assert Money(D("1.25")) - Money(D("2.00")) == Money(D("-0.75"))
    assert Money.zero("USD") == Money(D("0"), "USD")
    with pytest.raises(ValueError):
        Money(D("1")) + Money(D("1"), "USD")


def test_to_cents_rounds_half_up_unless_told() -> None:
    assert to_cents(D("0.125")) == D("0.13")
    assert to_cents(D("0.135")) == D("0.14")
    assert to_cents(D("-0.125")) == D("-0.13")
    assert to_cents(D("0.129"), ROUND_DOWN) == D("0.12")


def test_split_examples() -> None:
    assert split_pro_rata(D("1.00"), [D("1.00"), D("2.00"), D("3.00")]) == [
        D("0.17"),
        D("0.33"),
        D("0.50"),
    ]
    assert split_pro_rata(D("0.01"), [D("5.00"), D("5.00")]) == [D("0.01"), D("0.00")]
    assert split_pro_rata(D("0"), [D("5.00")]) == [D("0.00")]


def test_leftover_cents_never_push_a_share_above_its_weight() -> None:
    # Rounding all leftover cents onto the largest line would give it 1.04 > 1.00.
    shares = split_pro_rata(D("1.04"), [D("1.00")] + [D("0.01")] * 5)
    assert shares == [D("0.99")] + [D("0.01")] * 5


def test_split_refuses_impossible_totals() -> None:
    with pytest.raises(ValueError):
        split_pro_rata(D("10.01"), [D("10.00")])
    with pytest.raises(ValueError):
        split_pro_rata(D("-1"), [D("10.00")])
    with pytest.raises(ValueError):
        split_pro_rata(D("0.001"), [D("10.00")])


cents = st.integers(0, 10_000_00).map(lambda c: Decimal(c).scaleb(-2))


@given(st.lists(cents, min_size=1, max_size=20), st.floats(0, 1))
def test_split_adds_up_and_stays_within_weights(weights: list[Decimal], fraction: float) -> None:
    total = to_cents(sum(weights, D(0)) * Decimal(str(fraction)), ROUND_DOWN)
    shares = split_pro_rata(total, weights)
    assert sum(shares, D(0)) == total
    for share, weight in zip(shares, weights, strict=True):
        assert D(0) <= share <= weight
        assert share == share.quantize(D("0.01"))
        exact = total * weight / sum(weights) if sum(weights) else D(0)
        assert abs(share - exact) < D("0.01")
