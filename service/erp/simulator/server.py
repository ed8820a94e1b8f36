"""The simulated Cegid Y2 tenant: an aiohttp application serving the six SOAP services.

``POST /{app}/{Service}.svc`` (any app segment: ``Y2``, ``Y2_TEST``...) answers SOAP 1.1;
``GET`` with ``?wsdl`` or ``?singleWsdl`` serves the bundled WSDL (or, for tests of
``omnistock erp check``, a replacement given as ``served_wsdls`` or through ``/_sim/wsdl``).
Both need HTTP Basic auth as ``DATABASEID\\user`` or the ``CbrAuth`` cookie set by an earlier
authenticated answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import BasicAuth, web

from service.erp.simulator import ops_catalog, ops_customers, ops_inventory, ops_sales
from service.erp.simulator.appkeys import SETTINGS, STATE, SimSettings
from service.erp.simulator.control import add_control_routes
from service.erp.simulator.faults import FaultRule
from service.erp.simulator.journal import Exchange
from service.erp.simulator.opcontext import Handler
from service.erp.simulator.replies import action_not_supported, execute, injected_reply
from service.erp.simulator.schema import ServiceSchema, load_schemas
from service.erp.simulator.state import SimulatorState
from service.erp.wsdl import CUSTOMERS, INVENTORY, ITEMS, LOYALTY, PRICES, SALE_DOCUMENTS

log = logging.getLogger(__name__)

HANDLERS: dict[str, dict[str, Handler]] = {
    INVENTORY.name: ops_inventory.HANDLERS,
    SALE_DOCUMENTS.name: ops_sales.HANDLERS,
    CUSTOMERS.name: ops_customers.CUSTOMER_HANDLERS,
    LOYALTY.name: ops_customers.LOYALTY_HANDLERS,
    PRICES.name: ops_catalog.PRICE_HANDLERS,
    ITEMS.name: ops_catalog.ITEM_HANDLERS,
}
COOKIE = "CbrAuth"
MAX_TOKENS = 10_000


def create_simulator_app(
    state: SimulatorState,
    *,
    control: bool,
    database_id: str,
    users: dict[str, str],
    served_wsdls: dict[str, str] | None = None,
) -> web.Application:
    """The simulator as an aiohttp application; ``control`` adds the ``/_sim/`` endpoints.
    ``served_wsdls`` ({service: WSDL text}) replaces what ``?singleWsdl`` serves, not what the
    services accept."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[STATE] = state
    schemas = load_schemas()
    unknown = set(served_wsdls or {}) - set(schemas)
    if unknown:
        raise ValueError(f"served_wsdls: unknown services {sorted(unknown)}")
    app[SETTINGS] = SimSettings(
        database_id, dict(users), schemas, served_wsdls=dict(served_wsdls or {})
    )
    app.router.add_get("/{app}/{service}.svc", wsdl_handler, name="wsdl")
    app.router.add_post("/{app}/{service}.svc", soap_handler, name="soap")
    if control:
        add_control_routes(app)
    app.on_shutdown.append(_on_shutdown)
    return app


async def _on_shutdown(app: web.Application) -> None:
    app[SETTINGS].shutdown.set()  # wakes requests hanging on a 'timeout' fault


# ---------------------------------------------------------------------------- auth
def _authenticate(request: web.Request) -> str | None:
    """The identity (``DATABASEID\\user``) from Basic auth, else from the CbrAuth cookie."""
    settings = request.app[SETTINGS]
    header = request.headers.get("Authorization", "")
    if not header:
        return settings.tokens.get(request.cookies.get(COOKIE, ""))
    try:
        auth = BasicAuth.decode(header)
    except ValueError:
        return None
    database, sep, user = auth.login.partition("\\")
    expected = settings.users.get(user)
    if not sep or database.upper() != settings.database_id.upper() or expected is None:
        return None
    if not hmac.compare_digest(expected.encode(), auth.password.encode()):
        return None
    return auth.login


def _unauthorized() -> web.Response:
    return web.Response(
        status=401,
        text="401 - Unauthorized: Access is denied due to invalid credentials.",
        content_type="text/html",
        headers={"WWW-Authenticate": 'Basic realm="Y2"'},
    )


