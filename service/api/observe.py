"""Request ids, structured access logs and the early body-size check (used by
``service.api.edge``, the wrapper of every handler, which also counts the request metrics)."""

from __future__ import annotations

import itertools
import logging
import re
import secrets

from aiohttp import web

from service.api.appkeys import PRINCIPAL, SETTINGS
from service.errors import TooLarge
from service.observability import json_lines_handler_for, utc_now_ms

_ACCESS_LOGGER = "omnistock.access"
access_log = logging.getLogger(_ACCESS_LOGGER)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-Id"
# Our own ids: a random prefix per process and a counter (unique across replicas and restarts
# without a system call per request, as uuid4 makes).
_ID_PREFIX = secrets.token_hex(8)
_ids = itertools.count(1)


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is a sane one, else ours."""
    given = request.headers.get(REQUEST_ID_HEADER)
    if given and _REQUEST_ID.match(given):
        return given
    return f"{_ID_PREFIX}{next(_ids):016x}"


def log_access(
    request: web.Request, request_id: str, route: str, method: str, status: int, elapsed: float
) -> None:
    principal = request.get(PRINCIPAL)
    path = request.path
    # the line JsonFormatter writes for the ``access_log.info`` call below: one dict, its
    # members in the formatter's order (its own four, then the extra fields), encoded once
    line = {
        "ts": utc_now_ms(),
        "level": "INFO",
        "logger": _ACCESS_LOGGER,
        "msg": f"{method} {path} {status}",
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
    if fast is not None:  # without a LogRecord
        fast.write_fields(line)
        return
    extra = dict(itertools.islice(line.items(), 4, None))  # the formatter adds the first four
    access_log.info("%s %s %s", method, path, status, extra=extra)


def refuse_oversize(request: web.Request) -> None:
    """Refuse a declared oversize body before reading it (aiohttp enforces the rest). Called by
    ``problems_middleware`` (a middleware of its own cost a coroutine layer per request)."""
    length = request.content_length
    if length is not None:
        limit = request.app[SETTINGS].max_body_bytes
        if length > limit:
            raise TooLarge(f"the body is {length} bytes; the limit is {limit}")
