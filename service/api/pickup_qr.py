"""The QR code of a pickup for the shopper's confirmation: the pickup id and its code, scanned
at the counter by the staff console."""

from __future__ import annotations

import io

import segno
from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import PICKUP_SETTINGS, POOL
from service.api.routing import Router, parse_query
from service.domain.pickup_scan import scan_payload
from service.errors import InvalidInput
from service.usecases.pickups import flow as pickup_flow
from service.usecases.pickups.create import parse_pickup_id

router = Router()


class QrQuery(BaseModel):
    code: str = Field(
        min_length=4,
        max_length=20,
        description="The pickup code the creation answer gave (spaces, dashes, any case).",
    )
    scale: int = Field(default=4, ge=1, le=20, description="Pixels per module.")


@router.route(
    "GET",
    "/v1/pickups/{pickup_id}/qr.svg",
    name="pickup_qr",
    tags=["pickups"],
    summary="QR code (SVG) of the pickup id and code, for the shopper's confirmation",
    roles=["storefront", "admin"],
    query=QrQuery,
    responses={200: None},
    content_type="image/svg+xml",
    problems=[404, 409],
)
async def pickup_qr(request: web.Request) -> web.Response:
    pickup_id = parse_pickup_id(request.match_info["pickup_id"])
    q = parse_query(request, QrQuery)
    hasher = request.app[PICKUP_SETTINGS].code_hasher
    if not await pickup_flow.code_matches(request.app[POOL], pickup_id, q.code, hasher):
        # never draw a QR code that would fail at the counter (and do not count an attempt:
        # only the storefront and admins may ask, and they were given the code)
        raise InvalidInput(
            "the code is not this pickup's code",
            [{"loc": ["code"], "msg": "not this pickup's code", "type": "wrong_code"}],
        )
    qr = segno.make(scan_payload(pickup_id, q.code), error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=q.scale, border=4, title="Pickup QR code")
    return web.Response(
        body=out.getvalue(),
        content_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )
