"""``omnistock erp check`` against the simulator, as bundled and with deliberately altered WSDLs.

The alterations are made on the bundled WSDL's tree, found from the names omnistock sends and
reads (``contract_use``) and from public, confirmed names of the stock contract, so these tests
keep working when the bundled WSDLs are rewritten.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from lxml import etree

from service.cli import main
from service.erp.cegid.contract_check import CheckReport, OperationVerdict, run_check
from service.erp.simulator import SimulatorState, serve_simulator
from service.erp.wsdl import INVENTORY, SALE_DOCUMENTS, SERVICES, ServiceInfo
from tests.erp.conftest import DATABASE_ID, PASSWORD, USER, make_config

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS = {"xs": XS, "wsdl": WSDL, "soap": SOAP}
STOCK = "GetListItemInventoryDetailByStore"
STOCK_KEY = f"{INVENTORY.name}.{STOCK}"


def bundled(info: ServiceInfo) -> etree._Element:
    return etree.fromstring(info.wsdl_path().read_bytes())


def text(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


def element_decls(root: etree._Element, name: str) -> list[etree._Element]:
    """Every local xs:element named ``name`` (inside a complex type)."""
    return [e for e in root.iter(f"{{{XS}}}element") if e.get("name") == name]


def type_of(root: etree._Element, member: str) -> etree._Element:
    """The named complex type of the (single) element ``member``."""
    (decl,) = {e.get("type") for e in element_decls(root, member)}
    assert decl is not None
    local = decl.partition(":")[2]
    (found,) = root.xpath("//xs:complexType[@name=$n]", namespaces=NS, n=local)
    return found


def sequence_of(type_el: etree._Element) -> etree._Element:
    """The type's own xs:sequence (inside its xs:extension when it derives from a base)."""
    found = next(type_el.iter(f"{{{XS}}}sequence"), None)
    assert found is not None
    return found


def member_decl(root: etree._Element, type_el: etree._Element, name: str) -> etree._Element:
    """The declaration of member ``name`` in the type or, through xs:extension, its bases."""
    for decl in sequence_of(type_el).iter(f"{{{XS}}}element"):
        if decl.get("name") == name:
            return decl
    extension = next(type_el.iter(f"{{{XS}}}extension"))
    base = str(extension.get("base")).partition(":")[2]
    (base_el,) = root.xpath("//xs:complexType[@name=$n]", namespaces=NS, n=base)
    return member_decl(root, base_el, name)


def op_verdict(report: CheckReport, service: str, operation: str) -> OperationVerdict:
    (svc,) = [s for s in report.services if s.service == service]
    (op,) = [o for o in svc.operations if o.operation == operation]
    return op


async def check(
    state: SimulatorState, served: dict[str, str] | None = None, *, live: bool = True
) -> CheckReport:
    async with serve_simulator(
        state, database_id=DATABASE_ID, users={USER: PASSWORD}, served_wsdls=served
    ) as url:
        return await run_check(make_config(url, timeout_s=5.0), live=live)


# ------------------------------------------------------------------------------ as bundled
async def test_the_simulator_passes_every_check(state: SimulatorState) -> None:
    report = await check(state)
    assert report.exit_code == 0, report.to_dict()
    assert {s.service for s in report.services} == set(SERVICES)
    for service in report.services:
        assert service.error == "" and service.findings == []
        assert [op.operation for op in service.operations] == list(
            SERVICES[service.service].operations
        )
        for op in service.operations:
            assert (op.status, op.findings) == ("ok", []), (service.service, op)
    calls = {c.call.split(" ")[0]: c for c in report.live}
    assert all(c.ok for c in report.live), report.live
    assert {f"{name}.HelloWorld" for name in SERVICES} <= set(calls)
    assert calls[f"{INVENTORY.name}.{STOCK}"].detail.startswith("1 item(s)")
    assert calls["ProductMerchandiseItemsService.GetListDetail"].detail.startswith("1 item(s)")
    assert "1 price(s)" in calls["RetailSalesPriceEngine2Service.GetListDetail"].detail


