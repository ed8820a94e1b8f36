from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from service.domain.errors import InvalidRule
from service.domain.money import Money
from service.domain.pricing import AppliedRule, Basket, BasketLine, PricedBasket, price_basket
from service.domain.promotions import Rule, RuleBook, SkipReason, Targets

D = Decimal
NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)
SHOES = Targets(categories=frozenset({"shoes"}), label="Shoes")
EVERYTHING = Targets(all_items=True)


def line(sku: str, qty: int, base: str, current: str | None = None, *cats: str) -> BasketLine:
    return BasketLine(sku, qty, D(base), D(current or base), frozenset(cats))


def basket(*lines: BasketLine, **kw: Any) -> Basket:
    return Basket(kw.pop("channel", "web"), tuple(lines), **kw)


def pct(rule_id: str, percent: str, targets: Targets = EVERYTHING, **kw: Any) -> Rule:
    return Rule(rule_id, f"{percent}% off", "percentage", targets, percent=D(percent), **kw)


def off(rule_id: str, amount: str, targets: Targets = EVERYTHING, **kw: Any) -> Rule:
    return Rule(rule_id, f"{amount} off", "fixed_amount", targets, amount=D(amount), **kw)


def nets(result: PricedBasket) -> dict[str, Decimal]:
    return {priced.sku: priced.net.amount for priced in result.lines}


def eur(amount: str) -> Money:
    return Money(D(amount))


SHOE_BASKET = basket(line("A", 2, "50.00", "45.00", "shoes"), line("B", 1, "20.00"))


def test_no_rules_prices_markdowns_only() -> None:
    result = price_basket(SHOE_BASKET, [], NOW)
    assert [p.sku for p in result.lines] == ["A", "B"]
    assert result.lines[0].base == eur("100.00")
    assert result.lines[0].current == eur("90.00")
    assert result.lines[0].markdown == eur("10.00")
    assert (result.subtotal_base, result.markdowns, result.discounts, result.total) == (
        eur("120.00"),
        eur("10.00"),
        eur("0.00"),
        eur("110.00"),
    )
    assert result.applied == () and result.not_applied == ()


def test_percentage_off_a_category_is_explained() -> None:
    result = price_basket(SHOE_BASKET, [pct("p20", "20", SHOES)], NOW)
    assert nets(result) == {"A": D("72.00"), "B": D("20.00")}
    (discount,) = result.lines[0].discounts
    assert (discount.rule_id, discount.amount, discount.explanation) == (
        "p20",
        eur("18.00"),
        "20% off Shoes",
    )
    assert result.applied == (AppliedRule("p20", "20% off", eur("18.00"), "20% off Shoes"),)
    assert result.discounts == eur("18.00") and result.total == eur("92.00")


def test_percentage_rounds_half_up_per_line() -> None:
    result = price_basket(basket(line("A", 1, "0.25")), [pct("p", "10")], NOW)
    assert nets(result) == {"A": D("0.22")}  # 0.025 off rounds up to 0.03


def test_fixed_amount_is_per_unit_and_capped_at_the_line() -> None:
    rules = [off("f5", "5.00")]
    result = price_basket(basket(line("A", 2, "45.00"), line("C", 1, "3.00")), rules, NOW)
    assert nets(result) == {"A": D("80.00"), "C": D("0.00")}
    assert result.lines[0].discounts[0].explanation == "5.00 EUR off each item (everything)"


def test_buy_two_get_one_frees_the_cheapest_unit() -> None:
    rule = Rule("b", "3 for 2", "buy_x_get_y", SHOES, buy_x=2, get_y=1)
    items = basket(
        line("A", 2, "45.00", None, "shoes"),
        line("C", 1, "9.99", None, "shoes"),
        line("Z", 1, "1.00"),
    )
    result = price_basket(items, [rule], NOW)
    assert nets(result) == {"A": D("90.00"), "C": D("0.00"), "Z": D("1.00")}
    assert result.applied[0].explanation == "Buy 2 get 1 free on Shoes"


