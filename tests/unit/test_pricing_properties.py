"""Properties of the pricing engine over random baskets and random valid rules."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from service.domain.money import Money
from service.domain.pricing import Basket, BasketLine, PricedBasket, price_basket
from service.domain.promotions import Rule, RuleBook, Targets, validate_rule

NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)
SKUS = ["A", "B", "C", "D", "E"]
CATEGORIES = ["shoes", "bags", "socks"]
ZERO = Decimal("0.00")

cents = st.integers(0, 20_000).map(lambda c: Decimal(c).scaleb(-2))
# A few round prices make ties (same unit price, same net) frequent: ties are where ordering bugs
# would show.
round_prices = st.sampled_from([Decimal(p) for p in ("0.00", "1.00", "9.99", "10.00")])
prices = st.one_of(round_prices, round_prices, round_prices, cents)


@st.composite
def basket_lines(draw: st.DrawFn) -> BasketLine:
    base = draw(prices)
    markdown = draw(
        st.just(ZERO) | st.integers(0, int(base * 100)).map(lambda c: Decimal(c).scaleb(-2))
    )
    return BasketLine(
        sku=draw(st.sampled_from(SKUS)),
        qty=draw(st.integers(1, 3)),
        base_unit_price=base,
        current_unit_price=base - markdown,
        categories=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), max_size=2))),
    )


baskets = st.builds(
    Basket,
    channel=st.sampled_from(["web", "store"]),
    lines=st.lists(basket_lines(), min_size=1, max_size=6).map(tuple),
    store_id=st.sampled_from([None, "S1", "S2"]),
    loyalty_member=st.booleans(),
)

targets = st.one_of(
    st.just(Targets(all_items=True)),
    st.builds(Targets, skus=st.frozensets(st.sampled_from(SKUS), min_size=1)),
    st.builds(Targets, categories=st.frozensets(st.sampled_from(CATEGORIES), min_size=1)),
)
percents = st.integers(1, 10_000).map(lambda p: Decimal(p).scaleb(-2))
# Amounts as an admin may write them too: "2" or "1.5" (the engine's amounts have 2 places).
amounts = st.integers(1, 5_000).map(lambda c: Decimal(c).scaleb(-2)) | st.sampled_from(
    [Decimal("2"), Decimal("1.5"), Decimal("0.1")]
)


@st.composite
def rules(draw: st.DrawFn, rule_id: str) -> Rule:
    kind = draw(st.sampled_from(["percentage", "fixed_amount", "buy_x_get_y", "threshold"]))
    params: dict[str, object] = {}
    if kind == "percentage":
        params["percent"] = draw(percents)
    elif kind == "fixed_amount":
        params["amount"] = draw(amounts)
    elif kind == "buy_x_get_y":
        params["buy_x"], params["get_y"] = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    else:
        params["threshold"] = draw(cents)
        params[draw(st.sampled_from(["percent", "amount"]))] = draw(percents)
    # Conditions are drawn so that most rules are eligible and actually compete.
    starts = draw(st.sampled_from([None, None, NOW - timedelta(days=1), NOW + timedelta(days=1)]))
    rule = Rule(
        id=rule_id,
        name=f"rule {rule_id}",
        kind=kind,
        targets=draw(targets),
        loyalty_only=draw(st.sampled_from([False, False, False, True])),
        channel=draw(st.sampled_from(["web", "store", "both", "both", "both"])),
        store_ids=draw(st.sampled_from([frozenset(), frozenset(), frozenset({"S1"})])),
        starts_at=starts,
        priority=draw(st.integers(0, 3)),
        exclusive=draw(st.booleans()),
        stackable=draw(st.booleans()),
        **params,  # type: ignore[arg-type]
    )
    validate_rule(rule)
    return rule


@st.composite
def rule_lists(draw: st.DrawFn) -> list[Rule]:
    count = draw(st.integers(0, 6))
    return [draw(rules(f"R{i}")) for i in range(count)]


def _every_money(result: PricedBasket) -> list[Money]:
    found = [result.subtotal_base, result.markdowns, result.discounts, result.total]
    found += [a.amount for a in result.applied]
    for p in result.lines:
        found += [p.base, p.current, p.net, p.markdown, *(d.amount for d in p.discounts)]
    return found


def _check_invariants(result: PricedBasket) -> None:
    for money in _every_money(result):  # built unchecked (Money.of_cents): as Money would
        assert money.amount.as_tuple().exponent == -2, money
        assert Money(money.amount, money.currency) == money
    assert result.total.amount >= 0
    assert sum((p.net.amount for p in result.lines), ZERO) == result.total.amount
    assert result.subtotal_base - result.markdowns - result.discounts == result.total
    for priced in result.lines:
        line_discount = sum((d.amount.amount for d in priced.discounts), ZERO)
        assert ZERO <= line_discount <= priced.current.amount
        assert priced.net == priced.current - Money(line_discount, result.currency)
        assert all(d.amount.amount > 0 for d in priced.discounts)
    per_rule: dict[str, Decimal] = {}
    for priced in result.lines:
        for d in priced.discounts:
            per_rule[d.rule_id] = per_rule.get(d.rule_id, ZERO) + d.amount.amount
    assert {a.rule_id: a.amount.amount for a in result.applied} == per_rule
    applied = {a.rule_id for a in result.applied}
    assert applied.isdisjoint(s.rule_id for s in result.not_applied)


@given(baskets, rule_lists())
def test_prices_are_consistent(basket: Basket, rule_list: list[Rule]) -> None:
    _check_invariants(price_basket(basket, rule_list, NOW))


@given(baskets, rule_lists())
def test_pricing_is_deterministic(basket: Basket, rule_list: list[Rule]) -> None:
    assert price_basket(basket, rule_list, NOW) == price_basket(basket, RuleBook(rule_list), NOW)


@given(baskets, rule_lists(), st.randoms(use_true_random=False))
def test_order_of_rules_and_lines_does_not_matter(
    basket: Basket, rule_list: list[Rule], rnd: random.Random
) -> None:
    first = price_basket(basket, rule_list, NOW)
    shuffled_lines = list(basket.lines)
    rnd.shuffle(shuffled_lines)
    shuffled_rules = list(rule_list)
    rnd.shuffle(shuffled_rules)
    second = price_basket(replace(basket, lines=tuple(shuffled_lines)), shuffled_rules, NOW)
    totals = ("subtotal_base", "markdowns", "discounts", "total", "applied", "not_applied")
    assert [getattr(first, t) for t in totals] == [getattr(second, t) for t in totals]
    assert Counter(first.lines) == Counter(second.lines)
    # Lines keep the order they were given in.
    assert [p.sku for p in second.lines] == [line.sku for line in shuffled_lines]
