"""The edge every request passes: its id, its metrics and its access-log line, around
problem+json for any error, around authentication. The rules stay in their modules: ids and
access log in ``observe``, problems in ``problems``, who may call what in ``auth``.

Not an aiohttp middleware: each route's handler is wrapped once, when it is registered
(``Router.install(app, edge)``), and requests no route matches reach ``unmatched`` through a
catch-all route registered last, so they get the same problem+json 404 or 405, metrics and log
line. Why: any middleware at all makes aiohttp look the middleware chain up per request (an
``lru_cache`` call), call it through ``functools.partial`` and add a layer of its own
(``_fix_request_current_app``).

What a route's wrapper needs is bound when it is registered: the route's name, method and
roles, its metrics recorder, the key cache. A request of a known caller then costs the edge
about a dozen Python-level calls (each, in CPython 3.11, about a thousand CPU instructions).
Measured with valgrind callgrind over the same 1,000 cached availability answers (one
keep-alive connection), instructions per request: 354k with the three middlewares this was,
315k as wrapped handlers that looked everything up per request, 284k bound as here (256k at
WARNING, without the access line); the bare app of ``bench/availability.py`` takes 238k, and
a bare app answering this request with the same bytes, every route registered, 227k.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import hdrs, web

from service.api.appkeys import KEY_CACHE, PRINCIPAL, REQUEST_ID, ROUTE_METRICS
from service.api.auth import admit, authorize
from service.api.observe import (
    ID_COUNTER,
    ID_PREFIX,
    REQUEST_ID_HEADER,
    log_access,
    sane_request_id,
)
from service.api.problems import check_request, problem_for
from service.api.routing import PUBLIC, Handler
from service.domain.apikeys import Principal, Role

UNMATCHED = "unmatched"  # the catch-all route's name, and the metrics' route label for it


def edge(
    app: web.Application,
    handler: Handler,
    *,
    name: str | None = None,
    method: str | None = None,
    roles: frozenset[Role] = PUBLIC,
) -> Handler:
    """``handler`` as ``app`` registers it, for the route ``name`` (the metrics' and the log's
    route label; UNMATCHED when None) of ``method`` (None: the request's, for a route that
    takes several) open to ``roles`` (empty: public), with everything above around it."""
    route = name or UNMATCHED
    metrics = app[ROUTE_METRICS]
    entry = app[KEY_CACHE].entry
    recorders: dict[str, Callable[[int, float], None]] = {}
    record = None if method is None else metrics.recorder(route, method)
    perf_counter, monotonic = time.perf_counter, time.monotonic

    def recorder(method: str) -> Callable[[int, float], None]:
        found = recorders.get(method)
        if found is None:  # a route of several methods: one per method it answered
            found = recorders[method] = metrics.recorder(route, method)
        return found

    async def at_edge(request: web.Request) -> web.StreamResponse:
        started = perf_counter()
        headers = request.headers
        request_id = headers.get(REQUEST_ID_HEADER)
        if request_id is None or not sane_request_id(request_id):
            request_id = f"{ID_PREFIX}{next(ID_COUNTER):016x}"  # see observe.ID_PREFIX
        path = request.path
        status = 500
        principal: Principal | None = None
        metrics.in_flight += 1
        try:
            try:
                if "\x00" in path or hdrs.CONTENT_LENGTH in headers:
                    check_request(request)  # a %00 in the path; a declared body too large
                if roles:
                    # KeyCache.known and auth.admit, inline for a caller known and admitted
                    hit = entry(headers.get(hdrs.AUTHORIZATION) or "")
                    if hit is None or hit[0] <= monotonic():
                        principal = await authorize(request, roles)
                    elif (known := hit[1]) is not None and known.role in roles:
                        request[PRINCIPAL] = principal = known
                    else:
                        principal = admit(request, roles, known)  # 401 or 403
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    status = exc.status
                    raise  # a redirect: aiohttp sends it as it is
                request[REQUEST_ID] = request_id
                response = problem_for(request, exc)
            except Exception as exc:
                request[REQUEST_ID] = request_id
                response = problem_for(request, exc)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            elapsed = perf_counter() - started
            metrics.in_flight -= 1
            verb = method or request.method
            (record or recorder(verb))(status, elapsed)
            if principal is None:
                principal = request.get(PRINCIPAL)  # a public route that admitted a caller
            log_access(
                request,
                path,
                request_id,
                route,
                verb,
                status,
                elapsed,
                principal.key_id if principal else None,
            )

    at_edge.__name__ = at_edge.__qualname__ = getattr(handler, "__name__", "handler")
    at_edge.__doc__ = handler.__doc__
    return at_edge


async def _unmatched(request: web.Request) -> web.StreamResponse:
    """No route took this request: 405 with ``Allow`` when its path has routes for other
    methods (as aiohttp's own resolver says), else 404."""
    catch_all = request.match_info.route.resource
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not catch_all:
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


def install_unmatched(app: web.Application) -> None:
    """The catch-all route, after every other: aiohttp tries the routes of the longest matching
    path prefix first, so this one (prefix ``/``) only takes what none of them took."""
    app.router.add_route(
        "*", r"/{unmatched:[\s\S]*}", edge(app, _unmatched, name=UNMATCHED), name=UNMATCHED
    )
