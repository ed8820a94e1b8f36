"""The staff pickup console: its page and assets (``/staff/``), and its sessions.

Sign-in turns a store device's staff key into a server session (see ``staff_auth``); the page
then calls the same ``/v1`` endpoints as any client, authenticated by the session cookie.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web
from pydantic import BaseModel, Field

from service.api.appkeys import POOL, SETTINGS
from service.api.routing import Router, json_response, parse_body
from service.api.staff_auth import (
    check_same_origin,
    clear_session_cookie,
    cookie_session,
    session_of,
    session_times,
    set_session_cookie,
)
from service.usecases.access.staff_sessions import StaffSession, sign_in, sign_out, store_names

router = Router()
TAGS = ["staff"]  # the OpenAPI tag "Staff": the store's side of a pickup
ASSETS = {  # the console's files: name -> content type (nothing else is served)
    "app.js": "text/javascript",
    "app.css": "text/css",
    "i18n.js": "text/javascript",
    "icon.svg": "image/svg+xml",
}
LANGUAGES = ("en", "fr")
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


class SignIn(BaseModel):
    key: str = Field(min_length=8, max_length=200, description="The store device's staff key.")


class StoreRef(BaseModel):
    store_id: str
    name: str


class StaffSessionOut(BaseModel):
    label: str = Field(description="The staff key's label (which device signed in).")
    stores: list[StoreRef]
    csrf_token: str = Field(description="Echo it in X-CSRF-Token on every write.")
    idle_timeout_s: int
    code_attempts: int = Field(
        description="Wrong pickup codes a pickup takes before it locks "
        "(OMNISTOCK_PICKUP_CODE_ATTEMPTS): with a pickup's code_failures, the attempts left."
    )


async def _answer(request: web.Request, session: StaffSession, status: int) -> web.Response:
    stores = await store_names(request.app[POOL], session.principal)
    return json_response(
        StaffSessionOut(
            label=session.principal.label,
            stores=[StoreRef(store_id=i, name=n) for i, n in stores],
            csrf_token=session.csrf_token,
            idle_timeout_s=int(session_times(request).idle.total_seconds()),
            code_attempts=request.app[SETTINGS].pickup_code_attempts,
        ),
        status,
    )


@router.route(
    "POST",
    "/v1/staff/session",
    name="staff_sign_in",
    tags=TAGS,
    summary="Sign the console in with a staff key (sets an HttpOnly session cookie)",
    body=SignIn,
    responses={201: StaffSessionOut},
    problems=[401, 403],
)
async def post_session(request: web.Request) -> web.Response:
    check_same_origin(request)
    body = await parse_body(request, SignIn)
    session = await sign_in(request.app[POOL], body.key, session_times(request))
    response = await _answer(request, session, 201)
    set_session_cookie(request, response, session.token)
    return response


@router.route(
    "GET",
    "/v1/staff/session",
    name="staff_session",
    tags=TAGS,
    summary="The console's current session (401 when signed out, expired or revoked)",
    responses={200: StaffSessionOut},
    problems=[401],
)
async def get_session(request: web.Request) -> web.Response:
    session = await cookie_session(request)
    return await _answer(request, session, 200)


@router.route(
    "DELETE",
    "/v1/staff/session",
    name="staff_sign_out",
    tags=TAGS,
    summary="Sign out: ends the session and clears the cookie (needs X-CSRF-Token)",
    responses={204: None},
    problems=[403],
)
async def delete_session(request: web.Request) -> web.Response:
    if await session_of(request) is not None:
        session = await cookie_session(request)  # same-origin and CSRF token checks
        await sign_out(request.app[POOL], session.token)
    response = web.Response(status=204)
    clear_session_cookie(request, response)
    return response


def preferred_language(header: str) -> str:
    """The first of our languages the ``Accept-Language`` header prefers (English by default)."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and quality > 0:
            ranked.append((-quality, n, lang))
    return min(ranked)[2] if ranked else "en"


def _static(name: str) -> str:
    return resources.files("service.api").joinpath(f"static/staff/{name}").read_text("utf-8")


@router.route(
    "GET",
    "/staff",
    name="staff_console_bare",
    summary="Redirects to /staff/",
    tags=TAGS,
    documented=False,  # the console's page and files, not API
    responses={301: None},
)
async def console_bare(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/staff/")


@router.route(
    "GET",
    "/staff/",
    name="staff_console",
    tags=TAGS,
    documented=False,  # the console's page and files, not API
    summary="The staff pickup console (HTML; its language follows Accept-Language)",
    content_type="text/html",
)
async def console(request: web.Request) -> web.Response:
    lang = preferred_language(request.headers.get("Accept-Language", ""))
    page = _static("index.html").replace('<html lang="en"', f'<html lang="{lang}"', 1)
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS)


@router.route(
    "GET",
    "/staff/assets/{name}",
    name="staff_asset",
    tags=TAGS,
    documented=False,  # the console's page and files, not API
    summary="The console's script, style sheet and icon",
    content_type="text/plain",
    problems=[404],
)
async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(
        text=_static(name),
        content_type=ASSETS[name],
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
