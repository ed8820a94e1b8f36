"""Items: resolve any identifier to our SKU (so a storefront can check its mapping), and the admin
import of the PrestaShop mapping."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, RootModel

from service.api.appkeys import POOL
from service.api.routing import ANY_ROLE, Router, json_response, parse_body, parse_query
from service.domain.apikeys import Role
from service.domain.limits import PG_INT_MAX
from service.usecases.catalog import identifiers
from service.usecases.catalog import item_mapping as mapping
from service.usecases.catalog.item_mapping import MappingRow

router = Router()
ADMIN: list[Role] = ["admin"]


class ResolveQuery(BaseModel):
    sku: str | None = Field(default=None, max_length=200)
    ean: str | None = Field(default=None, max_length=200, description="EAN-13 or UPC-A.")
    ps_product: int | None = Field(
        default=None, ge=1, le=PG_INT_MAX, description="PrestaShop id_product."
    )
    ps_attribute: int | None = Field(
        default=None,
        ge=0,
        le=PG_INT_MAX,
        description="PrestaShop id_product_attribute (default 0: no combination).",
    )
    reference: str | None = Field(default=None, max_length=200)


class ResolvedOut(BaseModel):
    sku: str
    ean: str | None
    ps_product_id: int | None
    ps_attribute_id: int | None
    reference: str | None
    resolved_by: Literal["sku", "ean", "ps_key", "reference"]


class MappingImport(RootModel[list[MappingRow]]):
    """The documented shape; rows are validated one by one for a per-row report."""

    root: list[MappingRow] = Field(max_length=100_000)


class RawRows(RootModel[list[dict[str, Any]]]):
    root: list[dict[str, Any]] = Field(max_length=100_000)


class DuplicateReferenceOut(BaseModel):
    reference: str
    skus: list[str]


class MappingReportOut(BaseModel):
    updated: list[str] = Field(description="SKUs whose PrestaShop key or reference changed.")
    unchanged: int
    duplicate_references: list[DuplicateReferenceOut] = Field(
        description="References shared by several items: resolving them answers 409."
    )
    blank_references: list[str] = Field(description="SKUs imported without a reference.")


@router.route(
    "GET",
    "/v1/items/resolve",
    name="resolve_item",
    summary="Resolve a SKU, EAN/UPC, PrestaShop key or reference to our item",
    tags=["items"],
    roles=ANY_ROLE,
    query=ResolveQuery,
    responses={200: ResolvedOut},
    problems=[404, 409],
)
async def resolve_item(request: web.Request) -> web.Response:
    q = parse_query(request, ResolveQuery)
    async with request.app[POOL].acquire() as conn:
        item = await identifiers.resolve_item(conn, **q.model_dump())
    return json_response(ResolvedOut.model_validate(item, from_attributes=True))


@router.route(
    "POST",
    "/v1/admin/mapping/import",
    name="import_mapping",
    summary="Set the PrestaShop keys of our items, all or nothing",
    tags=["items", "admin"],
    roles=ADMIN,
    body=MappingImport,
    responses={200: MappingReportOut},
    problems=[409],
)
async def import_mapping(request: web.Request) -> web.Response:
    rows = await parse_body(request, RawRows)
    report = await mapping.import_mapping(request.app[POOL], rows.root)
    return json_response(MappingReportOut.model_validate(report, from_attributes=True))
