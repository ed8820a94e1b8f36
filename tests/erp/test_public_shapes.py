"""Replies shaped like the public Y2 contract are read right, whatever WCF or a tenant does to them.

The replies here are written member by member from the public evidence (docs/cegid-contract.md):
base-class members first (``CustomerQueryData`` extends ``CustomerData`` extends
``CustomerDataBase``, so ``CustomerId`` comes late), members we never read, ``i:nil`` members.
The property test then moves members around, adds unknown ones, drops the ones WCF may omit
(nil and default values) and checks that what we read does not change.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from service.erp.cegid import mapping
from service.erp.cegid.faults import fault_error, is_already_cancelled
from service.erp.cegid.transport import parse_strict
from service.erp.cegid.xmlread import result
from service.erp.port import (
    Customer,
    DocumentKey,
    DocumentLine,
    ErpBusinessError,
    ErpProtocolError,
    Item,
    LoyaltyCard,
    SaleDocument,
    SaleHeader,
    SaleLine,
    SalePayment,
)
from service.erp.simulator.xmlio import SimFault, cbr_fault
from service.erp.wsdl import NS_ARRAYS, NS_RETAIL, NS_SOAP_ENV, NS_XSI

NIL = object()
Tree = list[tuple[str, Any]]  # (member, text | NIL | nested members)


def _xml(members: Tree) -> str:
    out = []
    for name, value in members:
        if value is NIL:
            out.append(f'<{name} i:nil="true"/>')
        elif isinstance(value, list):
            out.append(f"<{name}>{_xml(value)}</{name}>")
        else:
            out.append(f"<{name}>{value}</{name}>")
    return "".join(out)


def envelope(operation: str, members: Tree | str) -> bytes:
    inner = members if isinstance(members, str) else _xml(members)
    return (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><{operation}Response xmlns="{NS_RETAIL}" '
        f'xmlns:a="{NS_ARRAYS}" xmlns:i="{NS_XSI}"><{operation}Result>{inner}</{operation}Result>'
        f"</{operation}Response></s:Body></s:Envelope>"
    ).encode()


def read(operation: str, content: bytes, fn: Callable[..., Any], *args: Any) -> Any:
    return fn(result(parse_strict(content), operation), *args)


# --------------------------------------------------------------------- public-shaped replies
def _key(number: str = "1020000042") -> Tree:
    return [("Number", number), ("Stump", "RES1"), ("Type", "CustomersReservation")]


def get_reply(reference: str = "PK-1") -> Tree:
    """``Get_Reply`` = DeliveryAddress, Header, InvoicingAddress, Lines, Payments, ShippingTaxes
    (pgrimaud/cegid-y2-sdk src/SaleDocument/Get_Reply.php, Get_Header.php, Get_Line.php)."""
    omni = [
        ("BillingStatus", "Pending"),
        ("CancelDate", "0001-01-01T00:00:00"),
        ("CancelReasonId", NIL),
        ("CancelStatus", "Unlocked"),
        ("Comment", NIL),
        ("DeliveryStoreId", "S003"),
        ("DeliveryType", "BookedInStore"),
        ("DeliveryWarehouseId", NIL),
        ("FollowUpStatus", "AvailableInStore"),
        ("GiftMessage", NIL),
        ("PaymentStatus", "Pending"),
    ]
    header = [
        ("Active", "true"),
        ("Comment", "Reserved online"),
        ("CurrencyId", "EUR"),
        ("CustomerId", "C0000002"),
        ("Date", "2026-12-01T10:00:00"),
        ("InternalReference", reference),
        ("Key", _key()),
        ("OmniChannel", omni),
        ("Origin", "ECommerce"),
        ("SalesPersonId", NIL),
        ("Status", "InProgress"),
        ("StoreId", "S003"),
        ("TaxExcludedTotalAmount", "49.92"),
        ("TaxIncludedTotalAmount", "59.90"),
        ("TotalQuantity", "1"),
        ("UserDefinedDates", NIL),
        ("UserFields", NIL),
        ("WarehouseId", "S003"),
    ]
    line = [
        ("CatalogReference", NIL),
        ("Comment", NIL),
        ("ItemCode", "SN00001-ROU-38"),
        ("ItemId", "SN00001-ROU-38     X"),
        ("ItemReference", "2070000000025"),
        ("Label", "Sneaker Rouge 38"),
        ("OmniChannel", [("FollowUpStatus", "AvailableInStore"), ("WarehouseId", "S003")]),
        ("Quantity", "1"),
        ("Rank", "1"),
        ("TaxExcludedNetUnitPrice", "49.92"),
        ("TaxExcludedUnitPrice", "49.92"),
        ("TaxIncludedNetUnitPrice", "59.90"),
        ("TaxIncludedUnitPrice", "59.90"),
        ("WarehouseId", "S003"),
    ]
    address = [("City", "Lyon"), ("FirstName", "Théo"), ("LastName", "Leroy")]
    return [
        ("DeliveryAddress", address),
        ("Header", header),
        ("InvoicingAddress", address),
        ("Lines", [("Get_Line", line)]),
        ("Payments", NIL),
        ("ShippingTaxes", NIL),
    ]


def customer_query_data(customer_id: str = "C0000002") -> Tree:
    """``CustomerQueryData`` : ``CustomerData`` : ``CustomerDataBase``, base members first."""
    base = [
        ("ActivitySectorCode", NIL),
        ("AddressData", [("AddressLine1", "3 rue de la Paix"), ("City", "Lyon")]),
        ("AlternateFirstName", NIL),
        ("EmailData", [("Email", "theo.leroy1@example.com"), ("EmailingAccepted", "true")]),
        ("FirstName", "Théo"),
        ("IsCompany", "false"),
        ("LastModificationDate", "2026-01-02T03:04:05"),
        ("LastName", "Leroy"),
        ("PhoneData", [("CellularPhoneNumber", "0601020304")]),
        ("TitleId", "MR"),
        ("UsualStoreId", "S001"),
    ]
    data = [("Barcode", NIL), ("LanguageId", "FRA"), ("OptinEmail", "AskCustomer")]
    query = [
        ("Closed", "false"),
        ("CreationStoreId", "S001"),
        ("CustomerId", customer_id),
        ("IsProspect", "false"),
        ("LastDateUpdate", "2026-01-02T03:04:05"),
    ]
    return base + data + query


def card() -> Tree:
    """``CardHeaderGet`` with ``BenefitExpiracyDate`` (xiaoguo0426/cegid-y2-sdk, Loyalty)."""
    program = [
        ("Closed", "false"),
        ("CurrencyId", "EUR"),
        ("ExpiracyDate", "0001-01-01T00:00:00"),
        ("Id", "FID01"),
        ("Label", "Fidélité"),
        ("Type", "Points"),
    ]
    return [
        ("ActivationDate", "2025-01-01T00:00:00"),
        ("Active", "true"),
        ("AvailableLoyaltyPoints", "1250"),
        ("BenefitEnable", "true"),
        ("BenefitExpiracyDate", "2027-01-01T00:00:00"),
        ("Closed", "false"),
        ("CustomerId", "C0000002"),
        ("ExpiracyDate", "2027-12-31T00:00:00"),
        ("Id", "LC0000000002"),
        ("Program", program),
        ("StoreId", "S001"),
    ]


def merchandise_item(item_id: str, barcode: str) -> Tree:
    """As heithemtliba/stock-prj reads it: Identification/Identifier/{Id, Barcode}."""
    return [
        ("Characteristics", [("ComplementaryDescription", NIL), ("MainSupplierId", "F01")]),
        ("Closed", "false"),
        ("Description", f"Item {item_id}"),
        ("Identification", [("Identifier", [("Barcode", barcode), ("Id", item_id)])]),
        ("Status", "Active"),
        ("SystemFields", [("CreationDate", "2024-01-01T00:00:00")]),
    ]


def price(barcode: str) -> Tree:
    unit = [
        ("Base", "59.90"),
        ("Current", "47.92"),
        ("DiscountPercent", "20"),
        ("MarkdownReasonId", "SOLD"),
    ]
    return [
        ("Barcode", barcode),
        ("ItemId", "SN00001-ROU-38     X"),
        ("PeriodId", "P-MD"),
        ("PriceListTypeId", "TTC"),
        ("UnitPrice", unit),
    ]


EXPECTED_LINE = DocumentLine(
    "SN00001-ROU-38", "2070000000025", 1, Decimal("59.90"), "Sneaker Rouge 38"
)
CARD = LoyaltyCard(
    "LC0000000002",
    "C0000002",
    "FID01",
    "Fidélité",
    True,
    Decimal(1250),
    date(2027, 12, 31),
    "S001",
)
CUSTOMER = Customer("C0000002", "Théo", "Leroy", "theo.leroy1@example.com", "0601020304", "S001")
ITEMS_PAGE = [
    (
        "MerchandiseItems",
        [("MerchandiseItem", merchandise_item(f"SKU{i}   X", f"20700{i}")) for i in range(3)],
    ),
    ("Pagination", [("Count", "3")]),
]

PARIS = ZoneInfo("Europe/Paris")


def receipt_header() -> Tree:
    """A ``Get_Header`` of an in-store receipt (no OmniChannel: nil)."""
    return [
        ("Active", "true"),
        ("Comment", NIL),
        ("CurrencyId", "EUR"),
        ("CustomerId", "C0000002"),
        ("Date", "2026-06-06T13:40:00"),
        ("InternalReference", "S003-1010000034"),
        ("Key", [("Number", "1010000034"), ("Stump", "S003"), ("Type", "Receipt")]),
        ("OmniChannel", NIL),
        ("Origin", "Shop"),
        ("SalesPersonId", "V12"),
        ("Status", "Delivered"),
        ("StoreId", "S003"),
        ("TaxExcludedTotalAmount", "49.92"),
        ("TaxIncludedTotalAmount", "59.90"),
        ("TotalQuantity", "2"),
        ("UserDefinedDates", NIL),
        ("UserDefinedTables", NIL),
        ("UserFields", NIL),
        ("WarehouseId", "S003"),
    ]


RECEIPT_HEADER = SaleHeader(
    key=DocumentKey(1010000034, "S003", "Receipt"),
    store_id="S003",
    date=datetime(2026, 6, 6, 13, 40, tzinfo=PARIS),
    customer_id="C0000002",
    currency="EUR",
    total_incl_tax=Decimal("59.90"),
    total_excl_tax=Decimal("49.92"),
    total_quantity=Decimal(2),
    internal_reference="S003-1010000034",
    origin="Shop",
    status="Delivered",
)


def receipt_reply() -> Tree:
    """``Get_Reply`` of a receipt with its payment (SDK ``Get_Payment.php``)."""
    line = [
        ("CatalogReference", NIL),
        ("ItemCode", "SN00001-ROU-38"),
        ("ItemId", "SN00001-ROU-38     X"),
        ("ItemReference", "2070000000025"),
        ("Label", "Sneaker Rouge 38"),
        ("Quantity", "2"),
        ("Rank", "1"),
        ("TaxIncludedNetUnitPrice", "29.95"),
        ("TaxIncludedUnitPrice", "34.95"),
    ]
    payment = [
        ("Amount", "59.90"),
        ("CashAmount", "0"),
        ("Code", "CB"),
        ("CreditCard", NIL),
        ("Currency", "EUR"),
        ("CurrencySymbol", "€"),
        ("DueDate", "2026-06-06T13:40:00"),
        ("IsReceivedPayment", "true"),
        ("Label", "Carte bancaire"),
    ]
    return [
        ("DeliveryAddress", NIL),
        ("Header", receipt_header()),
        ("InvoicingAddress", NIL),
        ("Lines", [("Get_Line", line)]),
        ("Payments", [("Get_Payment", payment)]),
        ("ShippingTaxes", NIL),
    ]


RECEIPT = SaleDocument(
    RECEIPT_HEADER,
    (
        SaleLine(
            1,
            "SN00001-ROU-38",
            "SN00001-ROU-38",
            "2070000000025",
            "Sneaker Rouge 38",
            Decimal(2),
            Decimal("34.95"),
            Decimal("29.95"),
        ),
    ),
    (SalePayment("Carte bancaire", "CB", Decimal("59.90"), "EUR"),),
)

# (operation, reply members, reader, args, what we expect to read)
CASES: dict[str, tuple[str, Tree, Callable[..., Any], tuple[Any, ...], Any]] = {
    "document": (
        "GetByReference",
        get_reply(),
        lambda r: (
            lambda d: (
                d.key,
                d.internal_reference,
                d.store_id,
                d.follow_up_status,
                d.cancel_status,
                d.active,
                d.lines,
            )
        )(mapping.document(r)),
        (),
        (
            DocumentKey(1020000042, "RES1", "CustomersReservation"),
            "PK-1",
            "S003",
            "AvailableInStore",
            "Unlocked",
            True,
            (EXPECTED_LINE,),
        ),
    ),
    "documents": (
        "GetByExternalReference",
        [("Get_Replies", [("Get_Reply", get_reply("PK-1")), ("Get_Reply", get_reply("PK-2"))])],
        lambda r: [d.internal_reference for d in mapping.documents(r)],
        (),
        ["PK-1", "PK-2"],
    ),
    "customer search": (
        "SearchCustomerIds",
        [
            ("CustomerQueryData", customer_query_data("C1")),
            ("CustomerQueryData", customer_query_data("C2")),
        ],
        mapping.customer_ids,
        (),
        ["C1", "C2"],
    ),
    "customer detail": ("GetCustomerDetail", customer_query_data(), mapping.customer, (), CUSTOMER),
    "customers with details": (
        "SearchCustomerIds",
        [
            ("CustomerQueryData", customer_query_data("C1")),
            ("CustomerQueryData", customer_query_data("C2")),
        ],
        lambda r: [(c.customer_id, c.email, c.updated_at) for c in mapping.customers(r, PARIS)],
        (),
        [
            (c, "theo.leroy1@example.com", datetime(2026, 1, 2, 3, 4, 5, tzinfo=PARIS))
            for c in ("C1", "C2")
        ],
    ),
    "new customer id": ("AddNewCustomer", "C0000011", mapping.text, (), "C0000011"),
    "header list": (
        "GetHeaderList",
        [("Headers", [("Get_Header", receipt_header())])],
        mapping.sale_headers,
        (PARIS,),
        [RECEIPT_HEADER],
    ),
    "sale document": ("GetByKey", receipt_reply(), mapping.sale_document, (PARIS,), RECEIPT),
    "loyalty cards": (
        "GetCustomerCards",
        [("CardHeaderGet", card())],
        mapping.loyalty_cards,
        (),
        [CARD],
    ),
    "items": (
        "GetListDetail",
        ITEMS_PAGE,
        lambda r: (lambda p: (p.items, p.last_page))(mapping.item_page(r, 1, 3)),
        (),
        (tuple(Item(f"SKU{i}", f"20700{i}", f"Item SKU{i}   X") for i in range(3)), False),
    ),
    "prices": (
        "GetListDetail",
        [("CurrencyId", "EUR"), ("Prices", [("Price", price("2070000000025"))])],
        lambda r: [
            (p.sku, p.barcode, p.base, p.current, p.discount_percent, p.markdown_reason)
            for p in mapping.store_prices(r, "S001")
        ],
        (),
        [
            (
                "SN00001-ROU-38",
                "2070000000025",
                Decimal("59.90"),
                Decimal("47.92"),
                Decimal(20),
                "SOLD",
            )
        ],
    ),
    "available qty": (
        "GetAvailableQty",
        [("AvailableQty", "7"), ("QueryStatus", "Ok")],
        mapping.available_qty,
        (),
        7,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_public_shaped_replies_are_read(case: str) -> None:
    operation, members, reader, args, expected = CASES[case]
    assert read(operation, envelope(operation, members), reader, *args) == expected


def test_items_pagination_count_is_this_pages_count() -> None:
    """stock-prj stops when ``Pagination.Count`` is below PageSize: Count is the page's count."""
    full = read("GetListDetail", envelope("GetListDetail", ITEMS_PAGE), mapping.item_page, 1, 3)
    short = read("GetListDetail", envelope("GetListDetail", ITEMS_PAGE), mapping.item_page, 1, 4)
    empty = read(
        "GetListDetail",
        envelope("GetListDetail", [("MerchandiseItems", NIL)]),
        mapping.item_page,
        2,
        3,
    )
    assert (full.last_page, short.last_page, empty.last_page) == (False, True, True)
    assert empty.items == ()


