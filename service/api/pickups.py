"""Pickups over HTTP: the storefront creates and cancels; store staff prepare and hand over."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import METRICS, PICKUP_SETTINGS, POOL, READER
from service.api.auth import principal_of, require_store_access
from service.api.routing import Router, data_response, parse_body, parse_query
from service.domain.apikeys import Principal, Role
from service.domain.limits import PG_INT_MAX
from service.domain.pickups import Actor, ActorKind, PickupEvent, PickupStateName, person_name
from service.usecases.catalog.identifiers import ItemLookup
from service.usecases.idempotency import Idempotency, check_key
from service.usecases.pickups import flow as pickup_flow
from service.usecases.pickups.create import (
    NewLine,
    NewPickup,
    PickupSettings,
    check_lines,
    create_pickup,
    parse_pickup_id,
)
from service.usecases.pickups.search import search_store

router = Router()
STOREFRONT: list[Role] = ["storefront", "admin"]
ANYONE: list[Role] = ["storefront", "staff", "admin"]
STAFF: list[Role] = ["staff", "admin"]


class CustomerIn(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=40)
    erp_customer_id: str | None = Field(default=None, max_length=64)
    ps_customer_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="PrestaShop customer id: links the shopper to their Cegid customer.",
    )


class PickupLineIn(BaseModel):
    sku: str | None = Field(default=None, max_length=64)
    ean: str | None = Field(default=None, max_length=32)
    ps_product: int | None = Field(default=None, ge=1, le=PG_INT_MAX)
    ps_attribute: int | None = Field(default=None, ge=0, le=PG_INT_MAX)
    reference: str | None = Field(default=None, max_length=128)
    quantity: int = Field(ge=1, le=999)
    unit_price: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="Decimal string; required for orders.",
    )
    label: str = Field(default="", max_length=200)


class PickupIn(BaseModel):
    kind: Literal["reservation", "order"]
    store_id: str = Field(min_length=1, max_length=32)
    customer: CustomerIn
    lines: list[PickupLineIn] = Field(min_length=1, max_length=100)
    ps_order_id: int | None = Field(
        default=None,
        ge=1,
        le=PG_INT_MAX,
        description="Orders are idempotent on it: a second create returns the first pickup (200).",
    )
    ps_order_reference: str | None = Field(default=None, pattern=r"^[A-Z]{9}$")
    payment_status: Literal["pending", "paid"] = "pending"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class PickupOut(BaseModel):
    id: str
    kind: str
    state: str
    store_id: str
    customer: dict[str, Any]
    ps_order_id: int | None
    ps_order_reference: str | None
    payment_status: str
    currency: str
    deadline: datetime
    ready_by: datetime | None
    created_at: datetime
    updated_at: datetime
    next_events: list[str]
    code_locked: bool
    code_failures: int = Field(
        0,
        ge=0,
        description="Wrong pickup codes given so far: the pickup locks (423) after "
        "OMNISTOCK_PICKUP_CODE_ATTEMPTS of them.",
    )
    erp: dict[str, Any]
    lines: list[dict[str, Any]] = Field(default_factory=list)
    history: list[dict[str, Any]] = Field(default_factory=list)
    pickup_code: str | None = Field(default=None, description="Only in the creation answer.")


class PickupList(BaseModel):
    items: list[PickupOut]
    next_cursor: str | None
    counts: dict[str, int] = Field(
        description="Pickups per state matching q and closed_today (not state, not the page); "
        "every state is present."
    )


class CancelIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class CollectIn(BaseModel):
    code: str = Field(min_length=4, max_length=20)


class PickupListQuery(BaseModel):
    state: list[PickupStateName] = Field(default_factory=list)
    q: str | None = Field(
        default=None,
        max_length=100,
        description="Search: a pickup id (6+ characters, a prefix), a PrestaShop order reference "
        "or id, or part of the customer's e-mail or name. Case-insensitive.",
    )
    closed_today: bool = Field(
        default=False,
        description="Closed pickups (collected, cancelled, expired, no-show) only when closed "
        "since midnight in the store's time zone; open ones are unaffected.",
    )
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


def _utf8_header(request: web.Request, name: str) -> str:
    """A header as the UTF-8 text tills send (aiohttp hands header bytes over as Latin-1)."""
    raw = request.headers.get(name, "")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _actor(request: web.Request, p: Principal) -> Actor:
    """The key is the actor (its id, with ``admin:`` for admin keys: from the key's role, never
    from the request); ``X-Staff-Id`` only names the person at the till, as a separate field."""
    if p.role == "storefront":
        return Actor(ActorKind.STOREFRONT, p.key_id)
    name = person_name(_utf8_header(request, "X-Staff-Id")) or person_name(p.label)
    prefix = "admin:" if p.role == "admin" else ""
    return Actor(ActorKind.STAFF, prefix + p.key_id, name)


def _settings(request: web.Request) -> PickupSettings:
    return request.app[PICKUP_SETTINGS]


async def _scoped_pickup(request: web.Request) -> Any:
    pickup_id = parse_pickup_id(request.match_info["pickup_id"])
    if principal_of(request).role == "staff":
        require_store_access(request, await pickup_flow.store_of(request.app[POOL], pickup_id))
    return pickup_id


@router.route(
    "POST",
    "/v1/pickups",
    name="create_pickup",
    tags=["pickups"],
    summary="Reserve in store or create a click-and-collect order",
    roles=STOREFRONT,
    body=PickupIn,
    responses={201: PickupOut, 200: PickupOut},
    problems=[404, 409, 503],
    idempotent_key=True,
)
async def post_pickup(request: web.Request) -> web.Response:
    key = check_key(request.headers.get("Idempotency-Key"), required=True)
    body = await parse_body(request, PickupIn)
    new = NewPickup(
        kind=body.kind,
        store_id=body.store_id,
        customer=body.customer.model_dump(),
        lines=[
            NewLine(
                ItemLookup(x.sku, x.ean, x.ps_product, x.ps_attribute, x.reference),
                x.quantity,
                x.unit_price,
                x.label,
            )
            for x in body.lines
        ],
        ps_order_id=body.ps_order_id,
        ps_order_reference=body.ps_order_reference,
        payment_status=body.payment_status,
        currency=body.currency,
    )
    check_lines(new)
    principal = principal_of(request)
    idem = Idempotency(principal.key_id, key, body.model_dump(mode="json")) if key else None
    status, answer = await create_pickup(
        request.app[POOL],
        new,
        _actor(request, principal),
        idem,
        _settings(request),
        items_cache=request.app[READER].items,
        mark_hot=request.app[READER].want,
        observe=request.app[METRICS].pickup_writes_by_outcome,
        changed=request.app[READER].changed_here,
    )
    return _pickup_response(answer, status)


def _complete(view: Mapping[str, Any]) -> dict[str, Any]:
    """A view (``service.usecases.pickups.views.PickupView``, or one stored for an
    Idempotency-Key before views had every member) with every member of PickupOut; written by
    orjson as it is (the tests validate answers against PickupOut)."""
    full = dict(view)
    full.setdefault("lines", [])
    full.setdefault("history", [])
    full.setdefault("pickup_code", None)
    return full


def _pickup_response(view: Mapping[str, Any], status: int = 200) -> web.Response:
    return data_response(_complete(view), status)


@router.route(
    "GET",
    "/v1/pickups/{pickup_id}",
    name="get_pickup",
    tags=["pickups"],
    summary="One pickup with its lines and history",
    roles=ANYONE,
    responses={200: PickupOut},
    problems=[404],
)
async def get_pickup(request: web.Request) -> web.Response:
    pickup_id = await _scoped_pickup(request)
    return _pickup_response(await pickup_flow.get(request.app[POOL], pickup_id))


async def _change(
    request: web.Request, event: PickupEvent, detail: dict[str, Any] | None = None
) -> web.Response:
    pickup_id = await _scoped_pickup(request)
    answer = await pickup_flow.change(
        request.app[POOL], pickup_id, event, _actor(request, principal_of(request)), detail
    )
    return _pickup_response(answer)


@router.route(
    "POST",
    "/v1/pickups/{pickup_id}/cancel",
    name="cancel_pickup",
    tags=["pickups"],
    summary="Cancel: releases the stock",
    roles=ANYONE,
    body=CancelIn,
    responses={200: PickupOut},
    problems=[404, 409],
)
async def cancel(request: web.Request) -> web.Response:
    body = await parse_body(request, CancelIn) if request.can_read_body else CancelIn()
    return await _change(request, PickupEvent.CANCEL, {"reason": body.reason})


@router.route(
    "POST",
    "/v1/pickups/{pickup_id}/ready",
    name="ready_pickup",
    tags=["staff"],
    summary="Staff prepared the pickup",
    roles=STAFF,
    responses={200: PickupOut},
    problems=[404, 409],
)
async def ready(request: web.Request) -> web.Response:
    return await _change(request, PickupEvent.MARK_READY)


@router.route(
    "POST",
    "/v1/pickups/{pickup_id}/collect",
    name="collect_pickup",
    tags=["staff"],
    summary="Hand over against the pickup code",
    roles=STAFF,
    body=CollectIn,
    responses={200: PickupOut},
    problems=[404, 409, 423],
)
async def collect(request: web.Request) -> web.Response:
    pickup_id = await _scoped_pickup(request)
    body = await parse_body(request, CollectIn)
    answer = await pickup_flow.collect(
        request.app[POOL],
        pickup_id,
        body.code,
        _actor(request, principal_of(request)),
        _settings(request).max_code_attempts,
        _settings(request).code_hasher,
    )
    return _pickup_response(answer)


@router.route(
    "GET",
    "/v1/stores/{store_id}/pickups",
    name="store_pickups",
    tags=["staff"],
    summary="A store's pickups, oldest first (cursor pages), searchable, with counts per state",
    roles=STAFF,
    query=PickupListQuery,
    responses={200: PickupList},
    problems=[404],
)
async def store_pickups(request: web.Request) -> web.Response:
    store_id = request.match_info["store_id"]
    require_store_access(request, store_id)
    q = parse_query(request, PickupListQuery, lists=["state"])
    found = await search_store(
        request.app[POOL],
        store_id,
        states=q.state or None,
        q=q.q,
        closed_today=q.closed_today,
        cursor=q.cursor,
        limit=q.limit,
    )
    return data_response(
        {
            "items": [_complete(x) for x in found.items],
            "next_cursor": found.next_cursor,
            "counts": found.counts,
        }
    )