def test_buy_x_get_y_counts_units_across_lines() -> None:
    rule = Rule("b", "3 for 2", "buy_x_get_y", EVERYTHING, buy_x=2, get_y=1)
    result = price_basket(basket(line("CHEAP", 3, "10.00"), line("DEAR", 3, "20.00")), [rule], NOW)
    # 6 units, 2 groups of 3: the 2 cheapest units are free, both from CHEAP.
    assert nets(result) == {"CHEAP": D("10.00"), "DEAR": D("60.00")}


def test_buy_x_get_y_needs_enough_units() -> None:
    rule = Rule("b", "3 for 2", "buy_x_get_y", EVERYTHING, buy_x=2, get_y=1)
    result = price_basket(basket(line("A", 2, "10.00")), [rule], NOW)
    assert result.total == eur("20.00")
    (skip,) = result.not_applied
    assert skip.reason is SkipReason.NOT_ENOUGH_ITEMS
    assert skip.detail == "needs 3 matching items, basket has 2"


def test_threshold_amount_is_spread_pro_rata() -> None:
    rule = Rule("t", "10 off 100", "threshold", EVERYTHING, threshold=D(100), amount=D(10))
    result = price_basket(basket(line("A", 1, "60.00"), line("B", 1, "40.00")), [rule], NOW)
    assert nets(result) == {"A": D("54.00"), "B": D("36.00")}
    assert result.applied[0].explanation == "10.00 EUR off when you spend 100.00 EUR or more"


def test_threshold_percentage_with_an_odd_cent() -> None:
    rule = Rule("t", "5% off", "threshold", SHOES, threshold=D(10), percent=D(5))
    items = basket(
        line("A", 1, "10.01", None, "shoes"),
        line("B", 2, "10.00", None, "shoes"),
        line("X", 1, "99.00"),
    )
    result = price_basket(items, [rule], NOW)
    # 5% of 30.01 = 1.5005 -> 1.50, split 10.01:20.00 -> 0.50 / 1.00 (largest remainders).
    assert result.discounts == eur("1.50")
    assert nets(result) == {"A": D("9.51"), "B": D("19.00"), "X": D("99.00")}
    assert result.applied[0].explanation == "5% off when you spend 10.00 EUR or more on Shoes"


def test_threshold_is_checked_after_line_discounts_whatever_its_priority() -> None:
    threshold = Rule(
        "t", "10 off 100", "threshold", EVERYTHING, threshold=D(100), amount=D(10), priority=99
    )
    items = basket(line("A", 1, "60.00", None, "shoes"), line("B", 1, "40.00"))
    result = price_basket(items, [threshold, pct("p", "20", SHOES)], NOW)
    assert result.total == eur("88.00")
    (skip,) = result.not_applied
    assert (skip.rule_id, skip.reason, skip.detail) == (
        "t",
        SkipReason.THRESHOLD_NOT_REACHED,
        "spend 12.00 more to reach 100.00",
    )


@pytest.mark.parametrize(
    ("fixed_priority", "percent_priority", "expected"),
    [(2, 1, "45.00"), (1, 2, "40.00")],
)
def test_higher_priority_runs_first(
    fixed_priority: int, percent_priority: int, expected: str
) -> None:
    rules = [off("f", "10.00", priority=fixed_priority), pct("p", "50", priority=percent_priority)]
    assert price_basket(basket(line("A", 1, "100.00")), rules, NOW).total == eur(expected)


@pytest.mark.parametrize(
    ("fixed_id", "percent_id", "expected"), [("a", "b", "45.00"), ("b", "a", "40.00")]
)
def test_equal_priority_runs_in_rule_id_order(
    fixed_id: str, percent_id: str, expected: str
) -> None:
    rules = [pct(percent_id, "50"), off(fixed_id, "10.00")]
    assert price_basket(basket(line("A", 1, "100.00")), rules, NOW).total == eur(expected)


