"""Cookie sessions of the staff console, seen from HTTP: the cookie, its attributes, and the
cross-site request checks every cookie-authenticated write must pass.

A write authenticated by the session cookie needs both a same-origin request (``Origin`` and,
when the browser sends it, ``Sec-Fetch-Site``) and the session's CSRF token echoed in
``X-CSRF-Token``. Bearer-key calls are not cookie-authenticated and skip these checks.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web

from service.api.appkeys import POOL, SETTINGS
from service.errors import AppError, Forbidden
from service.usecases.access.staff_sessions import SessionTimes, StaffSession, resume

SESSION_COOKIE = "omnistock_staff"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionEnded(AppError):
    status = 401
    slug = "session-ended"
    title = "Session ended"


class CrossSiteRefused(Forbidden):
    slug = "cross-site-request"
    title = "Cross-site request refused"


def session_times(request: web.Request) -> SessionTimes:
    s = request.app[SETTINGS]
    return SessionTimes(
        idle=timedelta(seconds=s.staff_session_idle_s),
        max_age=timedelta(seconds=s.staff_session_max_s),
    )


def is_tls(request: web.Request) -> bool:
    """Served over TLS, here or at a proxy in front (``X-Forwarded-Proto``). A forged header can
    only add ``Secure`` to the sender's own cookie, so trusting it costs nothing."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=request.app[SETTINGS].staff_session_max_s,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_tls(request),
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=is_tls(request)
    )


def check_same_origin(request: web.Request) -> None:
    """403 unless the browser says the request comes from a page of this origin."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise CrossSiteRefused(f"a {site} request may not use the staff session")
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        raise CrossSiteRefused("a staff console write must say its Origin")
    if urlsplit(origin).netloc.lower() != request.host.lower():
        raise CrossSiteRefused(f"requests from {origin} may not use the staff session")


async def session_of(request: web.Request) -> StaffSession | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return await resume(request.app[POOL], token, session_times(request)) if token else None


async def cookie_session(request: web.Request) -> StaffSession:
    """The request's live session, CSRF-checked for writes; 401 when it has ended."""
    session = await session_of(request)
    if session is None:
        raise SessionEnded("the staff session has ended (signed out, expired or key revoked)")
    if request.method not in SAFE_METHODS:
        check_same_origin(request)
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise CrossSiteRefused(f"a staff console write must carry {CSRF_HEADER}")
    return session
