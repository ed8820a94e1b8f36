"""The Cegid adapter against the simulator: every port method, values checked against the state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from service.erp.cegid import CegidErp, create
from service.erp.port import (
    DocumentLine,
    ErpBusinessError,
    ErpPort,
    PickupDocument,
    StockLine,
)
from service.erp.simulator import SimulatorState
from tests.erp.conftest import Calls, make_config


def _order(
    state: SimulatorState, reference: str, store: str = "S001", qty: int = 1
) -> PickupDocument:
    item = state.items[0]
    return PickupDocument(
        kind="order",
        reference=reference,
        store_id=store,
        web_store_id="WEB",
        customer_id="C0000002",
        lines=(DocumentLine(item.sku, item.ean, qty, item.base_price, item.description),),
        created_at=datetime.now(UTC),
        paid=True,
    )


async def test_classmethod_create_builds_a_working_port(sim_url: str) -> None:
    erp = await CegidErp.create(make_config(sim_url))
    try:
        port: ErpPort = erp
        assert "DatabaseId: DEMO" in await port.hello()
        assert set(erp.circuit_states().values()) == {"closed"}
    finally:
        await erp.aclose()


async def test_hello_reports_database_and_identity(erp: CegidErp) -> None:
    text = await erp.hello("ping")
    assert "Text: ping" in text and "DatabaseId: DEMO" in text
    assert "Identity: DEMO\\omnistock" in text


async def test_stock_pages_cover_every_item_and_store(erp: CegidErp, state: SimulatorState) -> None:
    seen: list[StockLine] = []
    page_index = 1
    while True:
        page = await erp.stock_page(page_index, 7)
        seen.extend(page.lines)
        if page.last_page:
            break
        page_index += 1
    assert page_index == 3  # 20 items: 7 + 7 + 6 (short page)
    assert len(seen) == 20 * 3
    expected = {
        (s, it.sku): state.available(s, i) for i, it in enumerate(state.items) for s in state.stores
    }
    assert {(line.store_id, line.sku): line.available for line in seen} == expected
    assert all(line.sku == line.sku.strip() and " " not in line.sku for line in seen)
    assert {line.store_name for line in seen if line.store_id == "S001"} == {"Omnistock Paris"}


async def test_stock_page_filters_stores_and_barcodes(erp: CegidErp, state: SimulatorState) -> None:
    eans = [state.items[3].ean, state.items[5].ean]
    page = await erp.stock_page(1, 50, store_ids=["S002"], barcodes=eans)
    assert page.last_page
    assert [(x.store_id, x.sku) for x in page.lines] == [
        ("S002", state.items[3].sku),
        ("S002", state.items[5].sku),
    ]


async def test_stock_for_items_batches_by_fifty(sim_url: str, state: SimulatorState) -> None:
    erp = await create(make_config(sim_url, stock_batch_size=8))
    try:
        eans = [item.ean for item in state.items] + ["2999999999999"]
        lines = await erp.stock_for_items(eans, ["S001", "S003"])
    finally:
        await erp.aclose()
    assert len(lines) == 20 * 2  # the unknown EAN yields nothing
    assert state.journal.count("GetListItemInventoryDetailByStore") == 3  # 21 ids / 8


async def test_available_qty_and_stock_by_store(erp: CegidErp, state: SimulatorState) -> None:
    item = state.items[2]
    assert await erp.available_qty(item.ean, "S002") == state.available("S002", 2)
    assert await erp.stock_by_store(item.ean) == {s: state.available(s, 2) for s in state.stores}
    with pytest.raises(ErpBusinessError) as caught:
        await erp.available_qty(item.ean, "S999")
    assert caught.value.code == "StoreNotFound"


async def test_items_pages_trim_ids_and_stop_on_a_short_page(
    erp: CegidErp, state: SimulatorState
) -> None:
    first = await erp.items_page(1, 15)
    second = await erp.items_page(2, 15)
    assert not first.last_page and second.last_page  # Pagination.Count: this page's items
    items = first.items + second.items
    assert [(i.sku, i.barcode) for i in items] == [(x.sku, x.ean) for x in state.items]
    with pytest.raises(ValueError):
        await erp.items_page(1, 1001)


async def test_store_prices_show_markdowns(erp: CegidErp, state: SimulatorState) -> None:
    (store, item), markdown = next(iter(state.markdowns.items()))
    prices = await erp.store_prices(store, [it.ean for it in state.items])
    assert len(prices) == 20
    marked = next(p for p in prices if p.sku == state.items[item].sku)
    assert marked.current == markdown.current < marked.base == state.items[item].base_price
    assert marked.markdown_reason == markdown.reason and marked.discount_percent > 0
    assert all(p.currency == "EUR" and p.store_id == store for p in prices)


async def test_customers(erp: CegidErp, state: SimulatorState) -> None:
    person = state.customers["C0000002"]
    assert await erp.find_customers_by_email(person.email.upper()) == ["C0000002"]
    assert await erp.find_customers_by_email("nobody@example.com") == []
    found = await erp.customer("C0000002")
    assert found is not None and (found.email, found.last_name) == (person.email, person.last_name)
    assert await erp.customer("C9999999") is None


async def test_loyalty_cards_points_and_update(erp: CegidErp, state: SimulatorState) -> None:
    card = state.cards["LC0000000002"]
    before = card.points
    cards = await erp.loyalty_cards("C0000002")
    assert [(c.card_id, c.available_points, c.program_id) for c in cards] == [
        ("LC0000000002", before, "FID01")
    ]
    assert cards[0].expires_on == card.expires_on
    assert await erp.customer_points("C0000002") == before
    await erp.update_points(
        "LC0000000002", "FID01", Decimal(-100), store_id="S001", comment="t", when=datetime.now(UTC)
    )
    assert await erp.customer_points("C0000002") == before - 100
    with pytest.raises(ErpBusinessError, match="Not enough points"):
        await erp.update_points(
            "LC0000000002", "FID01", -before, store_id="S001", comment="t", when=datetime.now(UTC)
        )


async def test_order_lifecycle(erp: CegidErp, state: SimulatorState) -> None:
    before = state.available("S001", 0)
    created = await erp.create_pickup_document(_order(state, "PK-100", qty=2))
    assert not created.already_existed and created.key.type == "CustomerOrder"
    assert state.available("S001", 0) == max(0, before - 2)

    found = await erp.find_document("PK-100")
    assert found is not None and found.key == created.key
    assert found.lines[0].sku == state.items[0].sku and found.lines[0].quantity == 2

    await erp.set_follow_up_status(created.key, "AvailableInStore")
    await erp.cancel_document(created.key, "R01")
    found = await erp.find_document("PK-100")
    assert found is not None
    assert (found.follow_up_status, found.cancel_status, found.active) == (
        "AvailableInStore",
        "Canceled",
        False,
    )
    assert state.available("S001", 0) == before


async def test_reservation_is_found_by_reference(erp: CegidErp, state: SimulatorState) -> None:
    item = state.items[4]
    doc = PickupDocument(
        kind="reservation",
        reference="RS-7",
        store_id="S003",
        web_store_id="WEB",
        customer_id="C0000002",
        lines=(DocumentLine(item.sku, item.ean, 1),),
        expires_at=datetime.now(UTC) + timedelta(days=2),
    )
    created = await erp.create_pickup_document(doc)
    assert created.key.type == "CustomersReservation"
    found = await erp.find_document("RS-7")
    assert found is not None and found.key == created.key and found.store_id == "S003"
    assert await erp.find_document("RS-404") is None


async def test_on_call_hook_sees_every_attempt(erp: CegidErp, calls: Calls) -> None:
    await erp.hello()
    await erp.customer("C0000002")
    assert [(s, op, o) for s, op, _, o in calls.seen] == [
        ("ItemInventoryWcfService", "HelloWorld", "ok"),
        ("CustomerWcfService", "GetCustomerDetail", "ok"),
    ]
    assert all(seconds >= 0 for _, _, seconds, _ in calls.seen)
