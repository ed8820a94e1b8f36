"""Bearer API key authentication and role checks, driven by each endpoint's declared roles."""

from __future__ import annotations

from aiohttp import hdrs, web

from service.api.appkeys import KEY_CACHE, POOL, PRINCIPAL
from service.api.routing import Handler, endpoint_of
from service.api.staff_auth import SESSION_COOKIE, cookie_session
from service.domain.apikeys import Principal
from service.errors import AppError, Forbidden
from service.usecases.access.keys import authenticate


class Unauthorized(AppError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


def _bearer(header: str) -> str:
    """The key of an ``Authorization`` header's value."""
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    return token.strip()


async def _verify(request: web.Request, key: str) -> Principal | None:
    """A key the cache does not know: checked in PostgreSQL (by its hash), then remembered."""
    principal = await authenticate(request.app[POOL], key)
    request.app[KEY_CACHE].put(key, principal)
    return principal


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    endpoint = endpoint_of(request)
    if endpoint is None or endpoint.public:
        return await handler(request)
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None and SESSION_COOKIE in request.cookies:
        principal: Principal | None = (await cookie_session(request)).principal
    else:
        key = _bearer(header or "")
        found, principal = request.app[KEY_CACHE].get(key)  # no coroutine for a known key
        if not found:
            principal = await _verify(request, key)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    if principal.role not in endpoint.roles:
        allowed = ", ".join(sorted(endpoint.roles))
        raise Forbidden(f"role {principal.role!r} may not call this endpoint (allowed: {allowed})")
    request[PRINCIPAL] = principal
    return await handler(request)


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def require_store_access(request: web.Request, store_id: str) -> None:
    """403 when a staff key is bound to other stores."""
    if not principal_of(request).may_act_on_store(store_id):
        raise Forbidden(f"this key may not act on store {store_id!r}")
