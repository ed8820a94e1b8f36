"""Liveness, readiness, metrics and the OpenAPI document (the docs pages: ``service.api.docs``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from service.api.appkeys import ENDPOINTS, METRICS, OPENAPI, POOL, SHUTTING_DOWN
from service.api.openapi import build_openapi
from service.api.routing import Router, json_response
from service.domain.pickups import PickupState
from service.usecases.outbox.relay import refresh_outbox_gauges
from stores import pickup_stats, sync_runs
from stores.migrate import pending

router = Router()
VERSION = "0.1.0"


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: str
    migrations: str
    shutting_down: bool


@router.route(
    "GET", "/healthz", name="healthz", summary="Liveness", tags=["ops"], responses={200: Health}
)
async def healthz(request: web.Request) -> web.Response:
    return json_response(Health(status="ok"))


async def _database_state(request: web.Request) -> tuple[str, str]:
    try:
        async with asyncio.timeout(2):
            async with request.app[POOL].acquire() as conn:
                todo = await pending(conn)
    except Exception as exc:  # any failure to reach PostgreSQL means "not ready"
        return f"unreachable: {type(exc).__name__}", "unknown"
    return "ok", "current" if not todo else f"{len(todo)} pending"


@router.route(
    "GET",
    "/readyz",
    name="readyz",
    summary="Readiness: database and migrations",
    tags=["ops"],
    responses={200: Readiness, 503: Readiness},
)
async def readyz(request: web.Request) -> web.Response:
    database, migrations = await _database_state(request)
    stopping = request.app[SHUTTING_DOWN][0]
    ready = database == "ok" and migrations == "current" and not stopping
    body = Readiness(
        status="ready" if ready else "unavailable",
        database=database,
        migrations=migrations,
        shutting_down=stopping,
    )
    return json_response(body, 200 if ready else 503)


async def _refresh_database_gauges(request: web.Request) -> None:
    """Gauges whose truth is in PostgreSQL (shared by every replica), read at scrape time."""
    metrics = request.app[METRICS]
    try:
        async with asyncio.timeout(2), request.app[POOL].acquire() as conn:
            runs = await sync_runs.last_runs(conn)
            await refresh_outbox_gauges(conn, metrics)
    except Exception:  # a scrape must not fail because the database is away
        return
    now = datetime.now(UTC)
    for run in runs:
        metrics.sync_lag.labels(run["job"]).set((now - run["finished_at"]).total_seconds())
    try:  # apart: a count slowed by a large table must not hold back the sync-lag gauges
        async with asyncio.timeout(2), request.app[POOL].acquire() as conn:
            pickups = await pickup_stats.count_by_state(conn)
    except Exception:
        return
    for state in PickupState:  # every state, 0 when none is in it
        metrics.pickups.labels(state.value).set(pickups.get(state.value, 0))


@router.route(
    "GET",
    "/metrics",
    name="metrics",
    summary="Prometheus metrics",
    tags=["ops"],
    content_type="text/plain",
)
async def metrics(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    await _refresh_database_gauges(request)
    body = generate_latest(metrics.registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


@router.route("GET", "/openapi.json", name="openapi", summary="OpenAPI 3.1 document", tags=["ops"])
async def openapi(request: web.Request) -> web.Response:
    cached = request.app[OPENAPI]
    if not cached:
        cached.append(build_openapi(request.app[ENDPOINTS].values(), version=VERSION))
    return web.json_response(cached[0])
