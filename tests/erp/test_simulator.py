"""The simulator as a Cegid tenant: auth, SOAPAction, element order, shapes, stock, control API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from lxml import etree

from service.erp.cegid import CegidErp
from service.erp.port import ErpBusinessError
from service.erp.simulator import SimulatorState, run_simulator, serve_simulator
from service.erp.simulator.schema import load_schemas
from service.erp.wsdl import NS_FAULT, NS_RETAIL, NS_SOAP_ENV, NS_XSI
from service.erp.wsdl.contract import contracts
from tests.erp.test_contract import CASES

R = f'xmlns="{NS_RETAIL}"'
CTX = "<clientContext><DatabaseId>DEMO</DatabaseId></clientContext>"
INVENTORY = "/Y2/ItemInventoryWcfService.svc"
SALES = "/Y2/SaleDocumentService.svc"
ACTION = "http://www.cegid.fr/Retail/1.0/{contract}/{op}"
EAN0 = "2070000000018"


def envelope(inner: str) -> str:
    return f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body>{inner}</s:Body></s:Envelope>'


def qty_request(ean: str = EAN0, store: str = "S001", ctx: str = CTX) -> str:
    item = f"<itemIdentifier><Reference>{ean}</Reference></itemIdentifier>"
    return envelope(f"<GetAvailableQty {R}>{item}<storeId>{store}</storeId>{ctx}</GetAvailableQty>")


def qty_action(quoted: bool = True) -> dict[str, str]:
    action = ACTION.format(contract="IItemInventoryWcfService", op="GetAvailableQty")
    return {"SOAPAction": f'"{action}"' if quoted else action, "Content-Type": "text/xml"}


@pytest.fixture
async def http(sim_url: str) -> AsyncIterator[httpx.AsyncClient]:
    auth = httpx.BasicAuth("DEMO\\omnistock", "secret")
    async with httpx.AsyncClient(base_url=sim_url, auth=auth) as client:
        yield client


def fault_of(response: httpx.Response) -> etree._Element:
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(f"{{{NS_SOAP_ENV}}}Body/{{{NS_SOAP_ENV}}}Fault")
    assert fault is not None
    return fault


async def test_auth_is_basic_with_database_prefix_then_cookie(sim_url: str) -> None:
    async with httpx.AsyncClient(base_url=sim_url) as anon:
        refused = await anon.post(INVENTORY, content=qty_request(), headers=qty_action())
        assert refused.status_code == 401 and "Basic" in refused.headers["WWW-Authenticate"]
        for login in ("omnistock", "OTHER\\omnistock", "DEMO\\intruder"):
            response = await anon.post(
                INVENTORY, content=qty_request(), headers=qty_action(), auth=(login, "secret")
            )
            assert response.status_code == 401, login
        ok = await anon.post(
            INVENTORY,
            content=qty_request(),
            headers=qty_action(),
            auth=("DEMO\\omnistock", "secret"),
        )
        assert ok.status_code == 200 and "CbrAuth" in ok.cookies
        replay = await anon.post(INVENTORY, content=qty_request(), headers=qty_action())
        assert replay.status_code == 200  # cookie only, no Authorization header
        anon.cookies.clear()
        assert (await anon.get(f"{INVENTORY}?wsdl")).status_code == 401


@pytest.mark.parametrize("query", ["wsdl", "singleWsdl"])
async def test_wsdl_is_served_with_the_request_address(
    http: httpx.AsyncClient, sim_url: str, query: str
) -> None:
    response = await http.get(f"/Y2_TEST/SaleDocumentService.svc?{query}")
    assert response.status_code == 200
    assert f'location="{sim_url}/Y2_TEST/SaleDocumentService.svc"' in response.text
    assert "BasicHttpBinding_ISaleDocumentService" in response.text


async def test_soap_action_quoted_or_not_and_wrong(http: httpx.AsyncClient) -> None:
    for quoted in (True, False):
        response = await http.post(INVENTORY, content=qty_request(), headers=qty_action(quoted))
        assert response.status_code == 200
    wrong = {"SOAPAction": ACTION.format(contract="IItemInventoryWcfService", op="Nope")}
    fault = fault_of(await http.post(INVENTORY, content=qty_request(), headers=wrong))
    assert fault.findtext("faultcode") == "a:ActionNotSupported"
    mismatch = {
        "SOAPAction": ACTION.format(
            contract="IItemInventoryWcfService", op="GetInventoryDetailByStore"
        )
    }
    fault = fault_of(await http.post(INVENTORY, content=qty_request(), headers=mismatch))
    assert fault.findtext("faultcode") == "a:DeserializationFailed"


async def test_out_of_order_members_are_refused(http: httpx.AsyncClient) -> None:
    item = f"<itemIdentifier><Reference>{EAN0}</Reference></itemIdentifier>"
    swapped = envelope(f"<GetAvailableQty {R}><storeId>S001</storeId>{item}{CTX}</GetAvailableQty>")
    fault = fault_of(await http.post(INVENTORY, content=swapped, headers=qty_action()))
    assert fault.findtext("faultcode") == "a:DeserializationFailed"
    assert "itemIdentifier" in (fault.findtext("faultstring") or "")


async def test_database_id_and_dtd_are_checked(http: httpx.AsyncClient) -> None:
    other = "<clientContext><DatabaseId>OTHER</DatabaseId></clientContext>"
    fault = fault_of(
        await http.post(INVENTORY, content=qty_request(ctx=other), headers=qty_action())
    )
    assert "Unknown database 'OTHER'" in (fault.findtext("faultstring") or "")
    with_dtd = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + qty_request()
    response = await http.post(INVENTORY, content=with_dtd, headers=qty_action())
    assert response.status_code == 400


async def test_fault_shape_is_cegid(http: httpx.AsyncClient) -> None:
    fault = fault_of(
        await http.post(INVENTORY, content=qty_request(ean="123"), headers=qty_action())
    )
    code = fault.find("faultcode")
    assert code is not None and code.text == "a:CBR_001_0005"
    assert code.nsmap["a"] == NS_FAULT
    string = fault.find("faultstring")
    assert string is not None
    assert string.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert (string.text or "").startswith("Remote call failed: Code = (WP006) Message = (")
    f = f"{{{NS_FAULT}}}"
    outer = fault.find(f"detail/{f}CbpExceptionDetail")
    assert outer is not None and outer.findtext(f"{f}TrackingId")
    inner = outer.find(f"{f}InnerException/{f}InnerException")
    assert inner is not None and inner.findtext(f"{f}Message") == "The item '123' does not exist"
    innermost = inner.find(f"{f}InnerException")
    assert innermost is not None and innermost.get(f"{{{NS_XSI}}}nil") == "true"
    # CbpExceptionDetail extends ExceptionDetail: the base's members first, then Id and ToDo
    members = [etree.QName(c).localname for c in outer]
    assert members == [
        "HelpLink",
        "InnerException",
        "Message",
        "StackTrace",
        "TrackingId",
        "Type",
        "Id",
        "ToDo",
    ]


async def test_replies_validate_against_the_wsdl_and_look_like_wcf(
    erp: CegidErp, state: SimulatorState
) -> None:
    for call in CASES.values():
        await call(erp)
    await erp.stock_page(1, 5)
    schemas = load_schemas()
    answered = [e for e in state.journal.exchanges if e.status == 200]
    assert {e.operation for e in answered} >= {n.split(".")[1] for n in CASES}
    for exchange in answered:
        assert exchange.response is not None
        body = etree.fromstring(exchange.response.encode())[0]
        reply = body[0]
        assert reply.tag == f"{{{NS_RETAIL}}}{exchange.operation}Response" and reply.prefix is None
        assert schemas[exchange.service].errors(reply) == "", exchange.operation
    stock = [e for e in answered if e.operation == "GetListItemInventoryDetailByStore"][-1]
    assert "EC00001-NOI-TU                    X</ItemCode>" in (stock.response or "")
    get = next(e for e in answered if e.operation == "GetByReference" and "PK-GOLD-1" in e.body)
    assert "<CancelDate>0001-01-01T00:00:00</CancelDate>" in (get.response or "")


async def test_control_stock_faults_documents_calls_reset(
    http: httpx.AsyncClient, erp: CegidErp, state: SimulatorState
) -> None:
    baseline = state.on_hand("S001", 0)
    sale = await http.post("/_sim/stock", json={"store_id": "S001", "ean": EAN0, "qty": 9})
    assert sale.json()["available"] == 9
    sale = await http.post(
        "/_sim/stock", json={"store_id": "S001", "sku": "EC00001-NOI-TU", "delta": -1}
    )
    assert sale.json()["on_hand"] == 8 and await erp.available_qty(EAN0, "S001") == 8
    assert (
        await http.post("/_sim/stock", json={"store_id": "S001", "ean": EAN0})
    ).status_code == 400
    before = state.on_hand("S002", 0), state.on_hand("S003", 0)
    batch = [{"store_id": "S002", "ean": EAN0, "qty": before[0] + 100}, {"store_id": "S003"}]
    refused = await http.post("/_sim/stock/batch", json={"changes": batch})
    assert refused.status_code == 404  # an unknown row: nothing applied
    batch[1] = {"store_id": "S003", "ean": EAN0}
    refused = await http.post("/_sim/stock/batch", json={"changes": batch})
    assert refused.status_code == 400  # neither qty nor delta: nothing applied
    assert (state.on_hand("S002", 0), state.on_hand("S003", 0)) == before
    batch[1]["delta"] = 2
    applied = await http.post("/_sim/stock/batch", json={"changes": batch})
    assert applied.json() == {"changed": 2}
    assert (state.on_hand("S002", 0), state.on_hand("S003", 0)) == (before[0] + 100, before[1] + 2)
    bad = await http.post("/_sim/faults", json={"kind": "meteor"})
    assert bad.status_code == 400
    added = await http.post("/_sim/faults", json={"kind": "http500", "count": 1})
    assert added.status_code == 201 and len((await http.get("/_sim/faults")).json()) == 1
    assert (await http.delete("/_sim/faults")).json() == {"ok": True}
    for call in CASES.values():
        await call(erp)
    docs = (await http.get("/_sim/documents")).json()
    assert {d["internal_reference"] for d in docs} == {"PK-GOLD-1", "RS-GOLD-1"}
    assert "<ns0:InternalReference>PK-GOLD-1" in docs[0]["received_xml"]
    calls = (await http.get("/_sim/calls")).json()
    assert calls["SaleDocumentService.Create"] == 3
    sent = (await http.get("/_sim/requests", params={"operation": "Cancel"})).json()
    assert len(sent) == 1 and sent[0]["headers"]["SOAPAction"].endswith(
        'ISaleDocumentService/Cancel"'
    )
    assert (await http.post("/_sim/reset")).json() == {"ok": True}
    assert state.documents == {} and state.reserved == {} and not state.journal.calls
    assert state.on_hand("S001", 0) == baseline
    assert (await http.get("/_sim/stores")).json()[0]["code"] == "S001"


async def test_control_endpoints_absent_when_disabled(state: SimulatorState) -> None:
    async with serve_simulator(state, control=False) as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/_sim/health")).status_code == 404


async def test_reservation_holds_stock_until_cancel_or_pickup(
    erp: CegidErp, state: SimulatorState
) -> None:
    state.set_on_hand("S003", 1, 5)
    await CASES["SaleDocumentService.CustomersReservationCreate"](erp)  # 1 x item 1 in S003
    assert (state.on_hand("S003", 1), state.available("S003", 1)) == (5, 4)
    found = await erp.find_document("RS-GOLD-1")
    assert found is not None
    await erp.set_follow_up_status(found.key, "PickedUpInStore")  # goods leave the store
    assert (state.on_hand("S003", 1), state.available("S003", 1)) == (4, 4)
    with pytest.raises(ErpBusinessError, match="closed and cannot be canceled"):
        await erp.cancel_document(found.key)
    assert (state.on_hand("S003", 1), state.available("S003", 1)) == (4, 4)


async def test_order_then_cancel_twice_restores_once(erp: CegidErp, state: SimulatorState) -> None:
    state.set_on_hand("S002", 0, 3)
    await CASES["SaleDocumentService.Create"](erp)  # 2 x item 0 picked up in S002
    assert state.available("S002", 0) == 1
    found = await erp.find_document("PK-GOLD-1")
    assert found is not None
    await erp.cancel_document(found.key)
    await erp.cancel_document(found.key)
    assert state.available("S002", 0) == 3 and state.reserved == {}


async def test_cbr_auth_cookie_is_issued_once(http: httpx.AsyncClient) -> None:
    first = await http.post(INVENTORY, content=qty_request(), headers=qty_action())
    second = await http.post(INVENTORY, content=qty_request(), headers=qty_action())
    assert "CbrAuth" in first.cookies
    assert "CbrAuth" not in second.cookies  # the replayed cookie is still valid


async def test_run_simulator_serves_until_cancelled(state: SimulatorState) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    task = asyncio.create_task(
        run_simulator("127.0.0.1", port, state, control=True, database_id="DEMO", users={})
    )
    health = None
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                health = (await client.get(f"http://127.0.0.1:{port}/_sim/health")).json()
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.02)
    assert health == {"ok": True, "stores": 3, "skus": 20}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("with_name", [True, False])
@pytest.mark.parametrize("only_available", [True, False])
def test_written_stock_pages_are_the_bytes_reply_writes(
    state: SimulatorState, with_name: bool, only_available: bool
) -> None:
    import dataclasses

    from service.erp.simulator.ops_inventory import page_rows, written_page
    from service.erp.simulator.xmlio import reply

    store = state.stores["S002"]
    state.stores["S002"] = dataclasses.replace(store, name="Lyon <Part-Dieu> & Co\r")
    state.reserved[("S001", 3)] = 1_000  # held beyond on hand: available 0
    state.set_on_hand("S003", 4, -2)
    op = "GetListItemInventoryDetailByStore"
    for items, stores in (
        (list(range(20)), list(state.stores)),
        ([3, 4, 0], ["S003", "S001"]),
        ([5], ["S002"]),
        ([], list(state.stores)),
    ):
        svc = contracts()["ItemInventoryWcfService"]
        rows = page_rows(state, items, stores, (with_name, False), only_available)
        generic = reply(svc, op, rows)
        written = reply(svc, op, written_page(state, items, stores, with_name, only_available))
        assert written == generic
