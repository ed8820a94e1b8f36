"""Bearer API key authentication and role checks, driven by each endpoint's declared roles
(called by ``service.api.edge``, the wrapper of every handler, which admits a known caller
itself: ``KeyCache.known`` then ``admit``)."""

from __future__ import annotations

from aiohttp import hdrs, web

from service.api.appkeys import KEY_CACHE, POOL, PRINCIPAL
from service.api.keycache import Miss
from service.api.staff_auth import SESSION_COOKIE, cookie_session
from service.domain.apikeys import Principal, Role
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


async def _verify(request: web.Request, header: str) -> Principal | None:
    """A header the cache does not know: its key checked in PostgreSQL (by its hash), then
    remembered under the header."""
    principal = await authenticate(request.app[POOL], _bearer(header))
    request.app[KEY_CACHE].put(header, principal)
    return principal


async def authorize(request: web.Request, roles: frozenset[Role]) -> Principal:
    """Who calls an endpoint open to ``roles``, when the edge's cache of known headers could not
    tell: a staff session cookie, or a key to check in PostgreSQL; 401 or 403, else
    ``request[PRINCIPAL]`` is set and returned."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None and SESSION_COOKIE in request.cookies:
        principal: Principal | None = (await cookie_session(request)).principal
    else:
        header = header or ""
        _bearer(header)  # 401 for a missing or malformed header, before any query
        found = request.app[KEY_CACHE].known(header)
        principal = await _verify(request, header) if isinstance(found, Miss) else found
    return admit(request, roles, principal)


def admit(request: web.Request, roles: frozenset[Role], principal: Principal | None) -> Principal:
    """``principal`` may call an endpoint open to ``roles``: set as ``request[PRINCIPAL]``;
    else 401 (no principal: unknown or revoked key) or 403 (another role)."""
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    if principal.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Forbidden(f"role {principal.role!r} may not call this endpoint (allowed: {allowed})")
    request[PRINCIPAL] = principal
    return principal


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def require_store_access(request: web.Request, store_id: str) -> None:
    """403 when a staff key is bound to other stores."""
    if not principal_of(request).may_act_on_store(store_id):
        raise Forbidden(f"this key may not act on store {store_id!r}")
