"""Request ids, structured access logs and the early body-size check (used by
``service.api.edge``, the wrapper of every handler, which also counts the request metrics)."""

from __future__ import annotations

import itertools
import logging
import re
import secrets

import orjson
from aiohttp import web

from service.api.appkeys import SETTINGS
from service.errors import TooLarge
from service.observability import json_lines_handler_for, utc_now_ms

_ACCESS_LOGGER = "omnistock.access"
access_log = logging.getLogger(_ACCESS_LOGGER)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-Id"
# Our own ids, for a request without a sane X-Request-Id (the edge makes them):
# f"{ID_PREFIX}{next(ID_COUNTER):016x}", 32 hex digits, a random prefix per process and a
# counter (unique across replicas and restarts without a system call per request, as uuid4
# makes).
ID_PREFIX = secrets.token_hex(8)
ID_COUNTER = itertools.count(1)


def sane_request_id(given: str) -> bool:
    """A caller's X-Request-Id we keep (else the edge makes one)."""
    return _REQUEST_ID.match(given) is not None


def log_access(
    request: web.Request,
    path: str,
    request_id: str,
    route: str,
    method: str,
    status: int,
    elapsed: float,
    key_id: str | None,
) -> None:
    fast = json_lines_handler_for(access_log, logging.INFO)
    if fast is None and not access_log.isEnabledFor(logging.INFO):
        return  # nothing to build (a WARNING level)
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
        # milliseconds to three places; round() to a whole number is several times cheaper
        # than round(x, 3), and the quotient of a whole number by 1000 prints as those places
        "duration_ms": round(elapsed * 1e6) / 1000,
        "remote": request.remote,
        "key_id": key_id,
    }
    if fast is not None:  # without a LogRecord
        fast.write_line(orjson.dumps(line, default=str).decode())
        return
    extra = dict(itertools.islice(line.items(), 4, None))  # the formatter adds the first four
    access_log.info("%s %s %s", method, path, status, extra=extra)


def refuse_oversize(request: web.Request) -> None:
    """Refuse a declared oversize body before reading it (aiohttp enforces the rest). Called by
    ``problems.check_request``."""
    length = request.content_length
    if length is not None:
        limit = request.app[SETTINGS].max_body_bytes
        if length > limit:
            raise TooLarge(f"the body is {length} bytes; the limit is {limit}")
