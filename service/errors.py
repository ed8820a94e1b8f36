"""Application errors raised by use cases; the API turns each into RFC 9457 problem+json.

Each class carries a stable ``slug`` (the problem ``type`` is ``PROBLEM_BASE + slug``), an HTTP
status, a title, a human ``detail`` and optional structured ``extra`` members.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "urn:omnistock:problem:"


class AppError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(AppError):
    """Well-formed request whose content is wrong. ``errors`` lists field errors."""

    status = 422
    slug = "validation-error"
    title = "Invalid request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class BadRequest(AppError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class TooLarge(AppError):
    status = 413
    slug = "payload-too-large"
    title = "Request too large"


class ServiceUnavailable(AppError):
    """A dependency (the ERP, PostgreSQL) cannot answer now: the answer carries Retry-After."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
    retry_after_s: ClassVar[int] = 2  # /readyz recovers within about a second of PostgreSQL
