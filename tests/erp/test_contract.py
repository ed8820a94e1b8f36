"""Contract: the envelopes the adapter sends, compared with hand-written golden bodies.

The simulator records raw requests; for every operation we check element names, namespaces,
order and values of the body, and the SOAPAction, Content-Type and Authorization headers.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.erp.cegid import CegidErp
from service.erp.port import DocumentKey, DocumentLine, NewCustomer, PickupDocument
from service.erp.simulator import SimulatorState
from service.erp.wsdl import SERVICES

GOLDEN = Path(__file__).with_name("golden")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)  # 10:30 in Paris
EAN0, EAN1 = "2070000000018", "2070000000025"
KEY = DocumentKey(number=1020000001, stump="WEB1", type="CustomerOrder")
RECEIPT = DocumentKey(number=1010000008, stump="S001", type="Receipt")  # demo sales history

ORDER = PickupDocument(
    kind="order",
    reference="PK-GOLD-1",
    store_id="S002",
    web_store_id="WEB",
    customer_id="C0000002",
    lines=(DocumentLine("EC00001-NOI-TU", EAN0, 2, Decimal("29.99"), "Echarpe"),),
    created_at=WHEN,
    external_reference="PS-XKBKNABJK",
    paid=True,
    comment="Retrait magasin",
)
RESERVATION = PickupDocument(
    kind="reservation",
    reference="RS-GOLD-1",
    store_id="S003",
    web_store_id="WEB",
    customer_id="C0000002",
    lines=(DocumentLine("EC00001-VER-TU", EAN1, 1),),
    created_at=WHEN,
    expires_at=datetime(2025, 3, 4, 18, 0, tzinfo=UTC),
)


async def _created_then(erp: CegidErp, call: Callable[[CegidErp], Awaitable[Any]]) -> Any:
    await erp.create_pickup_document(ORDER)
    return await call(erp)


CASES: dict[str, Callable[[CegidErp], Awaitable[Any]]] = {
    "ItemInventoryWcfService.HelloWorld": lambda e: e.hello("ping"),
    "ItemInventoryWcfService.GetListItemInventoryDetailByStore": lambda e: e.stock_page(
        2, 10, store_ids=["S001", "S002"], barcodes=[EAN0, EAN1]
    ),
    "ItemInventoryWcfService.GetAvailableQty": lambda e: e.available_qty(EAN0, "S001"),
    "ItemInventoryWcfService.GetInventoryDetailByStore": lambda e: e.stock_by_store(EAN0),
    "SaleDocumentService.Create": lambda e: e.create_pickup_document(ORDER),
    "SaleDocumentService.CustomersReservationCreate": lambda e: e.create_pickup_document(
        RESERVATION
    ),
    "SaleDocumentService.GetByReference": lambda e: e.find_document("PK-404"),
    "SaleDocumentService.GetByExternalReference": lambda e: e.find_document("PK-404"),
    "SaleDocumentService.UpdateHeader": lambda e: _created_then(
        e, lambda x: x.set_follow_up_status(KEY, "AvailableInStore")
    ),
    "SaleDocumentService.Cancel": lambda e: _created_then(
        e, lambda x: x.cancel_document(KEY, "R01")
    ),
    "CustomerWcfService.SearchCustomerIds": lambda e: e.find_customers_by_email(
        "theo.leroy1@example.com", 3
    ),
    "CustomerWcfService.GetCustomerDetail": lambda e: e.customer("C0000002"),
    "CustomerWcfService.GetCustomerIdByReference": lambda e: e.customer_id_by_reference(
        "LC0000000002"
    ),
    "CustomerWcfService.AddNewCustomer": lambda e: e.add_customer(
        NewCustomer("lea.martin@example.com", "Léa", "Martin", "+33612345678", "S002")
    ),
    "CustomerWcfService.UpdateCustomer": lambda e: e.update_customer(
        "C0000002", NewCustomer("", "Théo", "Leroy-Martin", "+33611111111")
    ),
    "SaleDocumentService.GetHeaderList": lambda e: e.sale_headers(
        "C0000002",
        document_types=["Receipt", "CustomerOrder"],
        begin=datetime(2025, 1, 1, tzinfo=UTC),
        end=WHEN,
        page_index=2,
        page_size=20,
    ),
    "SaleDocumentService.GetByKey": lambda e: e.sale_document(RECEIPT),
    "LoyaltyWcfService.GetCustomerCards": lambda e: e.loyalty_cards("C0000002"),
    "LoyaltyWcfService.GetCustomerAvailableLoyaltyPoints": lambda e: e.customer_points("C0000002"),
    "LoyaltyWcfService.UpdatePoints": lambda e: e.update_points(
        "LC0000000002",
        "FID01",
        Decimal(-150),
        store_id="S001",
        comment="Commande PK-GOLD-1",
        when=WHEN,
    ),
    "RetailSalesPriceEngine2Service.GetListDetail": lambda e: e.store_prices(
        "S001", [EAN0, EAN1], date(2025, 3, 1)
    ),
    "ProductMerchandiseItemsService.GetListDetail": lambda e: e.items_page(3, 50),
}


def shape(el: etree._Element) -> tuple[Any, ...]:
    """Tag (with namespace), trimmed text and children, recursively: names, order, values."""
    children = [shape(c) for c in el if isinstance(c.tag, str)]
    return (el.tag, (el.text or "").strip(), children)


def test_every_operation_has_a_golden_case() -> None:
    operations = {f"{s.name}.{op}" for s in SERVICES.values() for op in s.operations}
    expected = {name for name in operations if not name.endswith(".HelloWorld")}
    assert expected | {"ItemInventoryWcfService.HelloWorld"} == set(CASES)
    assert {p.stem for p in GOLDEN.glob("*.xml")} == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_request_envelope_matches_golden(
    case: str, erp: CegidErp, state: SimulatorState
) -> None:
    service, operation = case.split(".")
    await CASES[case](erp)

    sent = state.journal.find(operation, service)
    assert sent, f"{case} was not sent"
    exchange = sent[-1]
    envelope = etree.fromstring(exchange.body.encode())
    assert envelope.tag == f"{{{SOAP_ENV}}}Envelope"
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None and len(body) == 1
    golden = etree.parse(str(GOLDEN / f"{case}.xml")).getroot()
    assert shape(body[0]) == shape(golden)

    info = SERVICES[service]
    assert exchange.headers["SOAPAction"] == f'"{info.soap_action(operation)}"'
    assert exchange.headers["Content-Type"] == "text/xml; charset=utf-8"
    token = base64.b64encode(b"DEMO\\omnistock:secret").decode()
    assert exchange.headers["Authorization"] == f"Basic {token}"
    assert exchange.status == 200


def test_soap_actions_follow_cegid_contract_names() -> None:
    assert SERVICES["RetailSalesPriceEngine2Service"].soap_action("GetListDetail") == (
        "http://www.cegid.fr/Retail/1.0/IEngine2WebService/GetListDetail"
    )
    assert SERVICES["ProductMerchandiseItemsService"].soap_action("GetListDetail") == (
        "http://www.cegid.fr/Retail/1.0/IMerchandiseItemsWebService/GetListDetail"
    )
    assert SERVICES["LoyaltyWcfService"].soap_action("HelloWorld") == (
        "http://www.cegid.fr/Retail/1.0/ICbrBasicWebServiceInterface/HelloWorld"
    )
    assert SERVICES["SaleDocumentService"].binding == (
        "{http://tempuri.org/}BasicHttpBinding_ISaleDocumentService"
    )
