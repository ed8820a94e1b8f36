"""RFC 9457 problem+json: the one shape of every error answer, and the middleware that makes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import REQUEST_ID
from service.api.routing import Handler
from service.domain.errors import InsufficientStock
from service.erp.port import ErpUnavailable
from service.errors import PROBLEM_BASE, AppError, ServiceUnavailable

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


ERROR_MAPPERS: dict[type[BaseException], Callable[[Any], AppError]] = {
    ErpUnavailable: lambda e: ServiceUnavailable(f"the ERP is unavailable: {e}"),
    InsufficientStock: _insufficient,
}


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as exc:
        headers = {"WWW-Authenticate": 'Bearer realm="omnistock"'} if exc.status == 401 else None
        return problem_response(
            request, exc.status, exc.slug, exc.title, exc.detail, headers, **exc.extra
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http(request, exc)
    except Exception as exc:
        for kind, mapper in ERROR_MAPPERS.items():
            if isinstance(exc, kind):
                err = mapper(exc)
                return problem_response(
                    request, err.status, err.slug, err.title, err.detail, **err.extra
                )
        log.exception("unhandled error", extra={"request_id": request.get(REQUEST_ID)})
        return problem_response(
            request, 500, "internal-error", "Internal error", "an unexpected error occurred"
        )
