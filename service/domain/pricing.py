"""The basket pricing engine: deterministic, explained, the same for web and store.

A line starts at its current price (base price less the store markdown from Cegid's price engine)
times qty. Then, with rules from a ``RuleBook``:

1. Only rules that target something in the basket are considered. Each is checked for window,
   channel, store, loyalty membership and currency; a failing rule is reported, not applied.
2. Rules run in one fixed order: line-level rules (percentage, fixed amount, buy X get Y) before
   basket-level ones (threshold); within each group by priority (highest first), then rule id.
3. Each rule sees line nets after every earlier discount.
4. A rule *applies to a line* when it gives that line a discount. An ``exclusive`` rule locks the
   lines it applies to: no later rule touches them (nor counts them toward a threshold or a
   buy X get Y). A non-``stackable`` rule only considers lines no earlier rule discounted.
5. Every discount is capped at the line's remaining net, so no line goes below zero; a line
   already at zero gets no further line-level discount (nor counts toward a buy X get Y).
6. Rounding: line discounts round ROUND_HALF_UP to the cent; a basket-level discount is computed
   on the targeted subtotal, then split over its lines pro rata to their nets in whole cents
   (``money.split_pro_rata``: largest remainders get the leftover cents).

7. Every amount the engine works with has exactly 2 decimal places (prices are normalised to
   cents, rule amounts rounded, which is exact for valid rules, every rate rounded with
   ``to_cents``; sums, differences and integer multiples keep 2 places), so results are built
   as ``Money`` without checking each amount again.

Lines are priced in a canonical order (by SKU, qty, prices, categories), so neither the order of
the rules nor the order of the lines changes any amount. Totals satisfy
``total = subtotal_base - markdowns - discounts = sum(line nets)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from service.domain.money import Money, as_amount, split_pro_rata, to_cents
from service.domain.promotions import NotApplied, Rule, RuleBook, RuleKind, SkipReason

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class BasketLine:
    sku: str
    qty: int
    base_unit_price: Decimal
    current_unit_price: Decimal
    categories: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if isinstance(self.qty, bool) or not isinstance(self.qty, int) or self.qty < 1:
            raise ValueError(f"qty must be an integer >= 1, got {self.qty!r}")
        for name in ("base_unit_price", "current_unit_price"):
            price = as_amount(name, getattr(self, name))
            if price < 0:
                raise ValueError(f"{name} must be >= 0, got {price}")
            object.__setattr__(self, name, price)
        object.__setattr__(self, "categories", frozenset(self.categories))


@dataclass(frozen=True, slots=True)
class Basket:
    channel: str  # "web" or "store"
    lines: tuple[BasketLine, ...]
    currency: str = "EUR"
    store_id: str | None = None
    loyalty_member: bool = False

    def __post_init__(self) -> None:
        if self.channel not in ("web", "store"):
            raise ValueError(f"channel must be 'web' or 'store', got {self.channel!r}")
        object.__setattr__(self, "lines", tuple(self.lines))
        Money.zero(self.currency)  # validates the currency code


@dataclass(frozen=True, slots=True)
class LineDiscount:
    rule_id: str
    amount: Money
    explanation: str


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    qty: int
    base: Money  # base unit price x qty
    current: Money  # current (marked-down) unit price x qty
    discounts: tuple[LineDiscount, ...]
    net: Money

    @property
    def markdown(self) -> Money:
        return Money.of_cents(self.base.amount - self.current.amount, self.base.currency)


@dataclass(frozen=True, slots=True)
class AppliedRule:
    rule_id: str
    name: str
    amount: Money
    explanation: str


@dataclass(frozen=True, slots=True)
class PricedBasket:
    currency: str
    lines: tuple[PricedLine, ...]  # in the basket's order
    subtotal_base: Money
    markdowns: Money
    discounts: Money
    total: Money
    applied: tuple[AppliedRule, ...]
    not_applied: tuple[NotApplied, ...]


@dataclass(slots=True)
class _Line:
    line: BasketLine
    net: Decimal
    discounts: list[LineDiscount] = field(default_factory=list)
    locked_by: str | None = None


def _pct(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%"


def explain_rule(rule: Rule, currency: str) -> str:
    label = rule.targets.describe()
    if rule.kind == RuleKind.PERCENTAGE:
        return f"{_pct(rule.percent or ZERO)} off {label}"
    if rule.kind == RuleKind.FIXED_AMOUNT:
        return f"{to_cents(rule.amount or ZERO)} {currency} off each item ({label})"
    if rule.kind == RuleKind.BUY_X_GET_Y:
        return f"Buy {rule.buy_x} get {rule.get_y} free on {label}"
    off = _pct(rule.percent) if rule.percent else f"{to_cents(rule.amount or ZERO)} {currency}"
    where = "" if rule.targets.all_items else f" on {label}"
    return f"{off} off when you spend {to_cents(rule.threshold or ZERO)} {currency} or more{where}"


def _percent_off(rule: Rule, lines: list[_Line]) -> list[Decimal] | NotApplied:
    rate = (rule.percent or ZERO) / 100
    return [min(item.net, to_cents(item.net * rate)) for item in lines]


def _amount_off(rule: Rule, lines: list[_Line]) -> list[Decimal] | NotApplied:
    each = to_cents(rule.amount or ZERO)  # exact (at most 2 places): 2 places, like every amount
    return [min(item.net, each * item.line.qty) for item in lines]


def _cheapest_free(rule: Rule, lines: list[_Line]) -> list[Decimal] | NotApplied:
    group = (rule.buy_x or 0) + (rule.get_y or 0)
    units = sum(item.line.qty for item in lines)
    if units < group:
        detail = f"needs {group} matching items, basket has {units}"
        return NotApplied(rule.id, SkipReason.NOT_ENOUGH_ITEMS, detail)
    free_left = units // group * (rule.get_y or 0)
    amounts = [ZERO] * len(lines)
    cheapest_first = sorted(range(len(lines)), key=lambda i: lines[i].net / lines[i].line.qty)
    for i in cheapest_first:
        item = lines[i]
        free = min(item.line.qty, free_left)
        free_left -= free
        whole = free == item.line.qty
        amounts[i] = item.net if whole else min(item.net, to_cents(item.net * free / item.line.qty))
    return amounts


def _threshold_off(rule: Rule, lines: list[_Line]) -> list[Decimal] | NotApplied:
    subtotal = sum((item.net for item in lines), ZERO)
    threshold = to_cents(rule.threshold or ZERO)
    if subtotal < threshold:
        detail = f"spend {threshold - subtotal} more to reach {threshold}"
        return NotApplied(rule.id, SkipReason.THRESHOLD_NOT_REACHED, detail)
    if rule.percent is not None:
        off = to_cents(subtotal * rule.percent / 100)
    else:
        off = min(subtotal, to_cents(rule.amount or ZERO))
    return split_pro_rata(off, [item.net for item in lines])


_DISCOUNTERS: dict[str, Callable[[Rule, list[_Line]], list[Decimal] | NotApplied]] = {
    RuleKind.PERCENTAGE: _percent_off,
    RuleKind.FIXED_AMOUNT: _amount_off,
    RuleKind.BUY_X_GET_Y: _cheapest_free,
    RuleKind.THRESHOLD: _threshold_off,
}


def _open_lines(rule: Rule, targeted: list[_Line]) -> list[_Line] | NotApplied:
    """The targeted lines this rule may still discount, or why there are none: lines locked by
    an exclusive rule are out, then (non-stackable rule) lines already discounted, then (line
    rules) lines already free. One pass; the reason is the first filter that left nothing."""
    line_level = rule.kind != RuleKind.THRESHOLD
    stackable = rule.stackable
    fresh: list[_Line] = []
    unlocked = combinable = False
    for item in targeted:
        if item.locked_by is not None:
            continue
        unlocked = True
        if not stackable and item.discounts:
            continue
        combinable = True
        if not line_level or item.net > 0:
            fresh.append(item)
    if fresh:
        return fresh
    if not unlocked:
        blockers = ", ".join(sorted({item.locked_by or "" for item in targeted}))
        detail = f"items already in exclusive offer {blockers}"
        return NotApplied(rule.id, SkipReason.BLOCKED_BY_EXCLUSIVE, detail)
    if not combinable:
        detail = "does not combine with other offers, and every item already has one"
        return NotApplied(rule.id, SkipReason.NOT_STACKABLE, detail)
    return NotApplied(rule.id, SkipReason.NOTHING_LEFT, "matching items are already free")


def _explained(book: RuleBook, rule: Rule, currency: str) -> str:
    """``explain_rule``, once per rule and currency for as long as the book lives."""
    key = (rule.id, currency)
    text = book.explanations.get(key)
    if text is None:
        text = book.explanations[key] = explain_rule(rule, currency)
    return text


def _run(
    rule: Rule, targeted: list[_Line], currency: str, book: RuleBook
) -> AppliedRule | NotApplied:
    lines = _open_lines(rule, targeted)
    if isinstance(lines, NotApplied):
        return lines
    amounts = _DISCOUNTERS[rule.kind](rule, lines)
    if isinstance(amounts, NotApplied):
        return amounts
    if not any(amounts):
        return NotApplied(rule.id, SkipReason.NOTHING_LEFT, "the discount rounds to zero")
    explanation = _explained(book, rule, currency)
    for item, amount in zip(lines, amounts, strict=True):
        if amount > 0:
            item.net -= amount
            item.discounts.append(
                LineDiscount(rule.id, Money.of_cents(amount, currency), explanation)
            )
            if rule.exclusive:
                item.locked_by = rule.id
    total = Money.of_cents(sum(amounts, ZERO), currency)
    return AppliedRule(rule.id, rule.name, total, explanation)


def _canonical(line: BasketLine) -> tuple[object, ...]:
    return (
        line.sku,
        line.qty,
        line.base_unit_price,
        line.current_unit_price,
        sorted(line.categories),
    )


def _priced(item: _Line, currency: str) -> PricedLine:
    line = item.line
    cents = Money.of_cents  # every amount here has exactly 2 places (module docstring, 7.)
    return PricedLine(
        sku=line.sku,
        qty=line.qty,
        base=cents(line.base_unit_price * line.qty, currency),
        current=cents(line.current_unit_price * line.qty, currency),
        discounts=tuple(item.discounts),
        net=cents(item.net, currency),
    )


def _totals(
    basket: Basket,
    order: list[int],
    work: list[_Line],
    applied: list[AppliedRule],
    skipped: list[NotApplied],
) -> PricedBasket:
    currency = basket.currency
    by_position = {
        position: _priced(item, currency) for position, item in zip(order, work, strict=True)
    }
    lines = tuple(by_position[i] for i in range(len(order)))
    base = sum((line.base.amount for line in lines), ZERO)
    current = sum((line.current.amount for line in lines), ZERO)
    net = sum((line.net.amount for line in lines), ZERO)
    return PricedBasket(
        currency=currency,
        lines=lines,
        subtotal_base=Money.of_cents(base, currency),
        markdowns=Money.of_cents(base - current, currency),
        discounts=Money.of_cents(current - net, currency),
        total=Money.of_cents(net, currency),
        applied=tuple(applied),
        not_applied=tuple(skipped),
    )


def price_basket(basket: Basket, rules: RuleBook | Iterable[Rule], at: datetime) -> PricedBasket:
    """Price ``basket`` at instant ``at`` (aware) with ``rules``; see the module docstring."""
    if at.utcoffset() is None:
        raise ValueError(f"at must be a timezone-aware datetime, got {at!r}")
    book = rules if isinstance(rules, RuleBook) else RuleBook(rules)
    order = sorted(range(len(basket.lines)), key=lambda i: _canonical(basket.lines[i]))
    work = [
        _Line(line, line.current_unit_price * line.qty) for line in (basket.lines[i] for i in order)
    ]
    applied: list[AppliedRule] = []
    skipped: list[NotApplied] = []
    considered = book.considered(
        [(item.line.sku, item.line.categories) for item in work],
        channel=basket.channel,
        store_id=basket.store_id,
        loyalty_member=basket.loyalty_member,
        currency=basket.currency,
        at=at,
    )
    for rule, positions, why in considered:
        outcome = why or _run(rule, [work[p] for p in positions], basket.currency, book)
        if isinstance(outcome, NotApplied):
            skipped.append(outcome)
        else:
            applied.append(outcome)
    return _totals(basket, order, work, applied, skipped)