# ------------------------------------------------------------------ what WCF may do to them
_DEFAULT_TEXTS = frozenset({"", "0", "false", "0001-01-01T00:00:00"})


def _vary(el: etree._Element, rng: random.Random, keep: set[str]) -> None:
    """Shuffle ``el``'s members, add unknown ones, drop omittable ones; recursively."""
    children = list(el)
    for child in children:
        el.remove(child)
    kept = []
    for child in children:
        name = etree.QName(child).localname
        nil = child.get(f"{{{NS_XSI}}}nil") == "true"
        default = len(child) == 0 and (child.text or "").strip() in _DEFAULT_TEXTS
        if (nil or default) and name not in keep and rng.random() < 0.5:
            continue  # EmitDefaultValue=false: a null or default member is left out
        _vary(child, rng, keep)
        kept.append(child)
    # arrays keep their items' order; members of a type may come in any order
    if not all(etree.QName(c).localname == etree.QName(kept[0]).localname for c in kept[:2]):
        rng.shuffle(kept)
    for _ in range(rng.randint(0, 2)):
        extra = etree.Element(f"{{{NS_RETAIL}}}Tenant{rng.randint(0, 999)}")
        if rng.random() < 0.5:
            etree.SubElement(extra, f"{{{NS_RETAIL}}}Id").text = "Z"
        else:
            extra.text = "unknown"
        kept.insert(rng.randint(0, len(kept)), extra)
    el.extend(kept)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(sorted(CASES)), seed=st.integers(0, 2**32 - 1))
