"""Prices over HTTP: an item's store price, and a basket priced by the promotions engine.

Money is a decimal string with the answer's ``currency``. Baskets are priced from the app's
pricing caches (``RULES``, ``PRICES``: see ``service.api.promotions``); a single price is read from
``store_prices`` every time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from service.api.appkeys import POOL, PRICES, RULES, SETTINGS
from service.api.availability import ItemOut
from service.api.promotion_models import BasketIn, PriceQuery
from service.api.routing import (
    ANY_ROLE,
    Router,
    data_response,
    json_response,
    parse_body,
    parse_query,
)
from service.domain.pricing import PricedLine
from service.usecases.promotions.pricing import BasketQuote, PriceRow, quote_basket, store_price

ROUNDING = (
    "Decimal string, 2 decimals. Line-level discounts are rounded ROUND_HALF_UP to the cent per "
    "line; a basket-level (threshold) discount is computed on the targeted subtotal, rounded "
    "ROUND_HALF_UP, then split over its lines pro rata in whole cents (largest remainders get "
    "the leftover cents). No line goes below zero."
)

router = Router()


# --------------------------------------------------------------------------- models
class MarkdownOut(BaseModel):
    amount: Decimal = Field(description="base_price - current_price, decimal string.")
    percent: Decimal = Field(description="As Cegid's price engine reports it.")
    reason: str


class PriceOut(BaseModel):
    item: ItemOut
    store_id: str
    currency: str
    base_price: Decimal = Field(description="Decimal string.")
    current_price: Decimal = Field(description="Base price less the store markdown.")
    markdown: MarkdownOut
    as_of: datetime = Field(description="When the price was synced from Cegid.")


class _Answer(BaseModel):
    """The basket answer is built as plain JSON (``basket_json``); tests validate it here."""

    model_config = ConfigDict(extra="forbid")


class DiscountOut(_Answer):
    rule_id: str
    amount: Decimal = Field(description=ROUNDING)
    explanation: str


class BasketLineOut(_Answer):
    line: int
    item: ItemOut
    quantity: int
    unit_base_price: Decimal = Field(description="From Cegid's price engine.")
    unit_current_price: Decimal = Field(description="Unit base price less the markdown.")
    markdown_reason: str
    base: Decimal = Field(description="unit_base_price x quantity.")
    current: Decimal = Field(description="unit_current_price x quantity.")
    markdown: Decimal = Field(description="base - current.")
    discounts: list[DiscountOut] = Field(description="In the order the rules ran.")
    net: Decimal = Field(description="current - discounts; never below zero.")


class TotalsOut(_Answer):
    subtotal_base: Decimal = Field(description="Sum of line bases.")
    markdowns: Decimal = Field(description="Sum of store markdowns.")
    discounts: Decimal = Field(description="Sum of rule discounts. " + ROUNDING)
    total: Decimal = Field(description="subtotal_base - markdowns - discounts = sum of nets.")


class AppliedOut(_Answer):
    rule_id: str
    name: str
    amount: Decimal = Field(description="What the rule took off, over all lines.")
    explanation: str


class NotAppliedOut(_Answer):
    rule_id: str
    reason: str = Field(
        description="Stable code, e.g. threshold_not_reached, loyalty_members_only."
    )
    detail: str


class BasketOut(_Answer):
    """A priced basket. Stacking: line-level rules (percentage, fixed amount, buy X get Y) run
    before threshold rules, each group by priority (highest first) then rule id; each rule sees
    the nets left by the earlier ones; an exclusive rule's lines get no later discount; a
    non-stackable rule only takes lines no earlier rule discounted. The same basket and rules
    give the same answer whatever the order of the lines."""

    channel: str
    store_id: str | None
    price_list: str = Field(description="Whose store prices were used (the web store for web).")
    currency: str
    loyalty_member: bool
    priced_at: datetime = Field(description="Rules are applied as of this instant.")
    lines: list[BasketLineOut] = Field(description="In the request's order.")
    totals: TotalsOut
    applied: list[AppliedOut] = Field(description="In the order the engine ran them.")
    not_applied: list[NotAppliedOut] = Field(
        description="Rules targeting the basket that gave no discount, and why."
    )
    rules_version: int = Field(description="In-process version of the cached rule book.")


# --------------------------------------------------------------------------- basket answer
def _line(n: int, item: Any, price: PriceRow, p: PricedLine) -> dict[str, Any]:
    base, current = p.base.amount, p.current.amount
    return {
        "line": n,
        "item": item,  # a ResolvedItem: its fields are ItemOut's, in the same order
        "quantity": p.qty,
        "unit_base_price": str(price.base_price),
        "unit_current_price": str(price.current_price),
        "markdown_reason": price.markdown_reason,
        "base": str(base),
        "current": str(current),
        "markdown": str(base - current),
        "discounts": [
            {"rule_id": d.rule_id, "amount": str(d.amount.amount), "explanation": d.explanation}
            for d in p.discounts
        ],
        "net": str(p.net.amount),
    }


def basket_json(q: BasketQuote, body: BasketIn) -> dict[str, Any]:
    """The ``BasketOut`` answer as JSON values for orjson (which writes the dataclass items as
    objects and the enum reasons as their values), built directly: a basket has a few hundred
    amounts, and building or validating models for them would cost more than pricing it."""
    r = q.result
    rows = zip(q.items, q.prices, r.lines, strict=True)
    return {
        "channel": body.channel,
        "store_id": q.store_id,
        "price_list": q.price_list,
        "currency": r.currency,
        "loyalty_member": body.customer.loyalty_member,
        "priced_at": q.priced_at.isoformat().replace("+00:00", "Z"),
        "lines": [_line(n, *row) for n, row in enumerate(rows)],
        "totals": {
            "subtotal_base": str(r.subtotal_base.amount),
            "markdowns": str(r.markdowns.amount),
            "discounts": str(r.discounts.amount),
            "total": str(r.total.amount),
        },
        "applied": [
            {
                "rule_id": a.rule_id,
                "name": a.name,
                "amount": str(a.amount.amount),
                "explanation": a.explanation,
            }
            for a in r.applied
        ],
        "not_applied": [
            {"rule_id": s.rule_id, "reason": s.reason, "detail": s.detail}  # a str enum
            for s in r.not_applied
        ],
        "rules_version": q.rules_version,
    }


# --------------------------------------------------------------------------- routes
@router.route(
    "GET",
    "/v1/prices",
    name="get_price",
    tags=["prices"],
    summary="Base and current price of one item in a store, with its markdown",
    roles=ANY_ROLE,
    query=PriceQuery,
    responses={200: PriceOut},
    problems=[404, 409],
)
async def get_price(request: web.Request) -> web.Response:
    q = parse_query(request, PriceQuery)
    web_store = request.app[SETTINGS].web_store_id
    item, p = await store_price(request.app[POOL], q.lookup(), q.store, web_store_id=web_store)
    markdown = MarkdownOut(
        amount=p.base_price - p.current_price, percent=p.discount_percent, reason=p.markdown_reason
    )
    return json_response(
        PriceOut(
            item=ItemOut.of(item),
            store_id=q.store,
            currency=p.currency,
            base_price=p.base_price,
            current_price=p.current_price,
            markdown=markdown,
            as_of=p.as_of,
        )
    )


@router.route(
    "POST",
    "/v1/baskets/price",
    name="price_basket",
    tags=["prices"],
    summary="Price a basket: store markdowns, then basket rules, each discount explained",
    roles=ANY_ROLE,
    body=BasketIn,
    responses={200: BasketOut},
    problems=[404, 409],
)
async def post_basket_price(request: web.Request) -> web.Response:
    body = await parse_body(request, BasketIn)
    quote = await quote_basket(
        request.app[POOL],
        request.app[RULES],
        body.query(),
        web_store_id=request.app[SETTINGS].web_store_id,
        prices=request.app[PRICES],
    )
    return data_response(basket_json(quote, body))
