"""Liveness, readiness, metrics and the OpenAPI document (the docs pages: ``service.api.docs``)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from service.api.appkeys import ENDPOINTS, METRICS, OPENAPI, POOL, SHUTTING_DOWN
from service.api.openapi import build_openapi
from service.api.routing import Router, json_response
from service.usecases.health import database_state, refresh_database_gauges

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


@router.route(
    "GET",
    "/readyz",
    name="readyz",
    summary="Readiness: database and migrations",
    tags=["ops"],
    responses={200: Readiness, 503: Readiness},
)
async def readyz(request: web.Request) -> web.Response:
    database, migrations = await database_state(request.app[POOL])
    stopping = request.app[SHUTTING_DOWN][0]
    ready = database == "ok" and migrations == "current" and not stopping
    body = Readiness(
        status="ready" if ready else "unavailable",
        database=database,
        migrations=migrations,
        shutting_down=stopping,
    )
    return json_response(body, 200 if ready else 503)


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
    await refresh_database_gauges(request.app[POOL], metrics)
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
