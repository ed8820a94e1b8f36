"""Customers over HTTP: who a shopper is in Cegid, and their receipts and web orders.

``GET /v1/customers/{ref}``, ``GET /v1/customers/{ref}/receipts`` (cursor pages, newest first),
``GET /v1/customers/{ref}/receipts/{key}`` and its printable ``.html`` page. Staff keys see the
documents of their stores only. Read through the app's ``ReceiptsReader`` (``RECEIPTS``, made by
``create_app`` with the app's one ERP client).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from service.api.appkeys import RECEIPTS
from service.api.auth import principal_of
from service.api.receipt_page import render_receipt
from service.api.routing import Router, json_response, parse_query
from service.domain.apikeys import Role
from service.usecases.customers.receipts import ReceiptsReader

ANYONE: list[Role] = ["storefront", "staff", "admin"]


# --------------------------------------------------------------------------- models
class LinkOut(BaseModel):
    email: str
    ps_customer_id: int | None
    linked_by: Literal["given", "found", "ambiguous", "created"]
    candidates: list[str] = Field(description="Cegid customers sharing the e-mail when linked.")
    created_at: datetime
    updated_at: datetime


class ErpCustomerOut(BaseModel):
    first_name: str
    last_name: str
    email: str
    phone: str
    usual_store_id: str


class CustomerOut(BaseModel):
    customer_id: str = Field(description="Cegid customer id.", examples=["C0000002"])
    resolved_by: Literal["customer_id", "reference", "email", "ps_customer_id"]
    links: list[LinkOut] = Field(description="The shoppers omnistock linked to this customer.")
    erp: ErpCustomerOut | None = Field(description="None when the ERP is down (stale).")
    source: Literal["erp", "stored"]
    stale: bool


class StoreOut(BaseModel):
    id: str
    name: str
    address: str
    city: str
    postcode: str


class ReceiptSummaryOut(BaseModel):
    key: str = Field(description="Type:Stump:Number.", examples=["Receipt:S001:1010000008"])
    type: str = Field(examples=["Receipt", "CustomerOrder"])
    store: StoreOut
    date: datetime | None
    currency: str
    total_incl_tax: str | None = Field(description="Decimal string.")
    total_excl_tax: str | None = Field(description="Decimal string.")
    total_quantity: str
    internal_reference: str
    origin: str = Field(examples=["Shop", "ECommerce"])
    status: str


class ReceiptListOut(BaseModel):
    customer_id: str
    items: list[ReceiptSummaryOut]
    next_cursor: str | None
    as_of: datetime = Field(description="When the ERP listed these documents.")
    source: Literal["erp", "cache", "fallback"]
    stale: bool = Field(description="True: the ERP is down, this is the last stored list.")


class PrestashopKeyOut(BaseModel):
    id_product: int
    id_product_attribute: int
    reference: str | None


class ReceiptLineOut(BaseModel):
    rank: int
    label: str
    quantity: str
    unit_price: str | None
    net_unit_price: str | None
    amount: str | None
    sku: str | None
    ean: str | None
    erp_item_code: str | None
    prestashop: PrestashopKeyOut | None = Field(description="When the item is mapped.")


class PaymentOut(BaseModel):
    label: str
    code: str
    amount: str
    currency: str


class CardOut(BaseModel):
    card_id: str
    program_label: str


class ReceiptOut(ReceiptSummaryOut):
    customer_id: str
    lines: list[ReceiptLineOut]
    payments: list[PaymentOut]
    loyalty_card: CardOut | None
    as_of: datetime
    source: Literal["erp", "cache", "fallback"]
    stale: bool


class ReceiptsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200, description="From next_cursor.")
    since: date | None = Field(
        default=None,
        ge=date(1900, 1, 1),
        le=date(2999, 12, 31),
        description="First day (inclusive, ERP local time).",
    )
    until: date | None = Field(
        default=None,
        ge=date(1900, 1, 1),
        le=date(2999, 12, 31),
        description="Last day (inclusive, ERP local time).",
    )
    limit: int = Field(default=20, ge=1, le=100)


router = Router()


def _reader(request: web.Request) -> ReceiptsReader:
    return request.app[RECEIPTS]


def _stores(request: web.Request) -> frozenset[str] | None:
    """The stores whose documents this key may see; None: all."""
    principal = principal_of(request)
    return frozenset(principal.stores) if principal.role == "staff" else None


# --------------------------------------------------------------------------- routes
@router.route(
    "GET",
    "/v1/customers/{customer_ref}",
    name="get_customer",
    tags=["loyalty"],
    summary="A customer: Cegid id, e-mail or ps:<PrestaShop customer id>",
    roles=ANYONE,
    responses={200: CustomerOut},
    problems=[404, 409, 422, 503],
)
async def get_customer(request: web.Request) -> web.Response:
    answer = await _reader(request).customer(request.match_info["customer_ref"])
    return json_response(CustomerOut.model_validate(answer))


@router.route(
    "GET",
    "/v1/customers/{customer_ref}/receipts",
    name="list_customer_receipts",
    tags=["loyalty"],
    summary="A customer's in-store receipts and web orders from Cegid, newest first",
    roles=ANYONE,
    query=ReceiptsQuery,
    responses={200: ReceiptListOut},
    problems=[404, 409, 422, 503],
)
async def list_receipts(request: web.Request) -> web.Response:
    q = parse_query(request, ReceiptsQuery)
    answer = await _reader(request).receipts(
        request.match_info["customer_ref"],
        since=q.since,
        until=q.until,
        cursor=q.cursor,
        limit=q.limit,
        stores=_stores(request),
    )
    return json_response(ReceiptListOut.model_validate(answer))


async def _receipt(request: web.Request) -> dict[str, Any]:
    return await _reader(request).receipt(
        request.match_info["customer_ref"], request.match_info["key"], stores=_stores(request)
    )


@router.route(
    "GET",
    "/v1/customers/{customer_ref}/receipts/{key}.html",
    name="customer_receipt_page",
    tags=["loyalty"],
    summary="A printable receipt page (no external assets)",
    roles=ANYONE,
    responses={200: None},
    problems=[403, 404, 409, 422, 503],
    content_type="text/html",
)
async def receipt_page(request: web.Request) -> web.Response:
    receipt = ReceiptOut.model_validate(await _receipt(request))
    return web.Response(
        text=render_receipt(receipt.model_dump(mode="json"), _reader(request).tz),
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.route(
    "GET",
    "/v1/customers/{customer_ref}/receipts/{key}",
    name="get_customer_receipt",
    tags=["loyalty"],
    summary="One receipt or web order with its lines (GetByKey)",
    roles=ANYONE,
    responses={200: ReceiptOut},
    problems=[403, 404, 409, 422, 503],
)
async def get_receipt(request: web.Request) -> web.Response:
    return json_response(ReceiptOut.model_validate(await _receipt(request)))
