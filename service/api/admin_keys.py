"""Admin endpoints for API keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import KEY_CACHE, POOL
from service.api.routing import Router, json_response, parse_body, parse_query
from service.domain.apikeys import Role
from service.usecases.access import keys
from service.usecases.access.keys import ApiKeyRecord

router = Router()
ADMIN: list[Role] = ["admin"]


class KeyCreate(BaseModel):
    role: Role
    stores: list[str] = Field(
        default_factory=list, max_length=500, description="Store codes a staff key may act on."
    )
    label: str = Field(default="", max_length=200)


class KeyOut(BaseModel):
    id: str
    prefix: str
    role: Role
    stores: list[str]
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, r: ApiKeyRecord) -> KeyOut:
        return cls(
            id=r.id,
            prefix=r.prefix,
            role=r.role,
            stores=list(r.stores),
            label=r.label,
            created_at=r.created_at,
            revoked_at=r.revoked_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The API key. Shown only in this answer; store it now.")


class KeyList(BaseModel):
    items: list[KeyOut]


class KeyListQuery(BaseModel):
    include_revoked: bool = False


@router.route(
    "POST",
    "/v1/admin/keys",
    name="create_key",
    summary="Create an API key",
    tags=["admin"],
    roles=ADMIN,
    body=KeyCreate,
    responses={201: KeyCreated},
)
async def create_key(request: web.Request) -> web.Response:
    body = await parse_body(request, KeyCreate)
    key, record = await keys.create_key(request.app[POOL], body.role, body.stores, body.label)
    return json_response(KeyCreated(key=key, **KeyOut.of(record).model_dump()), 201)


@router.route(
    "GET",
    "/v1/admin/keys",
    name="list_keys",
    summary="List API keys",
    tags=["admin"],
    roles=ADMIN,
    query=KeyListQuery,
    responses={200: KeyList},
)
async def list_keys(request: web.Request) -> web.Response:
    query = parse_query(request, KeyListQuery)
    records = await keys.list_keys(request.app[POOL], include_revoked=query.include_revoked)
    return json_response(KeyList(items=[KeyOut.of(r) for r in records]))


@router.route(
    "POST",
    "/v1/admin/keys/{key_id}/revoke",
    name="revoke_key",
    summary="Revoke an API key",
    tags=["admin"],
    roles=ADMIN,
    responses={200: KeyOut},
    problems=[404, 409],
)
async def revoke_key(request: web.Request) -> web.Response:
    record = await keys.revoke_key(
        request.app[POOL], request.match_info["key_id"], keep_an_admin=True
    )
    request.app[KEY_CACHE].clear()
    return json_response(KeyOut.of(record))
