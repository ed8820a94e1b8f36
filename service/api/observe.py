"""Request ids, structured access logs, request metrics and the early body-size check."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from aiohttp import web

from service.api.appkeys import PRINCIPAL, REQUEST_ID, ROUTE_METRICS, SETTINGS
from service.api.routing import Handler
from service.errors import TooLarge
from service.observability import json_lines_handler_for, utc_now_ms

access_log = logging.getLogger("omnistock.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-Id"
# Our own ids: a random prefix per process and a counter (unique across replicas and restarts
# without a system call per request, as uuid4 makes).
_ID_PREFIX = secrets.token_hex(8)
_ids = itertools.count(1)


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER)
    if given and _REQUEST_ID.match(given):
        return given
    return f"{_ID_PREFIX}{next(_ids):016x}"


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    metrics = request.app[ROUTE_METRICS]
    started = time.perf_counter()
    status = 500
    metrics.in_flight += 1
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        elapsed = time.perf_counter() - started
        metrics.in_flight -= 1
        route = request.match_info.route.name or "unmatched"
        method = request.method
        metrics.observe(route, method, status, elapsed)
        _log_access(request, request_id, route, method, status, elapsed)


def _log_access(
    request: web.Request, request_id: str, route: str, method: str, status: int, elapsed: float
) -> None:
    principal = request.get(PRINCIPAL)
    path = request.path
    fields = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "remote": request.remote,
        "key_id": principal.key_id if principal else None,
    }
    fast = json_lines_handler_for(access_log, logging.INFO)
    if fast is None:
        access_log.info("%s %s %s", method, path, status, extra=fields)
        return
    # the same line JsonFormatter would write for the call above, without a LogRecord
    fast.write_fields(
        {
            "ts": utc_now_ms(),
            "level": "INFO",
            "logger": access_log.name,
            "msg": f"{method} {path} {status}",
            **fields,
        }
    )


@web.middleware
async def body_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a declared oversize body before reading it (aiohttp enforces the rest)."""
    limit = request.app[SETTINGS].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the body is {request.content_length} bytes; the limit is {limit}")
    return await handler(request)
