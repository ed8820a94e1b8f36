"""Prices and promotions over HTTP: an item's store price, basket pricing, the rules that apply
now, and the admin API of basket rules and item categories.

Money is a decimal string with the answer's ``currency``. The active rule book is cached in
process (``RULES``, see ``service.usecases.promo_rulebook``); admin writes invalidate it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from service.api.appkeys import POOL, SETTINGS
from service.api.availability import ItemOut
from service.api.routing import ANY_ROLE, Router, json_response, parse_body, parse_query
from service.domain.apikeys import Role
from service.domain.pricing import PricedLine
from service.usecases import promotions
from service.usecases.identifiers import ResolvedItem
from service.usecases.promo_model import CategoriesIn, RuleEntry, RuleFields
from service.usecases.promo_pricing import BasketQuote, quote_basket, store_price
from service.usecases.promo_requests import ActiveQuery, BasketIn, PriceQuery, RuleListQuery
from service.usecases.promo_rulebook import RuleCache
from stores.promotions import PriceRow, StoredRule

RULES = web.AppKey("promotion_rules", RuleCache)
ADMIN: list[Role] = ["admin"]
ROUNDING = (
    "Decimal string, 2 decimals. Line-level discounts are rounded ROUND_HALF_UP to the cent per "
    "line; a basket-level (threshold) discount is computed on the targeted subtotal, rounded "
    "ROUND_HALF_UP, then split over its lines pro rata in whole cents (largest remainders get "
    "the leftover cents). No line goes below zero."
)


class PromotionsRouter(Router):
    """Also gives the app its rule cache when it installs the routes."""

    def install(self, app: web.Application) -> None:
        super().install(app)
        app[RULES] = RuleCache()


router = PromotionsRouter()


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


class RuleOut(RuleEntry):
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: StoredRule) -> RuleOut:
        data = {**s.rule, "id": s.rule_id, "created_at": s.created_at, "updated_at": s.updated_at}
        return cls.model_validate(data)


class RuleList(BaseModel):
    items: list[RuleOut]
    next_cursor: str | None = Field(description="Pass as 'cursor' for the next page; null: end.")


class ActiveRuleOut(RuleEntry):
    description: str = Field(description="What the rule gives, in the engine's words.")


class ActiveList(BaseModel):
    channel: str
    store_id: str | None
    items: list[ActiveRuleOut] = Field(description="In the order the engine runs them.")


class ItemCategoriesOut(BaseModel):
    sku: str
    categories: list[str]


def _item(i: ResolvedItem) -> dict[str, Any]:
    return {
        "sku": i.sku,
        "ean": i.ean,
        "ps_product_id": i.ps_product_id,
        "ps_attribute_id": i.ps_attribute_id,
        "reference": i.reference,
        "resolved_by": i.resolved_by,
    }


def _line(n: int, item: ResolvedItem, price: PriceRow, p: PricedLine) -> dict[str, Any]:
    return {
        "line": n,
        "item": _item(item),
        "quantity": p.qty,
        "unit_base_price": str(price.base_price),
        "unit_current_price": str(price.current_price),
        "markdown_reason": price.markdown_reason,
        "base": str(p.base.amount),
        "current": str(p.current.amount),
        "markdown": str(p.markdown.amount),
        "discounts": [
            {"rule_id": d.rule_id, "amount": str(d.amount.amount), "explanation": d.explanation}
            for d in p.discounts
        ],
        "net": str(p.net.amount),
    }


def basket_json(q: BasketQuote, body: BasketIn) -> dict[str, Any]:
    """The ``BasketOut`` answer as JSON values, built directly: a basket has a few hundred
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
            {"rule_id": s.rule_id, "reason": s.reason.value, "detail": s.detail}
            for s in r.not_applied
        ],
        "rules_version": q.rules_version,
    }


# --------------------------------------------------------------------------- prices, baskets
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
    )
    return web.json_response(basket_json(quote, body))


@router.route(
    "GET",
    "/v1/promotions",
    name="active_promotions",
    tags=["promotions"],
    summary="Basket rules that apply now on a channel, in a store",
    roles=ANY_ROLE,
    query=ActiveQuery,
    responses={200: ActiveList},
    problems=[404],
)
async def get_active_promotions(request: web.Request) -> web.Response:
    q = parse_query(request, ActiveQuery)
    found = await promotions.active_promotions(
        request.app[POOL],
        request.app[RULES],
        channel=q.channel,
        store_id=q.store,
        web_store_id=request.app[SETTINGS].web_store_id,
    )
    items = [
        ActiveRuleOut.model_validate({**a.entry.model_dump(), "description": a.description})
        for a in found
    ]
    return json_response(ActiveList(channel=q.channel, store_id=q.store, items=items))


# --------------------------------------------------------------------------- admin
@router.route(
    "GET",
    "/v1/admin/promotions",
    name="list_promotion_rules",
    tags=["promotions"],
    summary="Every basket rule, by id",
    roles=ADMIN,
    query=RuleListQuery,
    responses={200: RuleList},
)
async def list_rules(request: web.Request) -> web.Response:
    q = parse_query(request, RuleListQuery)
    page = await promotions.list_rules(request.app[POOL], cursor=q.cursor, limit=q.limit)
    items = [RuleOut.of(r) for r in page.items]
    return json_response(RuleList(items=items, next_cursor=page.next_cursor))


@router.route(
    "PUT",
    "/v1/admin/promotions/{rule_id}",
    name="put_promotion_rule",
    tags=["promotions"],
    summary="Create or replace a basket rule",
    roles=ADMIN,
    body=RuleFields,
    responses={200: RuleOut, 201: RuleOut},
)
async def put_rule(request: web.Request) -> web.Response:
    body = await parse_body(request, RuleFields)
    stored, created = await promotions.put_rule(
        request.app[POOL], request.match_info["rule_id"], body
    )
    request.app[RULES].invalidate()
    return json_response(RuleOut.of(stored), 201 if created else 200)


@router.route(
    "DELETE",
    "/v1/admin/promotions/{rule_id}",
    name="delete_promotion_rule",
    tags=["promotions"],
    summary="Delete a basket rule",
    roles=ADMIN,
    responses={204: None},
    problems=[404],
)
async def delete_rule(request: web.Request) -> web.Response:
    await promotions.delete_rule(request.app[POOL], request.match_info["rule_id"])
    request.app[RULES].invalidate()
    return web.Response(status=204)


@router.route(
    "PUT",
    "/v1/admin/items/{sku}/categories",
    name="put_item_categories",
    tags=["promotions"],
    summary="Replace the categories an item has for basket rules",
    roles=ADMIN,
    body=CategoriesIn,
    responses={200: ItemCategoriesOut},
    problems=[404],
)
async def put_categories(request: web.Request) -> web.Response:
    body = await parse_body(request, CategoriesIn)
    sku, categories = await promotions.set_item_categories(
        request.app[POOL], request.match_info["sku"], body.categories
    )
    return json_response(ItemCategoriesOut(sku=sku, categories=categories))