def test_exclusive_rule_locks_the_lines_it_discounts() -> None:
    rules = [pct("x", "10", SHOES, priority=5, exclusive=True), pct("y", "20", priority=1)]
    items = basket(line("A", 1, "100.00", None, "shoes"), line("B", 1, "50.00"))
    result = price_basket(items, rules, NOW)
    assert nets(result) == {"A": D("90.00"), "B": D("40.00")}
    assert [a.rule_id for a in result.applied] == ["x", "y"]


def test_rule_blocked_on_every_line_is_reported() -> None:
    rules = [pct("x", "10", SHOES, priority=5, exclusive=True), pct("y", "20", SHOES)]
    result = price_basket(basket(line("A", 1, "100.00", None, "shoes")), rules, NOW)
    assert result.total == eur("90.00")
    (skip,) = result.not_applied
    assert (skip.rule_id, skip.reason) == ("y", SkipReason.BLOCKED_BY_EXCLUSIVE)
    assert "x" in skip.detail


def test_an_exclusive_rule_that_does_not_apply_blocks_nothing() -> None:
    rules = [pct("x", "10", priority=5, exclusive=True, loyalty_only=True), pct("y", "20")]
    result = price_basket(basket(line("A", 1, "100.00")), rules, NOW)
    assert result.total == eur("80.00")
    assert [(s.rule_id, s.reason) for s in result.not_applied] == [("x", SkipReason.LOYALTY_ONLY)]


def test_non_stackable_rule_skips_already_discounted_lines() -> None:
    rules = [pct("x", "10", SHOES, priority=5), pct("s", "20", stackable=False)]
    items = basket(line("A", 1, "100.00", None, "shoes"), line("B", 1, "50.00"))
    assert nets(price_basket(items, rules, NOW)) == {"A": D("90.00"), "B": D("40.00")}
    only_shoes = price_basket(basket(line("A", 1, "100.00", None, "shoes")), rules, NOW)
    assert [(s.rule_id, s.reason) for s in only_shoes.not_applied] == [
        ("s", SkipReason.NOT_STACKABLE)
    ]


def test_markdowns_do_not_count_as_discounts_for_stacking() -> None:
    result = price_basket(
        basket(line("A", 1, "100.00", "80.00")), [pct("s", "10", stackable=False)], NOW
    )
    assert result.total == eur("72.00")


def test_free_lines_are_not_discounted_again() -> None:
    rules = [pct("all", "100", priority=2), pct("more", "10")]
    result = price_basket(basket(line("A", 1, "10.00")), rules, NOW)
    assert result.total == eur("0.00")
    assert [(s.rule_id, s.reason) for s in result.not_applied] == [
        ("more", SkipReason.NOTHING_LEFT)
    ]


def test_ties_go_to_the_same_line_whatever_the_basket_order() -> None:
    a, b, c = line("A", 1, "10.00"), line("B", 1, "10.00"), line("C", 1, "20.00")
    # Buy 1 get 1 over 3 units: one free unit, A and B tie for cheapest.
    free_one = [Rule("b", "1+1", "buy_x_get_y", EVERYTHING, buy_x=1, get_y=1)]
    # One cent over two equal lines: equal remainders.
    one_cent = [Rule("t", "cent", "threshold", EVERYTHING, threshold=D(0), amount=D("0.01"))]
    cases = [
        (free_one, [a, b, c], {"A": D("0.00"), "B": D("10.00"), "C": D("20.00")}),
        (one_cent, [a, b], {"A": D("9.99"), "B": D("10.00")}),
    ]
    for rules, lines, expected in cases:
        for order in (lines, lines[::-1], lines[1:] + lines[:1]):
            assert nets(price_basket(basket(*order), rules, NOW)) == expected


