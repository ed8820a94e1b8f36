"""Promotion rules: their model, validation, eligibility and an index by target.

Kinds (``Rule.kind``), each with its own parameters:
- ``percentage`` (``percent``): percent off each targeted line.
- ``fixed_amount`` (``amount``): that amount off each targeted unit.
- ``buy_x_get_y`` (``buy_x``, ``get_y``): for every ``buy_x + get_y`` targeted units, the
  ``get_y`` cheapest units (over all targeted lines) are free.
- ``threshold`` (``threshold`` and one of ``percent`` / ``amount``): when the targeted lines add
  up to at least ``threshold``, that percent or amount off them (a basket-level rule).

Conditions: ``loyalty_only``, ``channel`` (``web``, ``store`` or ``both``), ``store_ids`` (empty
means every store; a basket without a store never matches a store list), and a window
``starts_at <= at < ends_at`` (either end open when None). ``Targets`` name SKUs and/or
categories, or ``all_items``. How rules combine is the pricing engine's business
(``service.domain.pricing``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from service.domain.errors import InvalidRule


class RuleKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    BUY_X_GET_Y = "buy_x_get_y"
    THRESHOLD = "threshold"


CHANNELS = ("web", "store", "both")
_PARAMETERS = ("percent", "amount", "buy_x", "get_y", "threshold")
_USES: dict[str, frozenset[str]] = {
    RuleKind.PERCENTAGE: frozenset({"percent"}),
    RuleKind.FIXED_AMOUNT: frozenset({"amount"}),
    RuleKind.BUY_X_GET_Y: frozenset({"buy_x", "get_y"}),
    RuleKind.THRESHOLD: frozenset({"threshold", "percent", "amount"}),
}


class SkipReason(StrEnum):
    OUTSIDE_WINDOW = "outside_window"
    WRONG_CHANNEL = "wrong_channel"
    WRONG_STORE = "wrong_store"
    WRONG_CURRENCY = "wrong_currency"
    LOYALTY_ONLY = "loyalty_members_only"
    NOT_ENOUGH_ITEMS = "not_enough_items"
    THRESHOLD_NOT_REACHED = "threshold_not_reached"
    BLOCKED_BY_EXCLUSIVE = "blocked_by_exclusive_rule"
    NOT_STACKABLE = "not_stackable"
    NOTHING_LEFT = "nothing_left_to_discount"


@dataclass(frozen=True, slots=True)
class NotApplied:
    """A rule that targets something in the basket but gave no discount, and why."""

    rule_id: str
    reason: SkipReason
    detail: str


@dataclass(frozen=True, slots=True)
class Targets:
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    all_items: bool = False
    label: str = ""  # how explanations name the targets, e.g. "Shoes"

    def matches(self, sku: str, categories: frozenset[str]) -> bool:
        return self.all_items or sku in self.skus or not self.categories.isdisjoint(categories)

    def describe(self) -> str:
        return self.label or ("everything" if self.all_items else "selected items")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    kind: str
    targets: Targets
    percent: Decimal | None = None
    amount: Decimal | None = None
    buy_x: int | None = None
    get_y: int | None = None
    threshold: Decimal | None = None
    currency: str = "EUR"
    loyalty_only: bool = False
    channel: str = "both"
    store_ids: frozenset[str] = field(default_factory=frozenset)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 0
    exclusive: bool = False
    stackable: bool = True

    @property
    def basket_level(self) -> bool:
        return self.kind == RuleKind.THRESHOLD


# --------------------------------------------------------------------------- validation
def _decimal_error(value: object, *, low: Decimal, high: Decimal | None, cents: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return "must be a decimal number"
    number = Decimal(value)
    if not number.is_finite() or number < low or (high is not None and number > high):
        return f"must be between {low} and {high}" if high is not None else f"must be >= {low}"
    if cents and number != number.quantize(Decimal("0.01")):
        return "must have at most 2 decimal places"
    return ""


def _parameter_errors(rule: Rule) -> dict[str, str]:
    uses = _USES[rule.kind]
    errors = {
        name: f"not used by {rule.kind} rules"
        for name in _PARAMETERS
        if name not in uses and getattr(rule, name) is not None
    }
    required = uses - {"percent", "amount"} if rule.kind == RuleKind.THRESHOLD else uses
    errors |= {name: "required" for name in required if getattr(rule, name) is None}
    if rule.kind == RuleKind.THRESHOLD and (rule.percent is None) == (rule.amount is None):
        errors["percent"] = "a threshold rule needs exactly one of percent or amount"
    checks = {
        "percent": (Decimal("0.01"), Decimal(100), False),
        "amount": (Decimal("0.01"), None, True),
        "threshold": (Decimal(0), None, True),
    }
    for name, (low, high, cents) in checks.items():
        value = getattr(rule, name)
        problem = "" if value is None else _decimal_error(value, low=low, high=high, cents=cents)
        if value is not None and name not in errors and problem:
            errors[name] = problem
    for name in ("buy_x", "get_y"):
        value = getattr(rule, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            errors[name] = "must be a whole number"
        elif value is not None and value < 1:
            errors[name] = "must be at least 1"
    return errors


def _target_errors(targets: Targets) -> dict[str, str]:
    specific = targets.skus | targets.categories
    if targets.all_items == bool(specific):
        return {"targets": "give either all_items or at least one SKU or category, not both"}
    if any(not isinstance(t, str) or not t.strip() for t in specific):
        return {"targets": "SKUs and categories must be non-empty strings"}
    return {}


def _condition_errors(rule: Rule) -> dict[str, str]:
    errors: dict[str, str] = {}
    if rule.channel not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}"
    if any(not isinstance(s, str) or not s.strip() for s in rule.store_ids):
        errors["store_ids"] = "store ids must be non-empty strings"
    for name in ("starts_at", "ends_at"):
        value = getattr(rule, name)
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            errors[name] = "must be a timezone-aware datetime"
    window_ok = not errors.keys() & {"starts_at", "ends_at"}
    if window_ok and rule.starts_at and rule.ends_at and rule.ends_at <= rule.starts_at:
        errors["ends_at"] = "must be after starts_at"
    if isinstance(rule.priority, bool) or not isinstance(rule.priority, int):
        errors["priority"] = "must be a whole number"
    currency = rule.currency
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = "must be a 3-letter ISO code"
    return errors


def rule_errors(rule: Rule) -> dict[str, str]:
    """Every problem with ``rule``, by field (empty when the rule is valid)."""
    errors: dict[str, str] = {}
    for name in ("id", "name"):
        if not isinstance(getattr(rule, name), str) or not getattr(rule, name).strip():
            errors[name] = "must be a non-empty string"
    if rule.kind in _USES:
        errors |= _parameter_errors(rule)
    else:
        errors["kind"] = f"unknown kind {rule.kind!r}; expected one of {', '.join(RuleKind)}"
    return errors | _target_errors(rule.targets) | _condition_errors(rule)


def validate_rule(rule: Rule) -> None:
    """Raise ``InvalidRule`` with every field error when ``rule`` is malformed."""
    if errors := rule_errors(rule):
        raise InvalidRule(str(rule.id), errors)


# --------------------------------------------------------------------------- eligibility
def eligibility(
    rule: Rule,
    *,
    channel: str,
    store_id: str | None,
    loyalty_member: bool,
    currency: str,
    at: datetime,
) -> NotApplied | None:
    """Why ``rule`` cannot apply to this basket at all (None when it may)."""
    if (rule.starts_at and at < rule.starts_at) or (rule.ends_at and at >= rule.ends_at):
        window = f"{rule.starts_at or '...'} to {rule.ends_at or '...'}"
        return NotApplied(rule.id, SkipReason.OUTSIDE_WINDOW, f"valid from {window}")
    if rule.channel not in ("both", channel):
        return NotApplied(rule.id, SkipReason.WRONG_CHANNEL, f"only for {rule.channel} sales")
    if rule.store_ids and store_id not in rule.store_ids:
        stores = ", ".join(sorted(rule.store_ids))
        return NotApplied(rule.id, SkipReason.WRONG_STORE, f"only in stores {stores}")
    if rule.loyalty_only and not loyalty_member:
        return NotApplied(rule.id, SkipReason.LOYALTY_ONLY, "for loyalty members only")
    if rule.currency != currency:
        return NotApplied(rule.id, SkipReason.WRONG_CURRENCY, f"priced in {rule.currency}")
    return None


# --------------------------------------------------------------------------- index
class RuleBook:
    """Validated rules in application order, indexed by SKU and category.

    Order: line-level rules before basket-level ones, then priority (highest first), then id.
    Build it once per set of rules; pricing a basket then only looks at rules that target it.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        ordered = sorted(rules, key=lambda r: (r.basket_level, -r.priority, r.id))
        for rule in ordered:
            validate_rule(rule)
        seen: set[str] = set()
        for rule in ordered:
            if rule.id in seen:
                raise InvalidRule(rule.id, {"id": "duplicate rule id"})
            seen.add(rule.id)
        self.rules: tuple[Rule, ...] = tuple(ordered)
        # Windows in UTC: comparing datetimes of one tzinfo is much cheaper (``considered``).
        self._windows = [(_utc(r.starts_at), _utc(r.ends_at)) for r in self.rules]
        # (rule id, currency) -> the pricing engine's explanation, memoised by the engine.
        self.explanations: dict[tuple[str, str], str] = {}
        self._everywhere: list[int] = []
        self._by_sku: dict[str, list[int]] = {}
        self._by_category: dict[str, list[int]] = {}
        for position, rule in enumerate(self.rules):
            if rule.targets.all_items:
                self._everywhere.append(position)
            for sku in rule.targets.skus:
                self._by_sku.setdefault(sku, []).append(position)
            for category in rule.targets.categories:
                self._by_category.setdefault(category, []).append(position)

    def __len__(self) -> int:
        return len(self.rules)

    def targeting(
        self, items: Sequence[tuple[str, frozenset[str]]]
    ) -> list[tuple[Rule, list[int]]]:
        """Rules targeting any of ``items`` ((sku, categories)), in order, with item positions."""
        return [(self.rules[p], targeted) for p, targeted in self._hits(items)]

    def considered(
        self,
        items: Sequence[tuple[str, frozenset[str]]],
        *,
        channel: str,
        store_id: str | None,
        loyalty_member: bool,
        currency: str,
        at: datetime,
    ) -> list[tuple[Rule, list[int], NotApplied | None]]:
        """``targeting``, with each rule's ``eligibility`` for a basket (None: it may apply).

        The common case, a rule that may apply, is decided here without building a reason."""
        at_utc = at.astimezone(UTC)
        found: list[tuple[Rule, list[int], NotApplied | None]] = []
        for position, targeted in self._hits(items):
            rule = self.rules[position]
            starts, ends = self._windows[position]
            if (
                (starts is None or starts <= at_utc)
                and (ends is None or at_utc < ends)
                and (rule.channel == "both" or rule.channel == channel)
                and (not rule.store_ids or store_id in rule.store_ids)
                and (loyalty_member or not rule.loyalty_only)
                and rule.currency == currency
            ):
                found.append((rule, targeted, None))
                continue
            why = eligibility(
                rule,
                channel=channel,
                store_id=store_id,
                loyalty_member=loyalty_member,
                currency=currency,
                at=at,
            )
            found.append((rule, targeted, why))
        return found

    def _hits(self, items: Sequence[tuple[str, frozenset[str]]]) -> list[tuple[int, list[int]]]:
        """Positions of the rules targeting any of ``items``, in order, with item positions."""
        hits: dict[int, list[int]] = {}
        by_sku, by_category = self._by_sku, self._by_category
        for index, (sku, categories) in enumerate(items):
            found = by_sku.get(sku, [])
            for category in categories:
                found = found + by_category.get(category, [])
            for position in found:
                targeted = hits.get(position)
                if targeted is None:
                    hits[position] = [index]
                elif targeted[-1] != index:  # indexes grow: a repeat can only be the last one
                    targeted.append(index)
        if items and self._everywhere:
            every = list(range(len(items)))
            for position in self._everywhere:
                hits[position] = every.copy()
        return [(p, hits[p]) for p in sorted(hits)]


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)