async def test_cli_prints_a_table_and_json(
    state: SimulatorState, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve_simulator(state, database_id=DATABASE_ID, users={USER: PASSWORD}) as url:
        for name, value in {
            "OMNISTOCK_ERP_URL": url,
            "OMNISTOCK_ERP_DATABASE_ID": DATABASE_ID,
            "OMNISTOCK_ERP_USER": USER,
            "OMNISTOCK_ERP_PASSWORD": PASSWORD,
        }.items():
            monkeypatch.setenv(name, value)
        assert await asyncio.to_thread(main, ["erp", "check"]) == 0
        table = capsys.readouterr().out
        assert await asyncio.to_thread(main, ["erp", "check", "--json", "--no-live"]) == 0
        data = json.loads(capsys.readouterr().out)
    assert f"  {STOCK}  ok" in table
    assert "verdict: OK: nothing blocking" in table
    assert "RetailSalesPriceEngine2Service.GetListDetail (1 barcode, 1 store): ok" in table
    assert data["ok"] is True and data["exit_code"] == 0 and data["live"] == []
    statuses = {op["status"] for s in data["services"] for op in s["operations"]}
    assert statuses == {"ok"}


# ------------------------------------------------------------------------------ altered
def renamed_request_member(root: etree._Element) -> str:
    for decl in element_decls(root, "WithStoreName"):
        decl.set("name", "WithStoreLabel")
    return "WithStoreName"


def removed_operation(root: etree._Element) -> str:
    for op in root.xpath("//wsdl:binding/wsdl:operation[@name=$n]", namespaces=NS, n=STOCK):
        op.getparent().remove(op)
    return ""


def reordered_request(root: etree._Element) -> str:
    index = member_decl(root, type_of(root, "Pager"), "PageIndex")
    parent = index.getparent()
    parent.remove(index)
    parent.append(index)  # PageSize now comes first
    return "order: we send PageIndex before PageSize"


def changed_action(root: etree._Element) -> str:
    (op,) = root.xpath(
        "//wsdl:binding/wsdl:operation[@name=$n]/soap:operation", namespaces=NS, n=STOCK
    )
    op.set("soapAction", op.get("soapAction") + "V2")
    return "SOAPAction"


def removed_reply_member(root: etree._Element) -> str:
    for decl in element_decls(root, "AvailableQuantity"):
        decl.getparent().remove(decl)
    return "AvailableQuantity: missing in the tenant (we read it)"


def retyped_reply_member(root: etree._Element) -> str:
    row = type_of(root, "StoreAvailableQty")
    member_decl(root, row, "AvailableQuantity").set("type", "xs:string")
    return "StoreAvailableQty/AvailableQuantity: type xs:string in the tenant, ours xs:decimal"


def required_unknown_member(root: etree._Element) -> str:
    sequence = sequence_of(type_of(root, "Pager"))
    etree.SubElement(sequence, f"{{{XS}}}element", name="Cursor", type="xs:string")
    return "Pager/Cursor: the tenant requires it"


def base_first_request(root: etree._Element) -> str:
    """The request type split into a base holding its last two members and a derived type
    extending it: base members come first, so what we send is now out of order."""
    request_type = type_of(root, "inventoryStoreItemDetailRequest")
    sequence = request_type.find(f"{{{XS}}}sequence")
    assert sequence is not None, "already derived: split it differently"
    moved = list(sequence)[-2:]
    base = etree.Element(f"{{{XS}}}complexType", name="InventoryRequestBase")
    base_sequence = etree.SubElement(base, f"{{{XS}}}sequence")
    for member in moved:
        base_sequence.append(member)
    request_type.addprevious(base)
    request_type.remove(sequence)
    content = etree.SubElement(request_type, f"{{{XS}}}complexContent")
    prefix = next(p for p, ns in root.nsmap.items() if ns == "http://www.cegid.fr/Retail/1.0")
    extension = etree.SubElement(
        content, f"{{{XS}}}extension", base=f"{prefix}:InventoryRequestBase"
    )
    extension.append(sequence)
    return "order: we send"


def single_array_item(root: etree._Element) -> str:
    for decl in element_decls(root, "StoreAvailableQty"):
        decl.set("maxOccurs", "1")
    return "StoreAvailableQty: a single element in the tenant, a list in ours"


def renamed_array_item(root: etree._Element) -> str:
    for decl in element_decls(root, "StoreAvailableQty"):
        decl.set("name", "StoreQty")
    return "StoresAvailableQty/StoreAvailableQty: missing in the tenant (we read it)"


ALTERATIONS: dict[str, Callable[[etree._Element], str]] = {
    "renamed request member": renamed_request_member,
    "removed operation": removed_operation,
    "reordered request sequence": reordered_request,
    "changed SOAPAction": changed_action,
    "removed reply member we read": removed_reply_member,
    "retyped reply member we read": retyped_reply_member,
    "required member we do not send": required_unknown_member,
    "base-class members first": base_first_request,
    "array item no longer repeated": single_array_item,
    "array item renamed": renamed_array_item,
}


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
async def test_a_blocking_difference_names_operation_and_member(
    state: SimulatorState, alteration: str
) -> None:
    root = bundled(INVENTORY)
    expected = ALTERATIONS[alteration](root)
    report = await check(state, {INVENTORY.name: text(root)}, live=False)
    assert report.exit_code == 1
    op = op_verdict(report, INVENTORY.name, STOCK)
    if alteration == "removed operation":
        assert op.status == "missing"
    else:
        assert op.status == "differs"
        assert any(expected in str(f) for f in op.blocking), [str(f) for f in op.findings]
    others = [
        (s.service, o.operation) for s in report.services for o in s.operations if o.status != "ok"
    ]
    assert others == [(INVENTORY.name, STOCK)]


async def test_the_table_shows_the_verdict(state: SimulatorState) -> None:
    from service.erp.cegid.contract_check import render

    root = bundled(INVENTORY)
    removed_reply_member(root)
    changed_action(root)
    report = await check(state, {INVENTORY.name: text(root)}, live=False)
    table = render(report)
    lines = table.splitlines()
    (at,) = [i for i, x in enumerate(lines) if x.strip().startswith(STOCK)]
    assert lines[at].split(STOCK)[1].strip().startswith("differs: SOAPAction: tenant ")
    assert (
        lines[at + 1].strip().startswith("differs: reply GetListItemInventoryDetailByStoreResult/")
    )
    assert lines[at + 1].endswith("AvailableQuantity: missing in the tenant (we read it)")
    assert table.endswith("verdict: BLOCKING differences")


async def test_an_enumerated_value_we_send_missing_blocks(state: SimulatorState) -> None:
    root = bundled(SALE_DOCUMENTS)
    for value in root.xpath("//xs:enumeration[@value='PickingUpInStore']", namespaces=NS):
        value.getparent().remove(value)
    report = await check(state, {SALE_DOCUMENTS.name: text(root)}, live=False)
    assert report.exit_code == 1
    create = op_verdict(report, SALE_DOCUMENTS.name, "Create")
    assert [str(f) for f in create.blocking] == [
        "request createRequest/Header/OmniChannel/DeliveryType: "
        "the tenant does not accept PickingUpInStore"
    ]
    # a click-and-collect order is PickingUpInStore; nothing else sends that value
    assert [
        (s.service, o.operation) for s in report.services for o in s.operations if o.status != "ok"
    ] == [(SALE_DOCUMENTS.name, "Create")]


async def test_extra_members_and_operations_of_the_tenant_are_notes(
    state: SimulatorState,
) -> None:
    root = bundled(INVENTORY)
    for name in ("Pager", "inventoryStoreItemDetailRequest"):
        sequence = sequence_of(type_of(root, name))
        etree.SubElement(
            sequence, f"{{{XS}}}element", name="ZExtra", type="xs:string", minOccurs="0"
        )
    row = sequence_of(type_of(root, "StoreAvailableQty"))
    row.insert(0, etree.Element(f"{{{XS}}}element", name="AAFirst", type="xs:string"))
    (binding,) = root.xpath("//wsdl:binding", namespaces=NS)
    extra = etree.SubElement(binding, f"{{{WSDL}}}operation", name="ResetShoppingCart")
    etree.SubElement(extra, f"{{{SOAP}}}operation", soapAction="urn:x", style="document")
    report = await check(state, {INVENTORY.name: text(root)})
    assert report.exit_code == 0, report.to_dict()
    notes = [str(f) for f in op_verdict(report, INVENTORY.name, STOCK).notes]
    assert any("Pager/ZExtra: the tenant adds it" in n for n in notes), notes
    assert any("StoreAvailableQty/AAFirst: the tenant adds it" in n for n in notes), notes
    assert all(c.ok for c in report.live)


# ------------------------------------------------------------------------------ failures
async def test_refused_credentials_are_a_clear_verdict(state: SimulatorState) -> None:
    async with serve_simulator(state, database_id=DATABASE_ID, users={USER: PASSWORD}) as url:
        report = await run_check(make_config(url, password="wrong", retries=0))
    assert report.exit_code == 1
    assert {s.error for s in report.services} == {"HTTP 401: the tenant refused our credentials"}
    assert report.live and not any(c.ok for c in report.live)
    assert "ErpAuthError" in report.live[0].detail


async def test_an_unreachable_tenant_exits_2(state: SimulatorState) -> None:
    async with serve_simulator(state) as url:
        pass  # the port is closed again
    report = await run_check(make_config(url, retries=0))
    assert report.exit_code == 2
    assert all(s.connection_error for s in report.services)
    assert report.live == []


async def test_a_wsdl_with_a_dtd_is_refused(state: SimulatorState) -> None:
    served = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    report = await check(state, {INVENTORY.name: served}, live=False)
    (inventory,) = [s for s in report.services if s.service == INVENTORY.name]
    assert "not readable" in inventory.error
    assert report.exit_code == 1


async def test_the_control_endpoint_replaces_the_served_wsdl(state: SimulatorState) -> None:
    import httpx

    root = bundled(INVENTORY)
    changed_action(root)
    async with (
        serve_simulator(state, database_id=DATABASE_ID, users={USER: PASSWORD}) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        put = await client.put(f"/_sim/wsdl/{INVENTORY.name}", content=text(root))
        assert put.status_code == 200
        assert (await client.get("/_sim/wsdl")).json() == [INVENTORY.name]
        assert (await client.put("/_sim/wsdl/Nope", content="<x/>")).status_code == 404
        altered = await run_check(make_config(url), live=False)
        assert (await client.delete(f"/_sim/wsdl/{INVENTORY.name}")).status_code == 200
        restored = await run_check(make_config(url), live=False)
    assert altered.exit_code == 1 and restored.exit_code == 0


def test_unknown_served_wsdl_service_is_refused(state: SimulatorState) -> None:
    from service.erp.simulator.server import create_simulator_app

    with pytest.raises(ValueError, match="Nope"):
        create_simulator_app(
            state, control=False, database_id="D", users={}, served_wsdls={"Nope": "<x/>"}
        )


def test_cli_usage_and_configuration_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["erp", "check", "--bogus"])
    assert usage.value.code == 2
    monkeypatch.setenv("OMNISTOCK_ERP_URL", "ftp://tenant.example")
    assert main(["erp", "check"]) == 2
    assert "base_url must be an http(s) URL" in capsys.readouterr().err


SER = "http://schemas.microsoft.com/2003/10/Serialization/"


def wcf_dressed(info: ServiceInfo) -> str:
    """The bundled WSDL as WCF's ?singleWsdl would dress it, same contract: annotations on
    types and enumeration values, a global element per type, the Serialization schema, and
    every complex type of three or more members split into a base holding its first member
    and a derived type extending it (base members first: the same order)."""
    root = bundled(info)
    types = root.find(f"{{{WSDL}}}types")
    assert types is not None
    ser = etree.SubElement(types, f"{{{XS}}}schema", targetNamespace=SER)
    ser.set("attributeFormDefault", "qualified")
    ser.set("elementFormDefault", "qualified")
    etree.SubElement(ser, f"{{{XS}}}element", name="anyType", nillable="true", type="xs:anyType")
    guid = etree.SubElement(ser, f"{{{XS}}}simpleType", name="guid")
    etree.SubElement(guid, f"{{{XS}}}restriction", base="xs:string")
    for schema in types.findall(f"{{{XS}}}schema"):
        prefix = next(
            (p for p, ns in root.nsmap.items() if ns == schema.get("targetNamespace")), None
        )
        for complex_type in schema.findall(f"{{{XS}}}complexType"):
            name = complex_type.get("name")
            annotation = etree.Element(f"{{{XS}}}annotation")
            etree.SubElement(annotation, f"{{{XS}}}appinfo").text = "IsValueType"
            complex_type.insert(0, annotation)
            if prefix is None:
                continue
            etree.SubElement(
                schema, f"{{{XS}}}element", name=str(name), nillable="true", type=f"{prefix}:{name}"
            )
            sequence = complex_type.find(f"{{{XS}}}sequence")
            if sequence is None or len(sequence) < 3:
                continue
            base = etree.Element(f"{{{XS}}}complexType", name=f"{name}Base")
            etree.SubElement(base, f"{{{XS}}}sequence").append(sequence[0])
            complex_type.addprevious(base)
            complex_type.remove(sequence)
            content = etree.SubElement(complex_type, f"{{{XS}}}complexContent")
            extension = etree.SubElement(content, f"{{{XS}}}extension", base=f"{prefix}:{name}Base")
            extension.append(sequence)
        for value in schema.iter(f"{{{XS}}}enumeration"):
            annotation = etree.SubElement(value, f"{{{XS}}}annotation")
            etree.SubElement(annotation, f"{{{XS}}}appinfo").text = "EnumerationValue"
    return text(root)


async def test_a_wcf_dressed_wsdl_of_the_same_contract_is_ok(state: SimulatorState) -> None:
    served = {name: wcf_dressed(info) for name, info in SERVICES.items()}
    report = await check(state, served, live=False)
    assert report.exit_code == 0, report.to_dict()
    for service in report.services:
        for op in service.operations:
            # only the names of the split types may differ from ours
            assert all("type named" in str(f) for f in op.findings), [str(f) for f in op.findings]


async def test_a_failing_live_call_blocks(state: SimulatorState) -> None:
    state.faults.add(
        {
            "kind": "soap_fault",
            "service": "RetailSalesPriceEngine2Service",
            "operation": "GetListDetail",
            "message": "Price engine unavailable for this store",
        }
    )
    report = await check(state)
    assert report.exit_code == 1
    (price,) = [c for c in report.live if c.call.startswith("RetailSalesPriceEngine2Service.Get")]
    assert not price.ok and price.blocking
    assert "ErpBusinessError" in price.detail and "Price engine unavailable" in price.detail
    assert all(c.ok for c in report.live if c is not price)
    assert all(op.status == "ok" for s in report.services for op in s.operations)


async def test_an_item_page_failure_skips_the_price(state: SimulatorState) -> None:
    state.faults.add(
        {
            "kind": "soap_fault",
            "service": "ProductMerchandiseItemsService",
            "operation": "GetListDetail",
        }
    )
    report = await check(state)
    assert report.exit_code == 1
    details = {c.call.split(" ")[0]: (c.ok, c.detail) for c in report.live}
    assert details["ProductMerchandiseItemsService.GetListDetail"][0] is False
    assert details["RetailSalesPriceEngine2Service.GetListDetail"] == (
        False,
        "skipped: no barcode from the item page",
    )


async def test_a_reply_member_read_with_a_fallback_may_be_either(state: SimulatorState) -> None:
    """``Stump|Stub`` in READS: a key spelled ``Stub`` is read, but a request sending
    ``Stump`` in the same type is refused."""
    root = bundled(SALE_DOCUMENTS)
    member_decl(root, type_of(root, "Key"), "Stump").set("name", "Stub")
    report = await check(state, {SALE_DOCUMENTS.name: text(root)}, live=False)
    assert report.exit_code == 1
    differs = {
        o.operation: [str(f) for f in o.blocking]
        for s in report.services
        for o in s.operations
        if o.status != "ok"
    }
    assert differs == {
        "UpdateHeader": [
            "request updateHeaderRequest/Identifier/Key/Stump: missing in the tenant (we send it)"
        ],
        "Cancel": [
            "request cancelRequest/Identifier/Key/Stump: missing in the tenant (we send it)"
        ],
        "GetByKey": ["request searchRequest/Key/Stump: missing in the tenant (we send it)"],
    }
    create = op_verdict(report, SALE_DOCUMENTS.name, "Create")
    assert "reply CreateResult/Key/Stump: missing in the tenant (we read Stub)" in [
        str(f) for f in create.notes
    ]


async def test_a_compatible_simple_type_is_a_note(state: SimulatorState) -> None:
    """An integer we send into a wider number, a number we read as another number, a string we
    read as an integer: WCF takes them and our readers read them."""
    root = bundled(INVENTORY)
    member_decl(root, type_of(root, "Pager"), "PageSize").set("type", "xs:long")
    row = type_of(root, "StoreAvailableQty")
    member_decl(root, row, "AvailableQuantity").set("type", "xs:double")
    member_decl(root, row, "StoreId").set("type", "xs:int")
    report = await check(state, {INVENTORY.name: text(root)}, live=False)
    assert report.exit_code == 0, report.to_dict()
    notes = [str(f) for f in op_verdict(report, INVENTORY.name, STOCK).notes]
    assert any(
        "Pager/PageSize: type xs:long" in n and "compatible for a request" in n for n in notes
    )
    assert any("AvailableQuantity: type xs:double" in n for n in notes)
    assert any("StoreId: type xs:int" in n and "compatible for a reply" in n for n in notes)


async def test_an_incompatible_request_type_blocks(state: SimulatorState) -> None:
    root = bundled(INVENTORY)
    member_decl(root, type_of(root, "Pager"), "PageSize").set("type", "xs:boolean")
    report = await check(state, {INVENTORY.name: text(root)}, live=False)
    assert report.exit_code == 1
    (blocking,) = op_verdict(report, INVENTORY.name, STOCK).blocking
    assert str(blocking) == (
        "request inventoryStoreItemDetailRequest/Pager/PageSize: "
        "type xs:boolean in the tenant, ours xs:int"
    )
