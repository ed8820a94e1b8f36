"""Storefront availability: one item in some stores (GET) or a basket matrix (POST)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator

from service.api.appkeys import ANSWERS, READER, SETTINGS
from service.api.near import body_schema, fold_near, near_field
from service.api.routing import Router, data_response, dumps, parse_body, parse_query
from service.domain.apikeys import Role
from service.domain.geo import parse_latlng
from service.domain.limits import PG_INT_MAX
from service.errors import TooLarge
from service.usecases.catalog.identifiers import ItemLookup, ResolvedItem
from service.usecases.stock.availability import (
    CellState,
    LineAvailability,
    Matrix,
    Near,
    StoreRef,
    availability,
)

router = Router()
READERS: list[Role] = ["storefront", "staff", "admin"]
Service = Literal["click_and_collect", "reservation"]
MAX_LINES, MAX_STORES, MAX_RADIUS_KM = 200, 100, 1000


class ItemOut(BaseModel):
    sku: str
    ean: str | None
    ps_product_id: int | None
    ps_attribute_id: int | None
    reference: str | None
    resolved_by: str = Field(
        description="Which identifier found the item: sku, ean, ps_key, reference."
    )

    @classmethod
    def of(cls, i: ResolvedItem) -> ItemOut:
        return cls.model_construct(
            sku=i.sku,
            ean=i.ean,
            ps_product_id=i.ps_product_id,
            ps_attribute_id=i.ps_attribute_id,
            reference=i.reference,
            resolved_by=i.resolved_by,
        )


class CellOut(BaseModel):
    store_id: str
    name: str | None = None
    distance_km: float | None = None
    available: int = Field(description="Units we can promise (ATP), never negative.")
    status: Literal["in_stock", "low_stock", "out_of_stock"]
    offered_for_pickup: bool = Field(
        description="False below the store's hide_below buffer, and at a store that offers no "
        "pickup service (the web store)."
    )
    enough: bool = Field(description="Offered, and available >= the requested quantity.")
    as_of: datetime | None = Field(description="ERP snapshot time of the stock used.")
    stale: bool = Field(description="The snapshot is older than the staleness budget.")
    source: Literal["snapshot", "live", "fallback"] = Field(
        description="snapshot: synced and fresh; live: read from the ERP for this request; "
        "fallback: too old and the ERP did not answer in time, last snapshot used."
    )
    oversold: bool = Field(description="The ERP no longer covers our open holds here.")


class AvailabilityOut(BaseModel):
    item: ItemOut
    quantity: int
    stores: list[CellOut]


class AvailabilityQuery(BaseModel):
    sku: str | None = Field(default=None, max_length=64)
    ean: str | None = Field(default=None, max_length=32)
    ps_product: int | None = Field(default=None, ge=1, le=PG_INT_MAX)
    ps_attribute: int | None = Field(default=None, ge=0, le=PG_INT_MAX)
    reference: str | None = Field(default=None, max_length=128)
    store: list[str] = Field(
        default_factory=list, max_length=MAX_STORES, description="Store code (repeatable)."
    )
    near: str | None = near_field()
    radius_km: float = Field(
        default=25.0, gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False, description="Around near."
    )
    limit: int = Field(default=20, ge=1, le=MAX_STORES, description="Most stores when near.")
    service: Service | None = None
    quantity: int = Field(default=1, ge=1, le=10_000)

    @model_validator(mode="before")
    @classmethod
    def _near_object(cls, data: Any) -> Any:
        return fold_near(data, query=True)

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is not None:
            parse_latlng(value)  # ValueError -> a field error
        return value


class LineIn(BaseModel):
    sku: str | None = Field(default=None, max_length=64)
    ean: str | None = Field(default=None, max_length=32)
    ps_product: int | None = Field(default=None, ge=1, le=PG_INT_MAX)
    ps_attribute: int | None = Field(default=None, ge=0, le=PG_INT_MAX)
    reference: str | None = Field(default=None, max_length=128)
    quantity: int = Field(default=1, ge=1, le=10_000)


class MatrixIn(BaseModel):
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    stores: list[str] = Field(default_factory=list, max_length=MAX_STORES)
    near: Annotated[
        str | None,
        WithJsonSchema(
            body_schema(max_radius_km=MAX_RADIUS_KM, max_limit=MAX_STORES), mode="validation"
        ),
    ] = near_field()
    radius_km: float = Field(
        default=25.0, gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False, description="Around near."
    )
    limit: int = Field(default=20, ge=1, le=MAX_STORES, description="Most stores when near.")
    service: Service | None = None
    whole_basket: bool = Field(
        default=False,
        description="Also list the stores that can "
        "fulfil every line at its quantity, nearest first.",
    )

    @model_validator(mode="before")
    @classmethod
    def _near_object(cls, data: Any) -> Any:
        return fold_near(data, query=False)

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is not None:
            parse_latlng(value)  # ValueError -> a field error
        return value

    @model_validator(mode="after")
    def _stores_or_near(self) -> MatrixIn:
        if bool(self.stores) == (self.near is not None):
            raise ValueError("give either stores or near")
        return self


class StoreRefOut(BaseModel):
    store_id: str
    name: str
    distance_km: float | None


class MatrixLineOut(BaseModel):
    line: int
    item: ItemOut
    quantity: int
    stores: list[CellOut]


class MatrixOut(BaseModel):
    stores: list[StoreRefOut]
    lines: list[MatrixLineOut]
    whole_basket: list[StoreRefOut] | None


class _CellsJson:
    """The ``stores`` array of each line of one answer, as pre-encoded JSON.

    A cell is its store's members followed by its ``CellState``'s, in the order ``CellOut``
    declares: each store's part (``{"store_id":..,"name":..,"distance_km":..,``) is encoded
    once per answer, each distinct state's part (``"available":..,..,"oversold":..}``) once
    per answer, and a line is their concatenation, joined in C: no per-cell Python object and
    no per-cell encoding. The bytes are those ``dumps`` writes for the same cells as objects
    (tests/api/test_availability*.py compare answers with the models above).

    A line's cells that the use case reused from an earlier request (its line memo: the same
    list object, ``LineAvailability.kept``) are not encoded again: their bytes are kept with the
    list (``_FRAGMENTS``)."""

    def __init__(self, stores: list[StoreRef]) -> None:
        self._stores = stores
        self._template: list[bytes] | None = None  # made on the first line not yet encoded
        self._states = _EncodedStates()

    def __call__(self, line: LineAvailability) -> orjson.Fragment:
        cells = line.cells
        if line.kept:
            found = _FRAGMENTS.get(id(cells))
            if found is not None and found[0] is cells:
                return found[1]
        if self._template is None:
            self._template = _template(self._stores)
        parts = self._template.copy()
        parts[1:-1:2] = map(self._states.__getitem__, cells)
        fragment = orjson.Fragment(encoded := b"".join(parts))
        if line.kept:
            _FRAGMENTS.put(cells, fragment, len(encoded))
        return fragment


def _template(stores: list[StoreRef]) -> list[bytes]:
    """[ '[{store 0 members,', state 0, ',{store 1 members,', state 1, ..., ']' ]: a line is
    this with its states in the odd places, joined once."""
    template: list[bytes] = []
    for n, s in enumerate(stores):
        members = dumps({"store_id": s.store_id, "name": s.name, "distance_km": s.distance_km})
        template += [(b"," if n else b"[") + members[:-1] + b",", b""]
    return [*template, b"]"] if stores else [b"[]"]


class _Fragments(dict[int, tuple[list[CellState], orjson.Fragment]]):
    """Encoded lines by the identity of their cells list (kept with it, so the identity is not
    reused while here). A list belongs to one set of stores (the use case's ``_States``), so
    its bytes are the same in every answer that has it. Bounded by the bytes it holds: full,
    it starts over."""

    MAX_BYTES = 8 * 1024 * 1024

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def put(self, cells: list[CellState], fragment: orjson.Fragment, size: int) -> None:
        cost = size + 64 + 8 * len(cells)  # the bytes, the Fragment, the list's slots
        if self.size + cost > self.MAX_BYTES:
            self.clear()
            self.size = 0
        self[id(cells)] = (cells, fragment)
        self.size += cost


_FRAGMENTS = _Fragments()


class _EncodedStates(dict[CellState, bytes]):
    """A state's members and the closing brace: its dataclass's JSON object less the ``{``."""

    def __missing__(self, state: CellState) -> bytes:
        encoded = self[state] = dumps(state)[1:]
        return encoded


def _matrix_json(m: Matrix) -> dict[str, Any]:
    """The answer as plain data (items and stores are dataclasses whose fields are the JSON
    members; cells come pre-encoded): the pydantic models above define and document the same
    shape, and the tests validate answers against them."""
    cells = _CellsJson(m.stores)
    return {
        "stores": m.stores,
        "lines": [
            {"line": n, "item": line.item, "quantity": line.quantity, "stores": cells(line)}
            for n, line in enumerate(m.lines)
        ],
        "whole_basket": m.whole_basket,
    }


def _lookup(x: AvailabilityQuery | LineIn) -> ItemLookup:
    return ItemLookup(x.sku, x.ean, x.ps_product, x.ps_attribute, x.reference)


@router.route(
    "GET",
    "/v1/availability",
    name="availability",
    tags=["availability"],
    summary="Availability of one item in named stores or stores nearby",
    roles=READERS,
    query=AvailabilityQuery,
    responses={200: AvailabilityOut},
    problems=[404, 409],
)
async def get_availability(request: web.Request) -> web.Response:
    answers = request.app[ANSWERS]
    key = request.query_string
    body = answers.get(key)
    if body is not None:
        return web.Response(body=body, content_type="application/json")
    q = parse_query(request, AvailabilityQuery, lists=["store"])
    near = None
    if q.near and not q.store:
        near = Near(parse_latlng(q.near), q.radius_km, q.limit)
    reader = request.app[READER]
    epoch = reader.epoch  # before any read: a change from now on makes this answer old
    m = await availability(
        reader,
        [_lookup(q)],
        [q.quantity],
        store_ids=q.store or None,
        near=near,
        service=q.service,
    )
    line = m.lines[0]
    cells = _CellsJson(m.stores)(line)
    body = dumps({"item": line.item, "quantity": q.quantity, "stores": cells})
    answers.put(key, epoch, line.item.sku, body)
    return web.Response(body=body, content_type="application/json")


@router.route(
    "POST",
    "/v1/availability",
    name="availability_matrix",
    tags=["availability"],
    summary="Availability of many lines in many stores, optionally whole-basket",
    roles=READERS,
    body=MatrixIn,
    responses={200: MatrixOut},
    problems=[404, 409],
)
async def post_availability(request: web.Request) -> web.Response:
    body = await parse_body(request, MatrixIn)
    stores = len(set(body.stores)) if body.stores else body.limit
    cells, limit = len(body.lines) * stores, request.app[SETTINGS].matrix_max_cells
    if cells > limit:
        raise TooLarge(
            f"{len(body.lines)} lines x {stores} stores = {cells} cells; the limit "
            f"is {limit}: split the request",
            cells=cells,
            limit=limit,
        )
    near = None
    if body.near:
        near = Near(parse_latlng(body.near), body.radius_km, body.limit)
    m = await availability(
        request.app[READER],
        [_lookup(x) for x in body.lines],
        [x.quantity for x in body.lines],
        store_ids=body.stores or None,
        near=near,
        service=body.service,
        whole_basket=body.whole_basket,
    )
    return data_response(_matrix_json(m))