def _remember(request: web.Request, response: web.StreamResponse, identity: str) -> None:
    """Issue a CbrAuth cookie unless the request already carries a valid one."""
    tokens = request.app[SETTINGS].tokens
    if request.cookies.get(COOKIE, "") in tokens:
        return
    while len(tokens) >= MAX_TOKENS:
        del tokens[next(iter(tokens))]  # forget the oldest session
    token = secrets.token_urlsafe(24)
    tokens[token] = identity
    response.set_cookie(COOKIE, token, httponly=True, path="/")


# ---------------------------------------------------------------------------- handlers
async def wsdl_handler(request: web.Request) -> web.Response:
    schema = request.app[SETTINGS].schemas.get(request.match_info["service"])
    if schema is None:
        raise web.HTTPNotFound()
    identity = _authenticate(request)
    if identity is None:
        return _unauthorized()
    if not {"wsdl", "singlewsdl"} & {key.lower() for key in request.query}:
        return web.Response(
            text="<html><body>You have created a service.</body></html>", content_type="text/html"
        )
    address = str(request.url.with_query(None))
    replacement = request.app[SETTINGS].served_wsdls.get(schema.info.name)
    response = web.Response(body=schema.wsdl_for(address, replacement), content_type="text/xml")
    _remember(request, response, identity)
    return response


async def soap_handler(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    schema = request.app[SETTINGS].schemas.get(request.match_info["service"])
    if schema is None:
        raise web.HTTPNotFound()
    identity = _authenticate(request)
    if identity is None:
        return _unauthorized()
    body = await request.read()
    action = request.headers.get("SOAPAction", "").strip().strip('"')
    operation = schema.actions.get(action, "")
    text = body.decode(errors="replace")
    exchange = Exchange(schema.info.name, operation, action, dict(request.headers), text)
    state.journal.record(exchange)
    if operation:
        status, payload, rule = await _answer(request, schema, operation, body, identity)
    else:
        status, payload, rule = 500, action_not_supported(action), None
    exchange.status = status
    if state.journal.record_responses:
        exchange.response = payload.decode(errors="replace")
    if rule is not None and rule.kind == "drop":
        return await _drop(request)
    response = web.Response(
        status=status, body=payload, content_type=_content_type(payload), charset="utf-8"
    )
    _remember(request, response, identity)
    return response


def _content_type(payload: bytes) -> str:
    if payload.startswith((b"<?xml", b"<s:Envelope")):
        return "text/xml"
    return "text/html" if payload.startswith(b"<html") else "text/plain"


async def _answer(
    request: web.Request, schema: ServiceSchema, operation: str, body: bytes, identity: str
) -> tuple[int, bytes, FaultRule | None]:
    settings, state = request.app[SETTINGS], request.app[STATE]
    latency_ms, rule = state.faults.draw(schema.info.name, operation)
    if latency_ms:
        await asyncio.sleep(latency_ms / 1000)
    if rule is not None and rule.kind == "timeout":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(settings.shutdown.wait(), rule.hang_ms / 1000)
    early = injected_reply(rule, operation)
    if early is not None:
        return early[0], early[1], rule
    status, payload = execute(
        state,
        schema,
        HANDLERS[schema.info.name],
        operation=operation,
        body=body,
        identity=identity,
        database_id=settings.database_id,
        now=datetime.now(),
        inject_duplicate=rule is not None and rule.kind == "duplicate",
    )
    return status, payload, rule


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering: the request was processed, the reply is lost."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError()


# ---------------------------------------------------------------------------- serving
@contextlib.asynccontextmanager
async def serve_simulator(
    state: SimulatorState,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    control: bool = True,
    database_id: str = "DEMO",
    users: dict[str, str] | None = None,
    served_wsdls: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """Serve the simulator while the context is open; yields its base URL (port 0: ephemeral)."""
    app = create_simulator_app(
        state,
        control=control,
        database_id=database_id,
        users=users or {"omnistock": "secret"},
        served_wsdls=served_wsdls,
    )
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


async def run_simulator(
    host: str,
    port: int,
    state: SimulatorState,
    *,
    control: bool,
    database_id: str,
    users: dict[str, str],
) -> None:
    """Serve the simulator on ``host:port`` until cancelled."""
    async with serve_simulator(
        state, host=host, port=port, control=control, database_id=database_id, users=users
    ) as url:
        log.info("Cegid Y2 simulator listening on %s/Y2/ (database %s)", url, database_id)
        await asyncio.Event().wait()
