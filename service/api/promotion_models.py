"""Request models of the price, basket and promotion endpoints (they drive validation and
OpenAPI), and what the use cases take from them.

Amounts are never taken from the caller: prices come from ``store_prices``. The rule shapes
(``RuleFields``, ``RuleEntry``) stay in ``service.usecases.promotions.model``: the import file
of the CLI takes them too.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain.limits import PG_INT_MAX
from service.usecases.catalog.identifiers import ItemLookup
from service.usecases.catalog.store_model import StoreCode
from service.usecases.promotions.model import Categories
from service.usecases.promotions.pricing import BasketQuery


class ItemKeysIn(BaseModel):
    """Exactly one of sku, ean, ps_product (+ ps_attribute), reference names the item."""

    sku: str | None = Field(default=None, max_length=64)
    ean: str | None = Field(default=None, max_length=32)
    ps_product: int | None = Field(default=None, ge=1, le=PG_INT_MAX)
    ps_attribute: int | None = Field(default=None, ge=0, le=PG_INT_MAX)
    reference: str | None = Field(default=None, max_length=128)

    def lookup(self) -> ItemLookup:
        return ItemLookup(self.sku, self.ean, self.ps_product, self.ps_attribute, self.reference)


class PriceQuery(ItemKeysIn):
    store: StoreCode = Field(description="Store code, or the web store's code for web prices.")


class BasketLineIn(ItemKeysIn):
    quantity: int = Field(default=1, ge=1, le=10_000)


class CustomerIn(BaseModel):
    loyalty_member: bool = Field(default=False, description="Loyalty-only rules need it.")


class BasketIn(BaseModel):
    channel: Literal["web", "store"]
    store_id: StoreCode | None = Field(
        default=None,
        description="Required for store baskets. A web basket without it is priced from the "
        "web price list (the web store's prices, OMNISTOCK_WEB_STORE_ID).",
    )
    customer: CustomerIn = Field(default_factory=CustomerIn)
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Default: the price list's currency."
    )
    lines: list[BasketLineIn] = Field(min_length=1, max_length=200)

    def query(self) -> BasketQuery:
        return BasketQuery(
            channel=self.channel,
            lookups=[line.lookup() for line in self.lines],
            quantities=[line.quantity for line in self.lines],
            store_id=self.store_id,
            loyalty_member=self.customer.loyalty_member,
            currency=self.currency,
        )


class ActiveQuery(BaseModel):
    channel: Literal["web", "store"] = "web"
    store: StoreCode | None = Field(default=None, description="Required for channel=store.")

    @model_validator(mode="after")
    def _store_for_store_channel(self) -> Self:
        if self.channel == "store" and self.store is None:
            raise ValueError("channel=store needs store")
        return self


class RuleListQuery(BaseModel):
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class CategoriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: Categories = Field(description="Replaces the item's categories; [] clears them.")
