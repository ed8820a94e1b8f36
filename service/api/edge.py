"""The edge every request passes: its id, its metrics and its access-log line, around
problem+json for any error, around authentication. The rules stay in their modules: ids and
access log in ``observe``, problems in ``problems``, who may call what in ``auth``.

Not an aiohttp middleware: each route's handler is wrapped once, when it is registered
(``Router.install(app, edge)``), and requests no route matches reach ``unmatched`` through a
catch-all route registered last, so they get the same problem+json 404 or 405, metrics and log
line. Why: any middleware at all makes aiohttp look the middleware chain up per request (an
``lru_cache`` call), call it through ``functools.partial`` and add a layer of its own
(``_fix_request_current_app``). Measured with valgrind callgrind over the same 1,000 cached
availability answers (one keep-alive connection): 354k CPU instructions a request with the
three middlewares this was, 352k with one, 340-344k as wrapped handlers; the bare aiohttp app
of ``bench/availability.py`` takes 258k.
"""

from __future__ import annotations

import time

from aiohttp import web

from service.api.appkeys import REQUEST_ID, ROUTE_METRICS
from service.api.auth import authorize, authorize_known
from service.api.observe import REQUEST_ID_HEADER, log_access, request_id_of
from service.api.problems import check_request, problem_for
from service.api.routing import Handler

UNMATCHED = "unmatched"  # the catch-all route's name, and the metrics' route label for it


def edge(handler: Handler) -> Handler:
    """``handler`` as the app registers it: with everything above around it."""

    async def at_edge(request: web.Request) -> web.StreamResponse:
        request_id = request_id_of(request)
        request[REQUEST_ID] = request_id
        metrics = request.app[ROUTE_METRICS]
        started = time.perf_counter()
        status = 500
        metrics.in_flight += 1
        try:
            try:
                check_request(request)
                if not authorize_known(request):
                    await authorize(request)
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    status = exc.status
                    raise  # a redirect: aiohttp sends it as it is
                response = problem_for(request, exc)
            except Exception as exc:
                response = problem_for(request, exc)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            metrics.in_flight -= 1
            route = request.match_info.route.name or UNMATCHED
            method = request.method
            metrics.observe(route, method, status, elapsed)
            log_access(request, request_id, route, method, status, elapsed)

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
    app.router.add_route("*", r"/{unmatched:[\s\S]*}", edge(_unmatched), name=UNMATCHED)