def test_order_unknown_members_and_omitted_defaults_never_change_what_we_read(
    case: str, seed: int
) -> None:
    operation, members, reader, args, expected = CASES[case]
    root = parse_strict(envelope(operation, members))
    res = result(root, operation)
    assert res is not None
    _vary(res.el, random.Random(seed), keep=set())
    assert reader(result(root, operation), *args) == expected


def test_nil_and_empty_members_read_as_absent() -> None:
    members = customer_query_data()
    members = [(n, NIL if n in ("FirstName", "PhoneData") else v) for n, v in members]
    found = read("GetCustomerDetail", envelope("GetCustomerDetail", members), mapping.customer)
    assert (found.first_name, found.phone, found.last_name) == ("", "", "Leroy")
    nil_result = (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><GetByReferenceResponse xmlns="{NS_RETAIL}"'
        f' xmlns:i="{NS_XSI}"><GetByReferenceResult i:nil="true"/></GetByReferenceResponse>'
        "</s:Body></s:Envelope>"
    ).encode()
    assert read("GetByReference", nil_result, mapping.document) is None


def test_a_number_that_is_not_one_is_a_protocol_error() -> None:
    members = [(n, "abc" if n == "AvailableLoyaltyPoints" else v) for n, v in card()]
    with pytest.raises(ErpProtocolError, match="points"):
        read(
            "GetCustomerCards",
            envelope("GetCustomerCards", [("CardHeaderGet", members)]),
            mapping.loyalty_cards,
        )


