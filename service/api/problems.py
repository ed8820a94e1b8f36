"""RFC 9457 problem+json: the one shape of every error answer, made for any error a request
raises (``problem_for``, called by ``service.api.edge``, the wrapper of every handler)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson
from aiohttp import web, web_protocol
from pydantic import BaseModel, Field

from service.api.appkeys import REQUEST_ID
from service.api.observe import refuse_oversize
from service.domain.errors import InsufficientStock
from service.erp.port import ErpUnavailable
from service.errors import PROBLEM_BASE, AppError, InvalidInput, ServiceUnavailable

log = logging.getLogger("omnistock.api")
PROBLEM_JSON = "application/problem+json"

# Stable problem types for errors aiohttp raises itself (routing, body size, content type).
_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    429: ("too-many-requests", "Too many requests"),
    503: ("service-unavailable", "Service unavailable"),
}


class Problem(BaseModel):
    """An RFC 9457 problem document. Extra members depend on ``type``."""

    type: str = Field(description="Stable URI of the problem type.")
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    request_id: str = ""
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Field errors: loc (path), msg, type."
    )


# orjson, written as ``json.dumps(body, default=str)`` would (refusals are a hot path: a sold-out
# item answers 409 to every shopper): datetimes and dataclasses through ``str``, int keys as text
_AS_JSON_DUMPS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
)


def problem_response(
    request: web.Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": request.get(REQUEST_ID, ""),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return web.Response(
        status=status,
        body=orjson.dumps(body, default=str, option=_AS_JSON_DUMPS),
        content_type=PROBLEM_JSON,
        charset="utf-8",
        headers=headers,
    )


def _from_http(request: web.Request, exc: web.HTTPException) -> web.Response:
    slug, title = _HTTP_SLUGS.get(exc.status, ("http-error", exc.reason))
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    if exc.status == 405:
        detail = f"{request.method} is not allowed on {request.path}"
    elif exc.status == 404:
        detail = f"no resource at {request.path}"
    elif exc.status == 413:
        detail = "the request body is larger than this service accepts"
    headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "WWW-Authenticate")}
    return problem_response(request, exc.status, slug, title, detail, headers)


# Extra mappings other packages register (domain error type -> function making an AppError).
class InsufficientStockProblem(AppError):
    status = 409
    slug = "insufficient-stock"
    title = "Insufficient stock"


def _insufficient(exc: InsufficientStock) -> AppError:
    return InsufficientStockProblem(
        str(exc),
        shortfalls=[
            {
                "store_id": s.store_id,
                "sku": s.sku,
                "requested": s.requested,
                "available": s.available,
            }
            for s in exc.shortfalls
        ],
    )


def _database_down(exc: BaseException) -> AppError:
    log.warning("the database is unreachable: %s: %s", type(exc).__name__, exc)
    return ServiceUnavailable("the database is unavailable; try again shortly")


# Connection-level database failures (PostgreSQL stopped, restarting, shutting down, out of
# connections, a connection lost mid-query; a pool acquire or connect timing out): the request
# may succeed on a retry, so they are 503 with Retry-After, never 500.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError, ...
    asyncpg.CannotConnectNowError,  # "the database system is starting up / shutting down"
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
    asyncpg.InternalClientError,  # a protocol state left by a connection lost mid-query
    ConnectionError,  # ConnectionRefusedError, ConnectionResetError
    TimeoutError,  # connect or acquire timeout
    socket.gaierror,
)

ERROR_MAPPERS: dict[type[BaseException], Callable[[Any], AppError]] = {
    ErpUnavailable: lambda e: ServiceUnavailable(f"the ERP is unavailable: {e}"),
    InsufficientStock: _insufficient,
    **dict.fromkeys(DATABASE_DOWN, _database_down),
}


def _app_error_response(request: web.Request, err: AppError) -> web.Response:
    headers: dict[str, str] = {}
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="omnistock"'
    if isinstance(err, ServiceUnavailable):
        headers["Retry-After"] = str(err.retry_after_s)
    return problem_response(
        request, err.status, err.slug, err.title, err.detail, headers or None, **err.extra
    )


def check_request(request: web.Request) -> None:
    """What is refused before anything else looks at a request (by ``service.api.edge``)."""
    if "\x00" in request.path:  # a %00 in a path parameter: PostgreSQL refuses NUL in text
        raise InvalidInput(
            "the path is invalid",
            [{"loc": ["path"], "msg": "NUL characters are not allowed", "type": "string_nul"}],
        )
    refuse_oversize(request)  # the early body-size check


def problem_for(request: web.Request, exc: Exception) -> web.Response:
    """The problem+json answer of an error raised while handling ``request`` (by
    ``service.api.edge``); an HTTPException below 400 (a redirect) is raised again as it is."""
    if isinstance(exc, AppError):
        return _app_error_response(request, exc)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        return _from_http(request, exc)
    for kind, mapper in ERROR_MAPPERS.items():
        if isinstance(exc, kind):
            return _app_error_response(request, mapper(exc))
    log.exception("unhandled error", exc_info=exc, extra={"request_id": request.get(REQUEST_ID)})
    return problem_response(
        request, 500, "internal-error", "Internal error", "an unexpected error occurred"
    )


# Errors aiohttp's HTTP parser answers itself, before any middleware: a request line, header or
# URL over its limits, a malformed request. aiohttp writes them as text/plain quoting the input
# (and logs a traceback for each); ours are problem+json, name no input, and log one line.
def _low_level_error(
    self: web_protocol.RequestHandler,
    request: Any,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    if request.writer.output_size > 0:
        raise ConnectionError("Response is sent already, cannot send another response")
    if status >= 500:
        log.error("error handling a request", exc_info=exc)
        slug, title, detail = "internal-error", "Internal error", "an unexpected error occurred"
    else:
        log.info("refused a malformed request: %s", type(exc).__name__ if exc else status)
        slug, title = _HTTP_SLUGS.get(status, ("bad-request", "Bad request"))
        detail = (
            "the request line, URL or headers are malformed or larger than this service accepts"
        )
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "",
        "request_id": "",
    }
    resp = web.Response(
        status=status, body=orjson.dumps(body), content_type=PROBLEM_JSON, charset="utf-8"
    )
    resp.force_close()
    return resp


web_protocol.RequestHandler.handle_error = _low_level_error  # type: ignore[method-assign]
