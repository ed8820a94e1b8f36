"""Money: a ``Decimal`` amount in cents and an ISO 4217 currency code.

Rounding, in one place:
- Amounts hold at most 2 decimal places (every currency omnistock sells in has cents). ``Money``
  refuses more instead of rounding silently; callers round with ``to_cents``.
- ``to_cents`` rounds ROUND_HALF_UP (half a cent goes up), the rule shoppers expect on a receipt.
- ``split_pro_rata`` shares an amount in whole cents: each share is first rounded down, then the
  leftover cents go one each to the shares with the largest remainders (ties: larger weight,
  then earlier position). Shares always add up exactly and never exceed their weight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_CURRENCY = re.compile(r"[A-Z]{3}")
_new = object.__new__


def to_cents(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to the cent (ROUND_HALF_UP unless told otherwise)."""
    return value.quantize(CENT, rounding=rounding)


def as_amount(name: str, value: Decimal | int | str) -> Decimal:
    """A finite ``Decimal`` with at most 2 decimal places, normalised to exactly 2."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValueError(f"{name} must be a decimal amount, got {value!r}")
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{name} must be a decimal amount, got {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    cents = amount.quantize(CENT)
    if cents != amount:
        raise ValueError(f"{name} has more than 2 decimal places: {value!r}")
    return cents


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", as_amount("amount", self.amount))
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"currency must be a 3-letter ISO code, got {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(Decimal("0.00"), currency)

    @classmethod
    def of_cents(cls, amount: Decimal, currency: str) -> Money:
        """``Money(amount, currency)`` without the checks, for hot paths that already hold an
        amount with exactly 2 decimal places (e.g. a ``to_cents`` result, or sums and integer
        multiples of such amounts) and a currency ``Money`` accepted before. The caller vouches
        for both: nothing is normalised."""
        money = _new(cls)
        _set_amount(money, amount)
        _set_currency(money, currency)
        return money

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other!r}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# The slots' own setters: they bypass the frozen dataclass's ``__setattr__`` (``of_cents``).
_set_amount = Money.__dict__["amount"].__set__
_set_currency = Money.__dict__["currency"].__set__


def split_pro_rata(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Share ``total`` (cents, ``0 <= total <= sum(weights)``) in proportion to ``weights``.

    See the module docstring for the rounding; weights are amounts in cents, >= 0.
    """
    cents = [int(as_amount("weight", w).scaleb(2)) for w in weights]
    whole = int(as_amount("total", total).scaleb(2))
    if any(c < 0 for c in cents) or whole < 0 or whole > sum(cents):
        raise ValueError(f"cannot split {total} over {list(weights)}")
    if whole == 0:
        return [Decimal("0.00") for _ in weights]
    base_sum = sum(cents)
    shares = [whole * c // base_sum for c in cents]
    remainders = [whole * c % base_sum for c in cents]
    leftover = whole - sum(shares)
    order = sorted(range(len(cents)), key=lambda i: (-remainders[i], -cents[i], i))
    for i in order[:leftover]:
        shares[i] += 1
    return [Decimal(s).scaleb(-2) for s in shares]