# ------------------------------------------------------------------------------------ faults
@pytest.mark.parametrize("detail", ["CbpExceptionDetail", "BusinessFaultDetail", "CbpFaultDetail"])
def test_every_public_fault_detail_is_a_business_error(detail: str) -> None:
    fault = SimFault("The item '123' does not exist", code="CBR_001_0005", detail=detail)
    error = fault_error(parse_strict(cbr_fault(fault, "GetAvailableQty")), "Svc.Op")
    assert isinstance(error, ErpBusinessError)
    assert (error.message, error.code) == ("The item '123' does not exist", "CBR_001_0005")


def test_a_deep_exception_chain_gives_its_innermost_message() -> None:
    inner = "<InnerException><Message>{}</Message>{}</InnerException>"
    chain = inner.format("CBR00009 : This document already exists", "")
    for level in range(3):
        chain = inner.format(f"level {level}", chain)
    body = (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><s:Fault><faultcode>a:CBR_001_0003'
        f"</faultcode><faultstring>Remote call failed</faultstring><detail>"
        f'<CbpExceptionDetail xmlns="http://www.cegid.fr/fault"><HelpLink i:nil="true" '
        f'xmlns:i="{NS_XSI}"/>{chain}<Message>outer</Message><TrackingId>t-1</TrackingId>'
        f"</CbpExceptionDetail></detail></s:Fault></s:Body></s:Envelope>"
    ).encode()
    error = fault_error(parse_strict(body), "SaleDocumentService.Create")
    assert isinstance(error, ErpBusinessError)
    assert error.message == "CBR00009 : This document already exists"
    assert error.tracking_id == "t-1"


