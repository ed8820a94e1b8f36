"""Loyalty over HTTP: the unified balance of a customer, and redemption holds at checkout.

Balances are read through the app's ``LoyaltyReader`` (``LOYALTY``, made by ``create_app`` with
the app's one ERP client).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from service.api.appkeys import LOYALTY, POOL
from service.api.auth import principal_of, require_store_access
from service.api.loyalty_models import CommitIn, HoldIn, HoldOut, LoyaltyOut, ResolveIn
from service.api.routing import Router, json_response, parse_body
from service.domain.apikeys import Role
from service.errors import InvalidInput
from service.usecases.idempotency import Idempotency, check_key
from service.usecases.loyalty import holds
from service.usecases.loyalty.balances import LoyaltyReader
from service.usecases.loyalty.model import hold_view
from service.usecases.loyalty.relay import resolve

ANYONE: list[Role] = ["storefront", "staff", "admin"]
ADMIN: list[Role] = ["admin"]


router = Router()


def _reader(request: web.Request) -> LoyaltyReader:
    return request.app[LOYALTY]


def _idempotency(request: web.Request, *, required: bool, body: Any) -> Idempotency | None:
    key = check_key(request.headers.get("Idempotency-Key"), required=required)
    return Idempotency(principal_of(request).key_id, key, body) if key else None


async def _scoped_hold(request: web.Request) -> uuid.UUID:
    hold_id = holds.parse_hold_id(request.match_info["hold_id"])
    if principal_of(request).role == "staff":
        require_store_access(request, await holds.store_of(request.app[POOL], hold_id))
    return hold_id


# --------------------------------------------------------------------------- routes
@router.route(
    "GET",
    "/v1/customers/{customer_ref}/loyalty",
    name="customer_loyalty",
    tags=["loyalty"],
    summary="Cards and unified points balance (customer id, e-mail or card number)",
    roles=ANYONE,
    responses={200: LoyaltyOut},
    problems=[404, 409, 422, 503],
)
async def get_loyalty(request: web.Request) -> web.Response:
    answer = await _reader(request).balance(request.match_info["customer_ref"])
    return json_response(LoyaltyOut.model_validate(answer))


def _store(request: web.Request, given: str | None, web_store: str) -> str:
    principal = principal_of(request)
    store = given
    if store is None and principal.role == "staff":
        if len(principal.stores) != 1:
            raise InvalidInput(
                "this staff key acts on several stores: give store_id",
                [{"loc": ["store_id"], "msg": "required", "type": "missing"}],
            )
        store = next(iter(principal.stores))
    store = store or web_store
    require_store_access(request, store)
    return store


@router.route(
    "POST",
    "/v1/customers/{customer_ref}/loyalty/holds",
    name="create_loyalty_hold",
    tags=["loyalty"],
    summary="Hold points for a redemption (expires unless committed or released)",
    roles=ANYONE,
    body=HoldIn,
    responses={201: HoldOut},
    problems=[403, 404, 409, 422, 503],
    idempotent_key=True,
)
async def post_hold(request: web.Request) -> web.Response:
    body = await parse_body(request, HoldIn)
    ref = request.match_info["customer_ref"]
    idem = _idempotency(request, required=True, body={"customer_ref": ref, **body.model_dump()})
    reader = _reader(request)
    principal = principal_of(request)
    new = holds.NewHold(
        points=body.points,
        reference=body.reference,
        card_number=body.card_number,
        store_id=_store(request, body.store_id, reader.settings.web_store_id),
        created_by=f"{principal.role}:{principal.key_id}",
    )
    status, answer = await holds.create_hold(reader, ref, new, idem)
    return json_response(HoldOut.model_validate(answer), status)


@router.route(
    "GET",
    "/v1/loyalty/holds/{hold_id}",
    name="get_loyalty_hold",
    tags=["loyalty"],
    summary="One redemption hold",
    roles=ANYONE,
    responses={200: HoldOut},
    problems=[403, 404],
)
async def get_hold(request: web.Request) -> web.Response:
    hold_id = await _scoped_hold(request)
    answer = await holds.get_hold(request.app[POOL], hold_id, _reader(request).settings)
    return json_response(HoldOut.model_validate(answer))


async def _change(request: web.Request, action: str, reference: str = "") -> web.Response:
    hold_id = await _scoped_hold(request)
    idem = _idempotency(
        request, required=False, body={"hold_id": str(hold_id), "reference": reference}
    )
    _, answer = await holds.change_hold(
        request.app[POOL], hold_id, action, _reader(request).settings, idem, reference
    )
    return json_response(HoldOut.model_validate(answer))


@router.route(
    "POST",
    "/v1/loyalty/holds/{hold_id}/commit",
    name="commit_loyalty_hold",
    tags=["loyalty"],
    summary="Redeem the held points: posted to the ERP (UpdatePoints) through the outbox",
    roles=ANYONE,
    body=CommitIn,
    responses={200: HoldOut},
    problems=[403, 404, 409, 422],
    idempotent_key=True,
)
async def commit(request: web.Request) -> web.Response:
    body = await parse_body(request, CommitIn) if request.can_read_body else CommitIn()
    return await _change(request, "commit", body.reference)


@router.route(
    "POST",
    "/v1/loyalty/holds/{hold_id}/release",
    name="release_loyalty_hold",
    tags=["loyalty"],
    summary="Free the held points",
    roles=ANYONE,
    responses={200: HoldOut},
    problems=[403, 404, 409],
    idempotent_key=True,
)
async def release(request: web.Request) -> web.Response:
    return await _change(request, "release")


@router.route(
    "POST",
    "/v1/admin/loyalty/holds/{hold_id}/resolve",
    name="resolve_loyalty_hold",
    tags=["admin"],
    summary="Settle a redemption whose UpdatePoints may or may not have reached Cegid",
    roles=ADMIN,
    body=ResolveIn,
    responses={200: HoldOut},
    problems=[404, 409, 422],
)
async def resolve_hold(request: web.Request) -> web.Response:
    hold_id = holds.parse_hold_id(request.match_info["hold_id"])
    body = await parse_body(request, ResolveIn)
    hold = await resolve(request.app[POOL], hold_id, body.posted)
    return json_response(HoldOut.model_validate(hold_view(hold, _reader(request).settings)))
