"""``contract_use`` describes the adapter as it is: every path exists in the bundled WSDLs, and
every element (and enumerated value) the adapter actually sends is listed.

When the bundled WSDLs, ``payloads.py`` or the readers change, these tests fail until
``service/erp/cegid/contract_use.py`` says what omnistock now sends and reads, so that
``omnistock erp check`` keeps judging a tenant on the right members.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lxml import etree

from service.erp.cegid import CegidErp, contract_use
from service.erp.cegid.contract_check import contract_use_errors, load_bundled, resolve_path
from service.erp.cegid.wsdl_model import SimpleType
from service.erp.port import DocumentLine, NewCustomer, PickupDocument
from service.erp.simulator import SimulatorState
from service.erp.wsdl import NS_SOAP_ENV, SERVICES


def test_every_listed_path_and_member_is_in_the_bundled_wsdls() -> None:
    assert contract_use_errors() == []


def test_every_operation_we_use_is_described() -> None:
    keys = {f"{s.name}.{op}" for s in SERVICES.values() for op in s.operations}
    assert set(contract_use.SENDS) == keys
    assert set(contract_use.READS) == keys


def test_a_wrong_listing_is_reported() -> None:
    key = "ItemInventoryWcfService.GetListItemInventoryDetailByStore"
    saved = contract_use.READS[key]
    contract_use.READS[key] = {"GetListItemInventoryDetailByStoreResult/Nope": ["X"]}
    try:
        errors = contract_use_errors()
    finally:
        contract_use.READS[key] = saved
    assert errors == [
        f"READS[{key!r}]['GetListItemInventoryDetailByStoreResult/Nope']: "
        "no such element in the bundled WSDL"
    ]


def _sent(body: str) -> Iterator[tuple[str, str, str | None]]:
    """(parent path, member, text of a leaf) of every element below the operation wrapper."""
    root = etree.fromstring(body.encode())
    (wrapper,) = root.find(f"{{{NS_SOAP_ENV}}}Body")  # type: ignore[misc]

    def walk(node: etree._Element, path: str) -> Iterator[tuple[str, str, str | None]]:
        for child in node:
            name = etree.QName(child).localname
            yield path, name, (child.text if len(child) == 0 else None)
            yield from walk(child, f"{path}/{name}" if path else name)

    yield from walk(wrapper, "")


async def _exercise(erp: CegidErp, state: SimulatorState) -> None:
    """Every port method, with the optional parts of requests filled in."""
    item, other = state.items[0], state.items[1]
    await erp.hello()
    await erp.stock_page(1, 5, store_ids=["S001", "S002"], barcodes=[item.ean, other.ean])
    await erp.stock_page(1, 5)
    await erp.available_qty(item.ean, "S001")
    await erp.stock_by_store(item.ean)
    await erp.items_page(1, 5)
    await erp.items_by_ids([item.sku, other.sku])
    await erp.store_prices("S001", [item.ean], datetime.now(UTC).date())
    await erp.store_prices("S001", [item.ean])
    person = state.customers["C0000002"]
    await erp.find_customers_by_email(person.email)
    await erp.search_customers(person.email, 5)
    await erp.customer("C0000002")
    await erp.customer_id_by_reference("C0000002")
    shopper = NewCustomer("contract.use@example.com", "Ana", "Lopez", "+33600000000", "S001")
    added = await erp.add_customer(shopper)
    await erp.update_customer(added, NewCustomer(shopper.email, "Anna", "Lopez", "+33611111111"))
    await erp.loyalty_cards("C0000002")
    await erp.customer_points("C0000002")
    await erp.update_points(
        "LC0000000002", "FID01", Decimal(-1), store_id="S001", comment="t", when=datetime.now(UTC)
    )
    line = DocumentLine(item.sku, item.ean, 1, item.base_price, item.description)
    order = PickupDocument(
        kind="order",
        reference="CU-1",
        store_id="S001",
        web_store_id="WEB",
        customer_id="C0000002",
        lines=(line, DocumentLine(other.sku, "", 1, other.base_price)),
        created_at=datetime.now(UTC),
        external_reference="PS-1",
        paid=True,
        comment="contract use",
    )
    created = await erp.create_pickup_document(order)
    await erp.create_pickup_document(order)  # a duplicate: looked up by reference
    reservation = PickupDocument(
        kind="reservation",
        reference="CU-2",
        store_id="S002",
        web_store_id="WEB",
        customer_id="C0000002",
        lines=(line,),
        expires_at=datetime.now(UTC) + timedelta(days=2),
    )
    booked = await erp.create_pickup_document(reservation)
    await erp.find_document("CU-404")
    now = datetime.now(UTC)
    await erp.sale_headers(
        "C0000002",
        document_types=["Receipt", "CustomerOrder"],
        begin=now - timedelta(days=3650),
        end=now + timedelta(days=1),
        page_index=1,
        page_size=100,
    )
    await erp.sale_document(created.key)
    await erp.set_follow_up_status(created.key, "AvailableInStore")
    await erp.cancel_document(booked.key, "NOSHOW")


async def test_everything_the_adapter_sends_is_listed(erp: CegidErp, state: SimulatorState) -> None:
    state.journal.limit = 10_000
    await _exercise(erp, state)
    models = {name: load_bundled(info, None) for name, info in SERVICES.items()}
    unlisted: set[str] = set()
    values: set[str] = set()
    seen_ops: set[str] = set()
    for exchange in state.journal.exchanges:
        key = f"{exchange.service}.{exchange.operation}"
        seen_ops.add(key)
        sends = contract_use.SENDS[key]
        info = SERVICES[exchange.service]
        binding = models[exchange.service].bindings[info.binding.rpartition("}")[2]]
        wrapper = binding[exchange.operation].input_element
        for path, name, text in _sent(exchange.body):
            if name not in sends.get(path, ()):
                unlisted.add(f"{key}: {path}/{name}")
            member = resolve_path(models[exchange.service], wrapper, f"{path}/{name}")
            assert member is not None, (key, path, name)
            if isinstance(member.type, SimpleType) and member.type.enumeration:
                listed = contract_use.SENT_VALUES.get(key, {}).get(f"{path}/{name}", [])
                if text not in listed:
                    values.add(f"{key}: {path}/{name} = {text}")
    assert unlisted == set()
    assert values == set()
    every = {f"{s.name}.{op}" for s in SERVICES.values() for op in s.operations}
    # HelloWorld is only sent to the inventory service by the port
    assert every - seen_ops == {
        f"{name}.HelloWorld" for name in SERVICES if name != "ItemInventoryWcfService"
    }
