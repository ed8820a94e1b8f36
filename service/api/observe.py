"""Request ids, structured access logs, request metrics and the early body-size check."""

from __future__ import annotations

import logging
import re
import time
import uuid

from aiohttp import web

from service.api.appkeys import METRICS, PRINCIPAL, REQUEST_ID, SETTINGS
from service.api.routing import Handler
from service.errors import TooLarge

access_log = logging.getLogger("omnistock.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-Id"


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    metrics = request.app[METRICS]
    started = time.perf_counter()
    status = 500
    metrics.http_in_flight.inc()
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        elapsed = time.perf_counter() - started
        metrics.http_in_flight.dec()
        route = request.match_info.route.name or "unmatched"
        metrics.http_requests.labels(route, request.method, str(status)).inc()
        metrics.http_latency.labels(route, request.method).observe(elapsed)
        principal = request.get(PRINCIPAL)
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
                "remote": request.remote,
                "key_id": principal.key_id if principal else None,
            },
        )


@web.middleware
async def body_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a declared oversize body before reading it (aiohttp enforces the rest)."""
    limit = request.app[SETTINGS].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the body is {request.content_length} bytes; the limit is {limit}")
    return await handler(request)
