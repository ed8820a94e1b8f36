"""The simulator's customer and sales-history operations through the adapter: AddNewCustomer,
UpdateCustomer, GetCustomerIdByReference, GetHeaderList, GetByKey, and fault injection on each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from service.erp.cegid import CegidErp, create
from service.erp.port import DocumentKey, ErpBusinessError, ErpUnavailable, NewCustomer
from service.erp.simulator import SimulatorState
from service.erp.simulator.faults import FaultPlan
from tests.erp.conftest import make_config


def _receipts(state: SimulatorState, customer_id: str) -> list[str]:
    docs = [d for d in state.receipts.values() if d.customer_id == customer_id]
    docs.sort(key=lambda d: (d.date, d.number), reverse=True)
    return [f"{d.doc_type}:{d.stump}:{d.number}" for d in docs]


async def test_add_update_and_find_customers(erp: CegidErp, state: SimulatorState) -> None:
    before = set(state.customers)
    new = NewCustomer("zoe.blanc@example.org", "Zoé", "Blanc", "+33600000001", "S002")
    customer_id = await erp.add_customer(new)
    assert customer_id not in before and customer_id.startswith("C")
    [found] = await erp.search_customers("ZOE.BLANC@example.org")
    assert (found.customer_id, found.first_name, found.usual_store_id) == (
        customer_id,
        "Zoé",
        "S002",
    )
    assert found.updated_at is not None
    await erp.update_customer(customer_id, NewCustomer("", "Zoé", "Blanc-Roy", "+33600000002"))
    after = await erp.customer(customer_id)
    assert after is not None and (after.last_name, after.phone) == ("Blanc-Roy", "+33600000002")
    assert after.email == "zoe.blanc@example.org"  # members left out are kept
    card = next(iter(state.cards.values()))
    assert await erp.customer_id_by_reference(card.card_id) == card.customer_id
    assert await erp.customer_id_by_reference(customer_id) == customer_id
    assert await erp.customer_id_by_reference("NOPE") == ""
    with pytest.raises(ErpBusinessError, match="last name"):
        await erp.add_customer(NewCustomer("x@example.org"))
    with pytest.raises(ErpBusinessError, match="does not exist"):
        await erp.update_customer("C9999999", NewCustomer("", "A", "B"))
    state.reset()
    assert set(state.customers) == before  # reset forgets created customers


async def test_header_list_pages_newest_first_with_filters(
    erp: CegidErp, state: SimulatorState
) -> None:
    customer_id = max(state.customers, key=lambda c: len(_receipts(state, c)))
    expected = _receipts(state, customer_id)
    assert len(expected) >= 3
    pages = []
    for index in range(1, 10):
        page = await erp.sale_headers(
            customer_id,
            document_types=["Receipt"],
            begin=None,
            end=None,
            page_index=index,
            page_size=2,
        )
        pages.extend(str(h.key) for h in page)
        if len(page) < 2:
            break
    assert pages == expected
    none = await erp.sale_headers(
        customer_id,
        document_types=["CustomersReservation"],
        begin=None,
        end=None,
        page_index=1,
        page_size=100,
    )
    assert none == []
    later = await erp.sale_headers(
        customer_id,
        document_types=["Receipt"],
        begin=datetime(2099, 1, 1, tzinfo=UTC),
        end=None,
        page_index=1,
        page_size=100,
    )
    assert later == []


async def test_a_document_by_key_with_lines_and_payment(
    erp: CegidErp, state: SimulatorState
) -> None:
    doc = next(iter(state.receipts.values()))
    found = await erp.sale_document(DocumentKey(doc.number, doc.stump, doc.doc_type))
    assert found is not None and found.header.customer_id == doc.customer_id
    assert [line.sku for line in found.lines] == [state.items[x.item].sku for x in doc.lines]
    assert found.payments and found.payments[0].amount == found.header.total_incl_tax
    assert await erp.sale_document(DocumentKey(1, "NOPE", "Receipt")) is None


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("AddNewCustomer", lambda e: e.add_customer(NewCustomer("f@example.org", "F", "G"))),
        ("UpdateCustomer", lambda e: e.update_customer("C0000001", NewCustomer("", "F", "G"))),
        ("GetCustomerIdByReference", lambda e: e.customer_id_by_reference("C0000001")),
        (
            "GetHeaderList",
            lambda e: e.sale_headers(
                "C0000001", document_types=[], begin=None, end=None, page_index=1, page_size=5
            ),
        ),
        ("GetByKey", lambda e: e.sale_document(DocumentKey(1010000001, "S001", "Receipt"))),
    ],
)
async def test_fault_injection_applies_to_each_new_operation(
    sim_url: str, state: SimulatorState, operation: str, call
) -> None:
    erp = await create(make_config(sim_url, retries=0, circuit_failure_threshold=100))
    try:
        await _faults(erp, state, operation, call)
    finally:
        await erp.aclose()


async def _faults(erp: CegidErp, state: SimulatorState, operation: str, call: Any) -> None:
    plan: FaultPlan = state.faults
    plan.add({"kind": "down", "operation": operation})
    with pytest.raises(ErpUnavailable):
        await call(erp)
    assert state.journal.count(operation) >= 1
    plan.clear()
    plan.add(
        {"kind": "soap_fault", "operation": operation, "message": "Tenant says no", "count": 1}
    )
    if operation == "GetByKey":
        assert await call(erp) is None  # a refused key is "not found"
    else:
        with pytest.raises(ErpBusinessError, match="Tenant says no"):
            await call(erp)
