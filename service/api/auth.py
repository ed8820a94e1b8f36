"""Bearer API key authentication and role checks, driven by each endpoint's declared roles
(called by ``service.api.edge``, the wrapper of every handler)."""

from __future__ import annotations

from aiohttp import hdrs, web

from service.api.appkeys import KEY_CACHE, POOL, PRINCIPAL
from service.api.routing import Endpoint, endpoint_of
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


def authorize_known(request: web.Request) -> bool:
    """The usual request, without a coroutine: a public endpoint, or a key the cache knows (then
    admitted or refused here). False: ``await authorize(request)`` decides (a staff session
    cookie, a key to check in PostgreSQL, no credentials)."""
    endpoint = endpoint_of(request)
    if endpoint is None or endpoint.public:
        return True
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None:
        return False
    found, principal = request.app[KEY_CACHE].get(_bearer(header))
    if not found:
        return False
    _admit(request, endpoint, principal)
    return True


async def authorize(request: web.Request) -> None:
    """Who calls, for a request ``authorize_known`` could not decide: its staff session cookie
    or its key; 401 or 403, else ``request[PRINCIPAL]`` is set."""
    endpoint = endpoint_of(request)
    if endpoint is None or endpoint.public:
        return
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None and SESSION_COOKIE in request.cookies:
        principal: Principal | None = (await cookie_session(request)).principal
    else:
        key = _bearer(header or "")
        found, principal = request.app[KEY_CACHE].get(key)
        if not found:
            principal = await _verify(request, key)
    _admit(request, endpoint, principal)


def _admit(request: web.Request, endpoint: Endpoint, principal: Principal | None) -> None:
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    if principal.role not in endpoint.roles:
        allowed = ", ".join(sorted(endpoint.roles))
        raise Forbidden(f"role {principal.role!r} may not call this endpoint (allowed: {allowed})")
    request[PRINCIPAL] = principal


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def require_store_access(request: web.Request, store_id: str) -> None:
    """403 when a staff key is bound to other stores."""
    if not principal_of(request).may_act_on_store(store_id):
        raise Forbidden(f"this key may not act on store {store_id!r}")
