"""The store directory: admin create/replace and import; list, "near me" and one store for every
role (the directory is what the storefront's store locator shows, so it is not store-scoped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, RootModel, field_validator, model_validator

from service.api.appkeys import POOL
from service.api.near import fold_near, near_field
from service.api.routing import ANY_ROLE, Router, json_response, parse_body, parse_query
from service.domain.apikeys import Role
from service.domain.geo import LatLng, parse_latlng
from service.usecases.catalog import store_directory as stores
from service.usecases.catalog.store_model import (
    HoursJson,
    Service,
    StoreEntry,
    StoreFields,
    hours_to_json,
)

router = Router()
ADMIN: list[Role] = ["admin"]
TAGS = ["stores"]


class StoreOut(BaseModel):
    store_id: str
    name: str
    address: str
    city: str
    postcode: str
    country: str
    latitude: float | None
    longitude: float | None
    timezone: str
    opening_hours: HoursJson = Field(description="Local periods per day, mon..sun.")
    open_now: bool = Field(description="Open at the time of the answer, in the store's zone.")
    services: list[str]
    pickup_capacity_per_day: int | None
    hold_hours: int
    warehouse_id: str
    active: bool
    updated_at: datetime
    distance_km: float | None = Field(default=None, description="From 'near', when given.")

    @classmethod
    def of(cls, view: stores.StoreView) -> StoreOut:
        r = view.record
        distance = None if view.distance_km is None else round(view.distance_km, 3)
        return cls(
            **{k: v for k, v in r.fields().items() if k != "opening_hours"},
            opening_hours=hours_to_json(view.hours),
            open_now=view.open_now,
            updated_at=r.updated_at,
            distance_km=distance,
        )


class StoreList(BaseModel):
    items: list[StoreOut]
    next_cursor: str | None = Field(description="Pass as 'cursor' for the next page; null: end.")


class StoreListQuery(BaseModel):
    near: str | None = near_field()
    radius_km: float | None = Field(
        default=None,
        gt=0,
        le=20_100,
        allow_inf_nan=False,
        description="Around near; none: every store, nearest first.",
    )
    service: Service | None = None
    limit: int = Field(default=50, ge=1, le=500, description="Stores per page (with near: most).")
    cursor: str | None = Field(default=None, max_length=200)
    include_inactive: bool = False

    @model_validator(mode="before")
    @classmethod
    def _near_object(cls, data: Any) -> Any:
        return fold_near(data, query=True)

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is not None:
            parse_latlng(value)  # ValueError: a field error
        return value

    @property
    def origin(self) -> LatLng | None:
        return None if self.near is None else parse_latlng(self.near)


class StoreImport(RootModel[list[StoreEntry]]):
    root: list[StoreEntry] = Field(max_length=10_000)


class ImportOut(BaseModel):
    created: list[str]
    updated: list[str]


@router.route(
    "PUT",
    "/v1/admin/stores/{store_id}",
    name="put_store",
    summary="Create or replace a store",
    tags=TAGS,
    roles=ADMIN,
    body=StoreFields,
    responses={200: StoreOut, 201: StoreOut},
)
async def put_store(request: web.Request) -> web.Response:
    body = await parse_body(request, StoreFields)
    store_id = request.match_info["store_id"]
    view, created = await stores.put_store(request.app[POOL], store_id, body)
    return json_response(StoreOut.of(view), 201 if created else 200)


@router.route(
    "POST",
    "/v1/admin/stores/import",
    name="import_stores",
    summary="Create or replace many stores, all or nothing",
    tags=TAGS,
    roles=ADMIN,
    body=StoreImport,
    responses={200: ImportOut},
)
async def import_stores(request: web.Request) -> web.Response:
    body = await parse_body(request, StoreImport)
    report = await stores.import_stores(request.app[POOL], body.root)
    return json_response(ImportOut(created=report.created, updated=report.updated))


@router.route(
    "GET",
    "/v1/stores",
    name="list_stores",
    summary="List stores: by code with a cursor, or nearest first",
    tags=TAGS,
    roles=ANY_ROLE,
    query=StoreListQuery,
    responses={200: StoreList},
)
async def list_stores(request: web.Request) -> web.Response:
    q = parse_query(request, StoreListQuery)
    page = await stores.find_stores(
        request.app[POOL],
        near=q.origin,
        radius_km=q.radius_km,
        limit=q.limit,
        cursor=q.cursor,
        where=stores.StoreFilter(service=q.service, include_inactive=q.include_inactive),
    )
    return json_response(
        StoreList(items=[StoreOut.of(v) for v in page.items], next_cursor=page.next_cursor)
    )


@router.route(
    "GET",
    "/v1/stores/{store_id}",
    name="get_store",
    summary="One store, with its hours and whether it is open now",
    tags=TAGS,
    roles=ANY_ROLE,
    responses={200: StoreOut},
    problems=[404],
)
async def get_store(request: web.Request) -> web.Response:
    view = await stores.get_store(request.app[POOL], request.match_info["store_id"])
    return json_response(StoreOut.of(view))
