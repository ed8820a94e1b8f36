"""Control endpoints under ``/_sim/`` (JSON in and out), for tests, demos and benchmarks.

- ``GET /_sim/health``; ``GET /_sim/stores``: the store directory;
- ``GET /_sim/stock?store_id=&sku=``; ``POST /_sim/stock`` ``{store_id, sku|ean, qty|delta}``:
  set the on-hand quantity, or change it (an in-store sale is ``delta: -1``);
  ``POST /_sim/stock/batch`` ``{changes: [{store_id, sku|ean, qty|delta}, ...]}``: many at once,
  all or none (benchmarks change thousands of rows);
- ``GET|POST|DELETE /_sim/faults``: list, add (see ``faults.py`` for the fields), clear rules;
- ``GET /_sim/documents``: sale documents received; ``GET /_sim/calls``: calls per operation;
- ``GET /_sim/requests?operation=&service=&limit=``: raw requests as received;
- ``POST /_sim/reset``: back to the initial stock and points, no documents, faults or journal;
- ``GET /_sim/wsdl``: services whose served WSDL is replaced; ``PUT /_sim/wsdl/{service}`` (the
  WSDL text as body): serve it at ``?singleWsdl`` instead of the bundled one (to rehearse
  ``omnistock erp check`` against an altered tenant; requests are still validated against the
  bundled contract); ``DELETE /_sim/wsdl/{service}``: serve the bundled one again.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from service.erp.simulator.appkeys import SETTINGS, STATE
from service.erp.simulator.faults import FaultSpecError
from service.erp.simulator.state import SimDocument, SimulatorState


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text='{"error": "body must be JSON"}', content_type="application/json"
        ) from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return data


def _stock_row(state: SimulatorState, store_id: str, item: int) -> dict[str, Any]:
    record = state.items[item]
    return {
        "store_id": store_id,
        "sku": record.sku,
        "ean": record.ean,
        "on_hand": state.on_hand(store_id, item),
        "reserved": state.reserved.get((store_id, item), 0),
        "available": state.available(store_id, item),
    }


def _locate(state: SimulatorState, data: Any) -> tuple[str, int]:
    store_id = str(data.get("store_id", ""))
    item = state.find_item(str(data.get("sku") or data.get("ean") or ""))
    if store_id not in state.stores or item is None:
        raise web.HTTPNotFound(
            text='{"error": "unknown store_id or sku/ean"}', content_type="application/json"
        )
    return store_id, item


async def get_stock(request: web.Request) -> web.Response:
    state = request.app[STATE]
    store_id, item = _locate(state, request.query)
    return web.json_response(_stock_row(state, store_id, item))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _stock_change(state: SimulatorState, data: Any) -> tuple[str, int, int | None, int | None]:
    """(store_id, item, qty, delta) of one change, exactly one of qty and delta set."""
    if not isinstance(data, dict):
        raise _bad("a change is a JSON object")
    store_id, item = _locate(state, data)
    qty, delta = data.get("qty"), data.get("delta")
    if not ((_is_int(qty) and delta is None) or (_is_int(delta) and qty is None)):
        raise _bad("give exactly one integer of 'qty' or 'delta'")
    return store_id, item, qty, delta


def _apply(state: SimulatorState, change: tuple[str, int, int | None, int | None]) -> None:
    store_id, item, qty, delta = change
    if qty is None:
        qty = state.on_hand(store_id, item) + (delta or 0)
    state.set_on_hand(store_id, item, qty)


async def post_stock(request: web.Request) -> web.Response:
    state = request.app[STATE]
    change = _stock_change(state, await _json_body(request))
    _apply(state, change)
    return web.json_response(_stock_row(state, change[0], change[1]))


async def post_stock_batch(request: web.Request) -> web.Response:
    state = request.app[STATE]
    changes = (await _json_body(request)).get("changes")
    if not isinstance(changes, list):
        return _error(400, "'changes' must be a list")
    checked = [_stock_change(state, data) for data in changes]  # all valid, or none applied
    for change in checked:
        _apply(state, change)
    return web.json_response({"changed": len(checked)})


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([r.to_dict() for r in request.app[STATE].faults.rules])


async def add_fault(request: web.Request) -> web.Response:
    try:
        rule = request.app[STATE].faults.add(await _json_body(request))
    except FaultSpecError as exc:
        return _error(400, str(exc))
    return web.json_response(rule.to_dict(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE].faults.clear()
    return web.json_response({"ok": True})


def _document(state: SimulatorState, doc: SimDocument) -> dict[str, Any]:
    return {
        "key": {"type": doc.doc_type, "stump": doc.stump, "number": doc.number},
        "internal_reference": doc.internal_reference,
        "external_reference": doc.external_reference,
        "customer_id": doc.customer_id,
        "store_id": doc.store_id,
        "delivery_store_id": doc.delivery_store_id,
        "delivery_type": doc.delivery_type,
        "follow_up_status": doc.follow_up_status,
        "cancel_status": doc.cancel_status,
        "active": doc.active,
        "holds_stock": doc.holds_stock,
        "lines": [
            {"sku": state.items[ln.item].sku, "quantity": ln.quantity, "label": ln.label}
            for ln in doc.lines
        ],
        "received_xml": doc.received_xml,
    }


async def list_documents(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response([_document(state, d) for d in state.documents.values()])


async def list_calls(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[STATE].journal.calls))


async def list_requests(request: web.Request) -> web.Response:
    journal = request.app[STATE].journal
    found = journal.find(request.query.get("operation", ""), request.query.get("service", ""))
    limit = int(request.query.get("limit", "50"))
    return web.json_response([e.to_dict() for e in found[-limit:]])


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"ok": True})


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"ok": True, "stores": len(state.stores), "skus": len(state.items)})


async def stores(request: web.Request) -> web.Response:
    return web.json_response([s.to_dict() for s in request.app[STATE].stores.values()])


async def list_served_wsdls(request: web.Request) -> web.Response:
    return web.json_response(sorted(request.app[SETTINGS].served_wsdls))


def _service(request: web.Request) -> str:
    service = request.match_info["service"]
    if service not in request.app[SETTINGS].schemas:
        raise web.HTTPNotFound(
            text=json.dumps({"error": f"unknown service {service}"}),
            content_type="application/json",
        )
    return service


async def put_served_wsdl(request: web.Request) -> web.Response:
    service = _service(request)
    text = await request.text()
    if not text.lstrip().startswith("<"):
        return _error(400, "the body must be the WSDL's XML text")
    request.app[SETTINGS].served_wsdls[service] = text
    return web.json_response({"service": service, "served": "replacement"})


async def delete_served_wsdl(request: web.Request) -> web.Response:
    service = _service(request)
    request.app[SETTINGS].served_wsdls.pop(service, None)
    return web.json_response({"service": service, "served": "bundled"})


def add_control_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/_sim/health", health)
    r.add_get("/_sim/stores", stores)
    r.add_get("/_sim/stock", get_stock)
    r.add_post("/_sim/stock", post_stock)
    r.add_post("/_sim/stock/batch", post_stock_batch)
    r.add_get("/_sim/faults", list_faults)
    r.add_post("/_sim/faults", add_fault)
    r.add_delete("/_sim/faults", clear_faults)
    r.add_get("/_sim/documents", list_documents)
    r.add_get("/_sim/calls", list_calls)
    r.add_get("/_sim/requests", list_requests)
    r.add_post("/_sim/reset", reset)
    r.add_get("/_sim/wsdl", list_served_wsdls)
    r.add_put("/_sim/wsdl/{service}", put_served_wsdl)
    r.add_delete("/_sim/wsdl/{service}", delete_served_wsdl)
