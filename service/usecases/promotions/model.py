"""The input shape of promotion rules and of a promotions import, validated once for the admin
API and the CLI.

Pydantic checks types and sizes; what a rule means (which parameters a kind uses, their ranges,
the channel, the window...) is checked by ``service.domain.promotions.rule_errors`` alone, and its
errors come back as field errors like pydantic's. A rule is stored as ``RuleFields`` JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_serializer,
)

from service.domain.identifiers import normalise_sku
from service.domain.promotions import Rule, Targets, rule_errors
from service.errors import InvalidInput
from service.usecases.catalog.store_model import StoreCode, field_errors

RuleId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
    ),
    Field(description="Letters, digits, '_', '.', ':', '-'.", examples=["SUMMER-SHOES-20"]),
]
Sku = Annotated[str, AfterValidator(normalise_sku)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Categories = Annotated[list[Category], Field(max_length=50)]
_RULE_ID: TypeAdapter[str] = TypeAdapter(RuleId)
_SKU: TypeAdapter[str] = TypeAdapter(Sku)
_CATEGORIES: TypeAdapter[list[str]] = TypeAdapter(Categories)


class TargetsIn(BaseModel):
    """What a rule discounts: ``all_items``, or some SKUs and/or categories."""

    model_config = ConfigDict(extra="forbid")

    skus: list[Sku] = Field(default_factory=list, max_length=10_000)
    categories: list[Category] = Field(default_factory=list, max_length=1000)
    all_items: bool = False
    label: str = Field(
        default="", max_length=100, description="How explanations name the targets, e.g. 'Shoes'."
    )


class RuleFields(BaseModel):
    """A basket rule (create/replace). ``id`` is optional here: the path names the rule, and an
    ``id`` in the body must agree with it. Amounts are decimal strings (numbers are accepted)."""

    model_config = ConfigDict(extra="forbid")

    id: RuleId | None = None
    name: str = Field(max_length=200, description="Shown to shoppers next to the discount.")
    kind: str = Field(
        max_length=32,
        description="percentage (percent), fixed_amount (amount off each unit), buy_x_get_y "
        "(buy_x, get_y: the get_y cheapest of every buy_x + get_y units are free), threshold "
        "(threshold, and one of percent or amount, off the targeted lines once they add up to "
        "threshold).",
        examples=["percentage"],
    )
    targets: TargetsIn
    percent: Decimal | None = Field(default=None, max_digits=15, description="0.01 to 100.")
    amount: Decimal | None = Field(
        default=None, max_digits=15, description="> 0, at most 2 decimals."
    )
    buy_x: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    get_y: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    threshold: Decimal | None = Field(
        default=None, max_digits=15, description=">= 0, at most 2 decimals."
    )
    currency: str = Field(default="EUR", max_length=16, description="ISO 4217 code.")
    loyalty_only: bool = False
    channel: str = Field(default="both", max_length=8, description="web, store or both.")
    store_ids: list[StoreCode] = Field(
        default_factory=list, max_length=1000, description="Empty: every store."
    )
    starts_at: datetime | None = Field(default=None, description="Inclusive, with a zone.")
    ends_at: datetime | None = Field(default=None, description="Exclusive, with a zone.")
    priority: int = Field(
        default=0, ge=-1_000_000, le=1_000_000, description="Higher runs first within its group."
    )
    exclusive: bool = Field(
        default=False, description="Lines it discounts get no later rule's discount."
    )
    stackable: bool = Field(
        default=True, description="False: only lines no earlier rule discounted."
    )

    @field_serializer("percent", "amount", "threshold")
    def _plain_decimal(self, value: Decimal | None) -> str | None:
        return None if value is None else format(value, "f")

    def to_rule(self, rule_id: str) -> Rule:
        t = self.targets
        return Rule(
            id=rule_id,
            name=self.name,
            kind=self.kind,
            targets=Targets(frozenset(t.skus), frozenset(t.categories), t.all_items, t.label),
            percent=self.percent,
            amount=self.amount,
            buy_x=self.buy_x,
            get_y=self.get_y,
            threshold=self.threshold,
            currency=self.currency,
            loyalty_only=self.loyalty_only,
            channel=self.channel,
            store_ids=frozenset(self.store_ids),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            priority=self.priority,
            exclusive=self.exclusive,
            stackable=self.stackable,
        )

    def stored(self) -> dict[str, Any]:
        """The fields as stored (JSON, without the id)."""
        return self.model_dump(mode="json", exclude={"id"})


class RuleEntry(RuleFields):
    """A rule in an import file or read back from the database: ``id`` is required."""

    id: RuleId


def _domain_errors(rule: Rule, prefix: Sequence[str | int]) -> list[dict[str, Any]]:
    return [
        {"loc": [*prefix, name], "msg": why, "type": "invalid_rule"}
        for name, why in sorted(rule_errors(rule).items())
    ]


def rule_id_of(raw: str) -> str:
    """A valid rule id from a path, or 422."""
    try:
        return _RULE_ID.validate_python(raw)
    except ValidationError as exc:
        raise InvalidInput("the rule id is invalid", field_errors(exc, ["rule_id"])) from None


def checked_rule(rule_id: str, fields: RuleFields) -> Rule:
    """The domain rule, or 422 with every field error the domain finds."""
    if fields.id is not None and fields.id != rule_id:
        msg = f"the body names rule {fields.id!r} but the path names {rule_id!r}"
        raise InvalidInput(msg, [{"loc": ["id"], "msg": msg, "type": "mismatch"}])
    rule = fields.to_rule(rule_id)
    if errors := _domain_errors(rule, []):
        raise InvalidInput(f"promotion rule {rule_id!r} is invalid", errors)
    return rule


def sku_of(raw: str) -> str:
    try:
        return _SKU.validate_python(raw)
    except ValidationError as exc:
        raise InvalidInput("the SKU is invalid", field_errors(exc, ["sku"])) from None


# --------------------------------------------------------------------------- import files
@dataclass(frozen=True, slots=True)
class PromotionImport:
    """A promotions import file: rules (create/replace) and item categories (replace per SKU).

    ``{"rules": [{"id": "SUMMER", "name": ..., "kind": ..., ...}],
    "item_categories": {"SKU-1": ["shoes"]}}``
    """

    rules: tuple[RuleEntry, ...]
    item_categories: Mapping[str, tuple[str, ...]]

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]


def _rule_entries(raw: Any) -> tuple[list[RuleEntry], list[dict[str, Any]]]:
    if not isinstance(raw, list):
        return [], [{"loc": ["rules"], "msg": "must be a list of rules", "type": "list_type"}]
    entries: list[RuleEntry] = []
    errors: list[dict[str, Any]] = []
    first: dict[str, int] = {}
    for index, item in enumerate(raw):
        given = item.get("id") if isinstance(item, dict) else None
        tag = {"rule_id": given} if isinstance(given, str) else {}
        try:
            entry = RuleEntry.model_validate(item)
        except ValidationError as exc:
            errors += [{**e, **tag} for e in field_errors(exc, ["rules", index])]
            continue
        errors += [{**e, **tag} for e in _domain_errors(entry.to_rule(entry.id), ["rules", index])]
        seen = first.setdefault(entry.id, index)
        if seen != index:
            msg = f"rule {entry.id!r} is also rules[{seen}]"
            errors.append({"loc": ["rules", index, "id"], "msg": msg, "type": "duplicate", **tag})
        entries.append(entry)
    return entries, errors


def _categories(raw: Any) -> tuple[dict[str, tuple[str, ...]], list[dict[str, Any]]]:
    if not isinstance(raw, dict):
        msg = "must be an object: SKU -> list of categories"
        return {}, [{"loc": ["item_categories"], "msg": msg, "type": "dict_type"}]
    found: dict[str, tuple[str, ...]] = {}
    errors: list[dict[str, Any]] = []
    for key, cats in raw.items():
        try:
            sku = _SKU.validate_python(key)
            found[sku] = tuple(sorted(set(_CATEGORIES.validate_python(cats))))
        except ValidationError as exc:
            errors += field_errors(exc, ["item_categories", key])
    return found, errors


def read_import(data: Any) -> PromotionImport:
    """Validate a whole import document: 422 with every error (``loc`` from the document root,
    ``rule_id`` on errors of a rule that has one)."""
    if not isinstance(data, dict):
        raise InvalidInput("the import must be a JSON object with 'rules' and 'item_categories'")
    unknown = sorted(set(data) - {"rules", "item_categories"})
    errors = [{"loc": [k], "msg": "unknown member", "type": "extra_forbidden"} for k in unknown]
    entries, rule_errs = _rule_entries(data.get("rules", []))
    categories, category_errs = _categories(data.get("item_categories", {}))
    errors += rule_errs + category_errs
    if errors:
        raise InvalidInput("the promotions import is invalid; nothing was written", errors)
    return PromotionImport(rules=tuple(entries), item_categories=categories)
