from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from service.domain.errors import InvalidRule
from service.domain.promotions import (
    Rule,
    RuleBook,
    SkipReason,
    Targets,
    eligibility,
    rule_errors,
    validate_rule,
)

D = Decimal
NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)
SHOES = Targets(categories=frozenset({"shoes"}), label="Shoes")
EVERYTHING = Targets(all_items=True)

VALID = {
    "percentage": Rule("p", "20% shoes", "percentage", SHOES, percent=D(20)),
    "fixed_amount": Rule("f", "5 off", "fixed_amount", SHOES, amount=D("5.00")),
    "buy_x_get_y": Rule("b", "3 for 2", "buy_x_get_y", SHOES, buy_x=2, get_y=1),
    "threshold_amount": Rule(
        "t", "10 off 100", "threshold", EVERYTHING, threshold=D(100), amount=D(10)
    ),
    "threshold_percent": Rule(
        "u", "5% off 50", "threshold", EVERYTHING, threshold=D(50), percent=D(5)
    ),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_rules_pass(name: str) -> None:
    validate_rule(VALID[name])
    assert rule_errors(VALID[name]) == {}


@pytest.mark.parametrize(
    ("base", "changes", "field", "message"),
    [
        ("percentage", {"percent": D(-5)}, "percent", "between"),
        ("percentage", {"percent": D(0)}, "percent", "between"),
        ("percentage", {"percent": D("100.01")}, "percent", "between"),
        ("percentage", {"percent": None}, "percent", "required"),
        ("percentage", {"amount": D(5)}, "amount", "not used by percentage"),
        ("fixed_amount", {"amount": D("5.005")}, "amount", "2 decimal places"),
        ("fixed_amount", {"amount": D(0)}, "amount", ">= 0.01"),
        ("fixed_amount", {"amount": 2.5}, "amount", "decimal number"),
        ("buy_x_get_y", {"buy_x": 0}, "buy_x", "at least 1"),
        ("buy_x_get_y", {"get_y": 0}, "get_y", "at least 1"),
        ("buy_x_get_y", {"buy_x": None}, "buy_x", "required"),
        ("buy_x_get_y", {"buy_x": True}, "buy_x", "whole number"),
        ("threshold_amount", {"percent": D(5)}, "percent", "exactly one"),
        ("threshold_amount", {"amount": None}, "percent", "exactly one"),
        ("threshold_amount", {"threshold": D(-1)}, "threshold", ">= 0"),
        ("threshold_amount", {"threshold": None}, "threshold", "required"),
        ("percentage", {"kind": "bogof"}, "kind", "unknown kind"),
        ("percentage", {"channel": "phone"}, "channel", "one of"),
        ("percentage", {"id": " "}, "id", "non-empty"),
        ("percentage", {"name": ""}, "name", "non-empty"),
        ("percentage", {"targets": Targets()}, "targets", "either"),
        (
            "percentage",
            {"targets": Targets(skus=frozenset({"A"}), all_items=True)},
            "targets",
            "either",
        ),
        ("percentage", {"targets": Targets(skus=frozenset({""}))}, "targets", "non-empty"),
        ("percentage", {"store_ids": frozenset({""})}, "store_ids", "non-empty"),
        ("percentage", {"starts_at": NOW, "ends_at": NOW - timedelta(days=1)}, "ends_at", "after"),
        ("percentage", {"starts_at": NOW, "ends_at": NOW}, "ends_at", "after"),
        ("percentage", {"starts_at": datetime(2025, 1, 1)}, "starts_at", "timezone-aware"),
        ("percentage", {"priority": 1.5}, "priority", "whole number"),
        ("percentage", {"currency": "eur"}, "currency", "3-letter"),
    ],
)
def test_malformed_rules_report_the_field(
    base: str, changes: dict[str, Any], field: str, message: str
) -> None:
    rule = replace(VALID[base], **changes)
    with pytest.raises(InvalidRule) as caught:
        validate_rule(rule)
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert caught.value.rule_id == rule.id


def test_every_error_is_reported_at_once() -> None:
    rule = replace(VALID["percentage"], percent=D(150), channel="tv", targets=Targets())
    assert set(rule_errors(rule)) == {"percent", "channel", "targets"}


def _check(rule: Rule, **overrides: Any) -> SkipReason | None:
    context: dict[str, Any] = {
        "channel": "web",
        "store_id": None,
        "loyalty_member": False,
        "currency": "EUR",
        "at": NOW,
    }
    outcome = eligibility(rule, **(context | overrides))
    return None if outcome is None else outcome.reason


def test_eligibility_reasons() -> None:
    rule = VALID["percentage"]
    assert _check(rule) is None
    assert _check(replace(rule, starts_at=NOW + timedelta(seconds=1))) is SkipReason.OUTSIDE_WINDOW
    assert _check(replace(rule, ends_at=NOW)) is SkipReason.OUTSIDE_WINDOW  # end excluded
    assert (
        _check(replace(rule, starts_at=NOW, ends_at=NOW + timedelta(1))) is None
    )  # start included
    assert _check(replace(rule, channel="store")) is SkipReason.WRONG_CHANNEL
    assert _check(replace(rule, channel="store"), channel="store") is None
    assert _check(replace(rule, store_ids=frozenset({"S1"}))) is SkipReason.WRONG_STORE
    assert (
        _check(replace(rule, store_ids=frozenset({"S1"})), store_id="S2") is SkipReason.WRONG_STORE
    )
    assert _check(replace(rule, store_ids=frozenset({"S1"})), store_id="S1") is None
    assert _check(replace(rule, loyalty_only=True)) is SkipReason.LOYALTY_ONLY
    assert _check(replace(rule, loyalty_only=True), loyalty_member=True) is None
    assert _check(rule, currency="USD") is SkipReason.WRONG_CURRENCY


def test_eligibility_detail_is_plain_english() -> None:
    outcome = eligibility(
        replace(VALID["percentage"], store_ids=frozenset({"S2", "S1"})),
        channel="store",
        store_id="S3",
        loyalty_member=True,
        currency="EUR",
        at=NOW,
    )
    assert outcome is not None and outcome.detail == "only in stores S1, S2"


def test_rulebook_orders_line_rules_first_then_priority_then_id() -> None:
    rules = [
        replace(VALID["threshold_amount"], id="t-high", priority=99),
        replace(VALID["percentage"], id="p-b", priority=1),
        replace(VALID["percentage"], id="p-a", priority=1),
        replace(VALID["fixed_amount"], id="f", priority=5),
    ]
    assert [r.id for r in RuleBook(rules).rules] == ["f", "p-a", "p-b", "t-high"]


def test_rulebook_finds_rules_by_sku_category_or_all_items() -> None:
    by_sku = Rule("s", "sku", "percentage", Targets(skus=frozenset({"A"})), percent=D(10))
    by_category = Rule("c", "cat", "percentage", SHOES, percent=D(10))
    everything = Rule("e", "all", "percentage", EVERYTHING, percent=D(10))
    elsewhere = Rule("x", "other", "percentage", Targets(skus=frozenset({"Z"})), percent=D(10))
    book = RuleBook([elsewhere, everything, by_category, by_sku])
    assert len(book) == 4
    hits = book.targeting([("B", frozenset({"shoes"})), ("A", frozenset())])
    assert [(rule.id, positions) for rule, positions in hits] == [
        ("c", [0]),
        ("e", [0, 1]),
        ("s", [1]),
    ]
    assert book.targeting([]) == []


def test_rulebook_refuses_invalid_and_duplicate_rules() -> None:
    with pytest.raises(InvalidRule, match="percent"):
        RuleBook([replace(VALID["percentage"], percent=D(101))])
    with pytest.raises(InvalidRule, match="duplicate"):
        RuleBook([VALID["percentage"], replace(VALID["fixed_amount"], id="p", priority=3)])