def test_business_fault_names_its_members() -> None:
    body = (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><s:Fault><faultcode>a:CBR_002</faultcode>'
        "<faultstring>x</faultstring><detail><BusinessFaultDetail xmlns="
        '"http://www.cegid.fr/fault"><Cause>Invalid value</Cause><MemberNames>'
        f'<a:string xmlns:a="{NS_ARRAYS}">Quantity</a:string></MemberNames>'
        "</BusinessFaultDetail></detail></s:Fault></s:Body></s:Envelope>"
    ).encode()
    error = fault_error(parse_strict(body), "Op")
    assert isinstance(error, ErpBusinessError)
    assert error.message == "Invalid value (Quantity)"


def test_dispatcher_faults_are_protocol_errors_naming_the_operation() -> None:
    body = (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><s:Fault><faultcode xmlns:a="http://'
        'schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher">'
        "a:DeserializationFailed</faultcode><faultstring>The formatter threw an exception"
        "</faultstring></s:Fault></s:Body></s:Envelope>"
    ).encode()
    error = fault_error(parse_strict(body), "SaleDocumentService.CustomersReservationCreate")
    assert isinstance(error, ErpProtocolError)
    assert "SaleDocumentService.CustomersReservationCreate" in str(error)
    assert "DeserializationFailed" in str(error)


