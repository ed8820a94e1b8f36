"""Promotions over HTTP: the rules that apply now, and the admin API of basket rules and item
categories (prices and baskets: ``service.api.prices``).

The app's pricing caches (``RULES``: ``service.usecases.promotions.rulebook``; ``PRICES``:
``service.usecases.promotions.prices``) are made by ``create_app`` and kept in step with writes
made anywhere by its LISTEN task; admin writes through this process also invalidate them directly.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import POOL, PRICES, RULES, SETTINGS
from service.api.promotion_models import ActiveQuery, CategoriesIn, RuleListQuery
from service.api.routing import ANY_ROLE, Router, json_response, parse_body, parse_query
from service.domain.apikeys import Role
from service.usecases.promotions import admin as promotions
from service.usecases.promotions.admin import StoredRule
from service.usecases.promotions.model import RuleEntry, RuleFields

ADMIN: list[Role] = ["admin"]

router = Router()


# --------------------------------------------------------------------------- models
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


# --------------------------------------------------------------------------- what applies
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
    request.app[PRICES].drop_skus([sku])  # at once here; other processes on the notification
    return json_response(ItemCategoriesOut(sku=sku, categories=categories))