def test_conditions_are_reported_and_untargeted_rules_are_not_listed() -> None:
    rules = [
        pct("window", "10", ends_at=NOW),
        pct("web", "10", channel="web"),
        pct("stores", "10", store_ids=frozenset({"S1"})),
        pct("members", "10", loyalty_only=True),
        pct("other-sku", "10", Targets(skus=frozenset({"NOT-IN-BASKET"}))),
        pct("ok", "10", store_ids=frozenset({"S2"}), channel="store"),
    ]
    result = price_basket(basket(line("A", 1, "10.00"), channel="store", store_id="S2"), rules, NOW)
    assert [a.rule_id for a in result.applied] == ["ok"]
    assert {s.rule_id: s.reason for s in result.not_applied} == {
        "window": SkipReason.OUTSIDE_WINDOW,
        "web": SkipReason.WRONG_CHANNEL,
        "stores": SkipReason.WRONG_STORE,
        "members": SkipReason.LOYALTY_ONLY,
    }


def test_store_price_above_base_shows_as_a_negative_markdown() -> None:
    result = price_basket(basket(line("A", 1, "10.00", "12.00")), [], NOW)
    assert result.markdowns == eur("-2.00")
    assert result.total == eur("12.00")


def test_invalid_rules_and_inputs_are_refused() -> None:
    with pytest.raises(InvalidRule):
        price_basket(SHOE_BASKET, [pct("p", "120")], NOW)
    with pytest.raises(ValueError):
        price_basket(SHOE_BASKET, [], datetime(2025, 6, 15))
    with pytest.raises(ValueError):
        Basket("phone", ())
    with pytest.raises(ValueError):
        Basket("web", (), currency="euro")
    for bad in ({"qty": 0}, {"base_unit_price": D("-1")}, {"current_unit_price": D("1.001")}):
        with pytest.raises(ValueError):
            replace(line("A", 1, "1.00"), **bad)


def _big_case() -> tuple[Basket, list[Rule]]:
    lines = [
        line(
            f"SKU{i:03d}", 1 + i % 3, f"{10 + i}.99", f"{9 + i}.49", f"cat{i % 7}", f"brand{i % 4}"
        )
        for i in range(20)
    ]
    rules: list[Rule] = []
    for i in range(200):
        targets = (
            Targets(skus=frozenset({f"SKU{(i * 7) % 300:03d}", f"SKU{i % 20:03d}"}))
            if i % 3 == 0
            else Targets(categories=frozenset({f"cat{i % 11}"}))
        )
        kind = i % 4
        common: dict[str, Any] = {
            "priority": i % 10,
            "exclusive": i % 17 == 0,
            "stackable": i % 5 != 0,
            "loyalty_only": i % 9 == 0,
            "ends_at": NOW + timedelta(days=1 - (i % 13 == 0) * 2),
        }
        if kind == 0:
            rules.append(pct(f"R{i:03d}", str(1 + i % 30), targets, **common))
        elif kind == 1:
            rules.append(off(f"R{i:03d}", "0.50", targets, **common))
        elif kind == 2:
            rules.append(
                Rule(f"R{i:03d}", "bxgy", "buy_x_get_y", targets, buy_x=2, get_y=1, **common)
            )
        else:
            rules.append(
                Rule(
                    f"R{i:03d}", "thr", "threshold", targets, threshold=D(50), amount=D(2), **common
                )
            )
    return Basket("web", tuple(lines), loyalty_member=True), rules


def test_twenty_lines_and_two_hundred_rules_price_consistently() -> None:
    """The benchmark's case (bench/basket_pricing.py times it): many rules apply, some not, and
    a prebuilt book and a plain list of rules give the same answer."""
    items, rules = _big_case()
    result = price_basket(items, RuleBook(rules), NOW)
    assert len(result.applied) > 10 and result.not_applied
    assert price_basket(items, rules, NOW) == result