def test_second_cancel_message_is_recognised() -> None:
    error = ErpBusinessError(
        "Order cancelled. No processing authorised (TCbrECommerceHelper.CheckAnnulePieceEco))"
    )
    assert is_already_cancelled(error)
    assert not is_already_cancelled(ErpBusinessError("Failed to identify document"))


# ----------------------------------------------------------------- through the adapter
async def test_a_second_cancel_is_a_fault_in_the_erp_and_done_for_us(erp: Any, state: Any) -> None:
    from service.erp.port import PickupDocument

    doc = PickupDocument(
        kind="reservation",
        reference="PK-CANCEL-2",
        store_id="S001",
        web_store_id="WEB",
        customer_id="",
        lines=(DocumentLine(state.items[0].sku, state.items[0].ean, 1),),
    )
    created = await erp.create_pickup_document(doc)
    await erp.cancel_document(created.key, "R01")
    await erp.cancel_document(created.key, "R01")  # Cegid refuses it; we take it as done
    cancels = state.journal.find("Cancel", "SaleDocumentService")
    assert [c.status for c in cancels] == [200, 500]
    assert "Order cancelled. No processing authorised" in (cancels[1].response or "")
    found = await erp.find_document("PK-CANCEL-2")
    assert found is not None and found.cancel_status == "Canceled"


