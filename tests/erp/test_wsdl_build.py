"""The bundled WSDLs are what contract.txt says, and the contract is the public one."""

from __future__ import annotations

from service.erp.wsdl import SERVICES
from service.erp.wsdl.build import main, render
from service.erp.wsdl.contract import contracts, parse


def test_bundled_wsdls_are_current() -> None:
    assert main(["--check"]) == 0, "run: python -m service.erp.wsdl.build"


def test_every_operation_we_call_is_in_the_contract_with_its_context_parameter() -> None:
    for name, info in SERVICES.items():
        svc = contracts()[name]
        assert svc.contract == info.contract and svc.context_param == info.context_param
        assert svc.sources, f"{name} names no public source"
        for op in info.operations:
            params = [p.name for p in svc.operations[op].params]
            assert params[-1] == info.context_param_for(op)


def test_derived_types_put_their_base_members_first() -> None:
    customers = contracts()["CustomerWcfService"]
    members = [m.name for m in customers.members("CustomerQueryData")]
    assert members.index("EmailData") < members.index("Barcode") < members.index("CustomerId")
    assert members[0] == "ActivitySectorCode" and members[-1] == "Notepad"
    wsdl = render(customers)
    assert '<xs:extension base="q:CustomerData">' in wsdl


def test_public_reservation_and_item_shapes() -> None:
    sales = contracts()["SaleDocumentService"]
    header = {m.name for m in sales.members("CustomersReservationCreate_Header")}
    assert {"OmniChannel", "Origin", "Type"}.isdisjoint(header)
    assert {"StoreId", "WarehouseId", "ExpirationDate"} <= header
    lines = sales.type("ArrayOfCustomersReservationCreate_Line")
    assert lines.item is not None and lines.item.name == "CustomersReservationCreate_Line"
    items = contracts()["ProductMerchandiseItemsService"]
    reply = items.operations["GetListDetail"].result
    assert [m.name for m in items.members(str(reply))] == ["MerchandiseItems", "Pagination"]


def test_contract_lines_are_checked() -> None:
    _, services = parse("service S IS clientContext\ntype T < B: A string\nop O(x T) -> T\n")
    assert services["S"].operations["O"].result == "T"
    try:
        services["S"].members("T")  # its base B is declared nowhere
    except KeyError:
        pass
    else:
        raise AssertionError("an undeclared base was accepted")
    for bad in ("service S IS clientContext\ntype T: A\n", "service S I c\nfoo bar\n"):
        try:
            parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")
