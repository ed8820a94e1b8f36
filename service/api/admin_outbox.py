"""Admin endpoints of the outbox: list rows (cursor pages), show one, replay dead rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import POOL
from service.api.routing import Router, json_response, parse_query
from service.domain.apikeys import Role
from service.errors import NotFound
from service.usecases.outbox import admin as outbox_admin
from service.usecases.outbox.admin import OutboxRow, OutboxStatus

router = Router()
ADMIN: list[Role] = ["admin"]
TAGS = ["admin"]
ROW_ID = r"{outbox_id:\d+}"
MAX_ID = 2**63 - 1  # bigint


class OutboxOut(BaseModel):
    id: int
    aggregate: str
    aggregate_id: str
    kind: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    done_at: datetime | None
    payload: dict[str, Any]
    result: Any = Field(description="What the ERP answered (document key...) once done.")

    @classmethod
    def of(cls, r: OutboxRow) -> OutboxOut:
        return cls(
            id=r.id,
            aggregate=r.aggregate,
            aggregate_id=r.aggregate_id,
            kind=r.kind,
            status=r.status,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            last_error=r.last_error,
            created_at=r.created_at,
            done_at=r.done_at,
            payload=r.payload,
            result=r.result,
        )


class OutboxList(BaseModel):
    items: list[OutboxOut]
    next_cursor: str | None = Field(description="Pass as 'cursor' for the next page; null: end.")


class OutboxListQuery(BaseModel):
    status: OutboxStatus | None = None
    aggregate_id: str | None = Field(default=None, max_length=200, description="e.g. a pickup id")
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)


class ReplayedOut(BaseModel):
    replayed: list[int]


def _row_id(request: web.Request) -> int:
    row_id = int(request.match_info["outbox_id"])
    if row_id > MAX_ID:
        raise NotFound(f"no outbox row {row_id}")
    return row_id


@router.route(
    "GET",
    "/v1/admin/outbox",
    name="list_outbox",
    summary="List outbox rows, oldest first (cursor pages)",
    tags=TAGS,
    roles=ADMIN,
    query=OutboxListQuery,
    responses={200: OutboxList},
)
async def list_outbox(request: web.Request) -> web.Response:
    q = parse_query(request, OutboxListQuery)
    page = await outbox_admin.list_rows(
        request.app[POOL],
        status=q.status,
        aggregate_id=q.aggregate_id,
        cursor=q.cursor,
        limit=q.limit,
    )
    items = [OutboxOut.of(r) for r in page.items]
    return json_response(OutboxList(items=items, next_cursor=page.next_cursor))


@router.route(
    "GET",
    f"/v1/admin/outbox/{ROW_ID}",
    name="get_outbox_row",
    summary="One outbox row, with its payload and ERP result",
    tags=TAGS,
    roles=ADMIN,
    responses={200: OutboxOut},
    problems=[404],
)
async def get_outbox_row(request: web.Request) -> web.Response:
    return json_response(
        OutboxOut.of(await outbox_admin.get_row(request.app[POOL], _row_id(request)))
    )


@router.route(
    "POST",
    f"/v1/admin/outbox/{ROW_ID}/replay",
    name="replay_outbox_row",
    summary="Replay a dead outbox row (back to pending, attempts reset, due now)",
    tags=TAGS,
    roles=ADMIN,
    responses={200: OutboxOut},
    problems=[404, 409],
)
async def replay_outbox_row(request: web.Request) -> web.Response:
    row = await outbox_admin.replay_one(request.app[POOL], _row_id(request))
    return json_response(OutboxOut.of(row))


@router.route(
    "POST",
    "/v1/admin/outbox/replay-dead",
    name="replay_dead_outbox",
    summary="Replay every dead outbox row",
    tags=TAGS,
    roles=ADMIN,
    responses={200: ReplayedOut},
)
async def replay_dead_outbox(request: web.Request) -> web.Response:
    return json_response(ReplayedOut(replayed=await outbox_admin.replay_dead(request.app[POOL])))