async def test_an_unknown_customer_is_a_fault_in_the_erp_and_none_for_us(
    erp: Any, state: Any
) -> None:
    assert await erp.customer("C9999999") is None
    (exchange,) = state.journal.find("GetCustomerDetail", "CustomerWcfService")
    assert exchange.status == 500


@pytest.mark.parametrize(
    "wrong",
    [
        ("<r:OmniChannel><r:DeliveryStoreId>S001</r:DeliveryStoreId></r:OmniChannel>", ""),
        ("", "Create_Line"),
    ],
    ids=["header member the public contract lacks", "Create_Line in a reservation"],
)
async def test_the_simulator_refuses_non_public_request_shapes(
    sim_url: str, state: Any, wrong: tuple[str, str]
) -> None:
    import httpx

    extra, line_tag = wrong
    line_tag = line_tag or "CustomersReservationCreate_Line"
    ean = state.items[0].ean
    body = (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><r:CustomersReservationCreate '
        f'xmlns:r="{NS_RETAIL}"><r:customersReservationCreateRequest><r:Header>'
        f"<r:InternalReference>PK-X</r:InternalReference>{extra}<r:StoreId>S001</r:StoreId>"
        f"</r:Header><r:Lines><r:{line_tag}><r:ItemIdentifier><r:Reference>{ean}</r:Reference>"
        f"</r:ItemIdentifier><r:Quantity>1</r:Quantity></r:{line_tag}></r:Lines>"
        "</r:customersReservationCreateRequest><r:clientContext><r:DatabaseId>DEMO"
        "</r:DatabaseId></r:clientContext></r:CustomersReservationCreate></s:Body></s:Envelope>"
    )
    action = f"{NS_RETAIL}/ISaleDocumentService/CustomersReservationCreate"
    async with httpx.AsyncClient(auth=("DEMO\\omnistock", "secret")) as http:
        reply = await http.post(
            f"{sim_url}/Y2/SaleDocumentService.svc",
            content=body.encode(),
            headers={"SOAPAction": action, "Content-Type": "text/xml; charset=utf-8"},
        )
    assert reply.status_code == 500
    error = fault_error(
        parse_strict(reply.content), "SaleDocumentService.CustomersReservationCreate"
    )
    assert isinstance(error, ErpProtocolError) and "DeserializationFailed" in str(error)
    assert state.documents == {}


async def test_a_wsdl_without_a_member_we_send_is_a_protocol_error_naming_it(
    sim_url: str, tmp_path: Any
) -> None:
    """A tenant's ?singleWsdl (or a bundled file) that lacks a member we send: zeep refuses to
    build the request; the call fails with ErpProtocolError naming the operation and member,
    before anything is sent (not a bare TypeError)."""
    import shutil

    from service.erp.cegid import create
    from service.erp.wsdl import WSDL_DIR
    from tests.erp.conftest import make_config

    for path in WSDL_DIR.glob("*.wsdl"):
        shutil.copy(path, tmp_path / path.name)
    altered = tmp_path / "CustomerWcfService.wsdl"
    text = altered.read_text()
    member = '<xs:element minOccurs="0" name="MaxNumberOfCustomers" type="xs:int"/>'
    assert member in text
    altered.write_text(text.replace(member, ""))
    erp = await create(make_config(sim_url, wsdl_dir=tmp_path))
    try:
        with pytest.raises(ErpProtocolError) as caught:
            await erp.find_customers_by_email("theo.leroy1@example.com")
    finally:
        await erp.aclose()
    assert "CustomerWcfService.SearchCustomerIds" in str(caught.value)
    assert "MaxNumberOfCustomers" in str(caught.value)
