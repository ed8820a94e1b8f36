"""Customers and their in-store receipts over HTTP against the Cegid simulator: who a reference
names, paging newest first, date filters, a document's lines with our item keys, the printable
page, stale answers when the ERP is down, coalesced reads, unknown customers and staff scoping."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.erp.simulator import SimulatorState
from service.erp.simulator.state import SimDocument
from stores import store_directory as directory_repo
from tests.conftest import KeyFactory, bearer
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import add_fault, calls, clear_faults

state, sim_url, erp = fx.state, fx.sim_url, fx.erp
HEADERS = "SaleDocumentService.GetHeaderList"
BY_KEY = "SaleDocumentService.GetByKey"


def key_of(doc: SimDocument) -> str:
    return f"{doc.doc_type}:{doc.stump}:{doc.number}"


def history(state: SimulatorState, customer_id: str) -> list[SimDocument]:
    """The customer's receipts, newest first (as the API must list them)."""
    docs = [d for d in state.receipts.values() if d.customer_id == customer_id]
    return sorted(docs, key=lambda d: (d.date or datetime.min, key_of(d)), reverse=True)


def best_customer(state: SimulatorState) -> str:
    """The demo customer with the most receipts in the most stores."""
    return max(
        state.customers,
        key=lambda c: (len({d.store_id for d in history(state, c)}), len(history(state, c))),
    )


@pytest.fixture
async def keys(make_key: KeyFactory, state: SimulatorState) -> dict[str, str]:
    first_store = sorted(state.stores)[0]
    return {
        "storefront": await make_key("storefront"),
        "staff": await make_key("staff", [first_store]),
        "admin": await make_key("admin"),
    }


@pytest.fixture
async def api(make_client, erp, pool, state: SimulatorState):
    async with pool.acquire() as conn:
        for code, store in state.stores.items():
            await directory_repo.upsert(
                conn, {"store_id": code, "name": store.name, "city": store.city}
            )
    return await make_client(erp=erp, receipts_ttl_s=0.2, receipts_refresh_deadline_s=1.0)


async def get(api, key: str, path: str, status: int = 200, **params: Any) -> Any:
    resp = await api.get(path, headers=bearer(key), params=params)
    assert resp.status == status, await resp.text()
    if resp.content_type == "text/html":
        return await resp.text()
    return await resp.json()


async def all_pages(api, key: str, ref: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        page = await get(api, key, f"/v1/customers/{ref}/receipts", **query)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("no last page")


async def test_a_demo_customer_lists_in_store_receipts_newest_first_in_pages(
    api, keys, state: SimulatorState, sim_url: str
) -> None:
    customer_id = best_customer(state)
    expected = history(state, customer_id)
    assert len(expected) >= 3 and len({d.store_id for d in expected}) >= 2
    first = await get(api, keys["storefront"], f"/v1/customers/{customer_id}/receipts", limit=2)
    assert first["customer_id"] == customer_id and first["stale"] is False
    assert first["source"] == "erp" and len(first["items"]) == 2 and first["next_cursor"]
    items = await all_pages(api, keys["storefront"], customer_id, limit=2)
    assert [i["key"] for i in items] == [key_of(d) for d in expected]
    top, doc = items[0], expected[0]
    assert top["type"] == "Receipt" and top["origin"] == "Shop"
    assert top["store"]["id"] == doc.store_id
    assert top["store"]["name"] == state.stores[doc.store_id].name
    total = sum((ln.unit_price or 0) * ln.quantity for ln in doc.lines)
    assert top["total_incl_tax"] == str(total) and top["currency"] == "EUR"
    local = datetime.fromisoformat(top["date"]).astimezone(ZoneInfo("Europe/Paris"))
    assert local.replace(tzinfo=None) == doc.date  # ERP local time, answered as an instant
    # the e-mail names the same customer and the same list (answered from the short cache)
    email = state.customers[customer_id].email
    again = await all_pages(api, keys["storefront"], email.upper(), limit=50)
    assert [i["key"] for i in again] == [key_of(d) for d in expected]
    assert await calls(sim_url, HEADERS) == 1


async def test_date_filters_pass_to_the_erp_and_bound_the_list(
    api, keys, state: SimulatorState, sim_url: str
) -> None:
    customer_id = best_customer(state)
    expected = history(state, customer_id)
    middle = expected[len(expected) // 2].date
    assert middle is not None
    since = middle.date()
    items = await all_pages(api, keys["admin"], customer_id, since=since.isoformat())
    wanted = [key_of(d) for d in expected if d.date is not None and d.date.date() >= since]
    assert [i["key"] for i in items] == wanted and 0 < len(wanted) < len(expected)
    items = await all_pages(api, keys["admin"], customer_id, until=since.isoformat())
    wanted = [key_of(d) for d in expected if d.date is not None and d.date.date() <= since]
    assert [i["key"] for i in items] == wanted
    both = await all_pages(
        api, keys["admin"], customer_id, since=since.isoformat(), until=since.isoformat()
    )
    assert {i["key"] for i in both} == {
        key_of(d) for d in expected if d.date is not None and d.date.date() == since
    }
    sent = state.journal.find("GetHeaderList")
    assert any("<ns0:BeginDate>" in e.body for e in sent)
    assert any("<ns0:EndDate>" in e.body for e in sent)


async def test_a_document_with_its_lines_labels_and_our_item_keys(
    api, keys, pool, state: SimulatorState
) -> None:
    customer_id = best_customer(state)
    doc = history(state, customer_id)[0]
    card = next(iter(state.cards.values()))  # the customer's card (GetCustomerCards)
    card.customer_id, card.active = customer_id, True
    mapped = state.items[doc.lines[0].item]
    await pool.execute(
        "INSERT INTO items (sku, ean, description, ps_product_id, ps_attribute_id, ps_reference)"
        " VALUES ($1, $2, $3, 31, 7, 'REF-31')",
        mapped.sku,
        mapped.ean,
        mapped.description,
    )
    path = f"/v1/customers/{customer_id}/receipts/{key_of(doc)}"
    receipt = await get(api, keys["storefront"], path)
    assert receipt["key"] == key_of(doc) and receipt["customer_id"] == customer_id
    assert [ln["label"] for ln in receipt["lines"]] == [ln.label for ln in doc.lines]
    assert [ln["ean"] for ln in receipt["lines"]] == [state.items[ln.item].ean for ln in doc.lines]
    assert [ln["sku"] for ln in receipt["lines"]] == [state.items[ln.item].sku for ln in doc.lines]
    assert [ln["quantity"] for ln in receipt["lines"]] == [str(ln.quantity) for ln in doc.lines]
    first = receipt["lines"][0]
    assert first["prestashop"] == {
        "id_product": 31,
        "id_product_attribute": 7,
        "reference": "REF-31",
    }
    assert all(ln["prestashop"] is None for ln in receipt["lines"][1:])
    assert receipt["payments"] and receipt["payments"][0]["amount"] == receipt["total_incl_tax"]
    assert receipt["loyalty_card"] == {"card_id": card.card_id, "program_label": card.program_label}
    # printable page: self-contained, with the store, the lines and the totals
    page = await get(api, keys["storefront"], path + ".html")
    assert state.stores[doc.store_id].name in page and doc.lines[0].label in page
    assert "src=" not in page and "href=" not in page and "<script" not in page
    assert receipt["total_incl_tax"].replace(".", ",") in page and card.card_id in page
    # another customer's document is not found
    other = next(c for c in state.customers if c != customer_id)
    await get(api, keys["storefront"], f"/v1/customers/{other}/receipts/{key_of(doc)}", 404)


async def test_erp_down_answers_the_stored_documents_flagged_stale(
    api, keys, state: SimulatorState, sim_url: str
) -> None:
    customer_id = best_customer(state)
    expected = [key_of(d) for d in history(state, customer_id)]
    fresh = await get(api, keys["admin"], f"/v1/customers/{customer_id}/receipts", limit=100)
    path = f"/v1/customers/{customer_id}/receipts/{expected[0]}"
    await get(api, keys["admin"], path)
    await add_fault(sim_url, kind="down")
    await asyncio.sleep(0.3)  # past the cache
    stale = await get(api, keys["admin"], f"/v1/customers/{customer_id}/receipts", limit=100)
    assert stale["stale"] is True and stale["source"] == "fallback"
    assert [i["key"] for i in stale["items"]] == expected
    assert stale["as_of"] == fresh["as_of"]
    one = await get(api, keys["admin"], path)
    assert one["stale"] is True and one["lines"]
    page = await get(api, keys["admin"], path + ".html")
    assert "indisponible" in page
    # never read: nothing to fall back on
    await get(api, keys["admin"], f"/v1/customers/{customer_id}/receipts/{expected[1]}", 503)
    never = next(c for c in sorted(state.customers) if c != customer_id)
    await get(api, keys["admin"], f"/v1/customers/{never}/receipts", 503)
    await clear_faults(sim_url)
    await get(api, keys["admin"], f"/v1/customers/{never}/receipts")


async def test_concurrent_reads_of_one_list_share_one_erp_read(
    api, keys, state: SimulatorState, sim_url: str
) -> None:
    customer_id = best_customer(state)
    await add_fault(sim_url, kind="latency", operation="GetHeaderList", latency_ms=300)
    path = f"/v1/customers/{customer_id}/receipts"
    pages = await asyncio.gather(*(get(api, keys["admin"], path) for _ in range(6)))
    assert len({tuple(i["key"] for i in p["items"]) for p in pages}) == 1
    assert await calls(sim_url, HEADERS) == 1


async def test_unknown_customers_404_shared_email_409_bad_input_422(
    api, keys, pool, state: SimulatorState
) -> None:
    sf = keys["storefront"]
    await get(api, sf, "/v1/customers/C9999999/receipts", 404)
    await get(api, sf, "/v1/customers/nobody@example.org/receipts", 404)
    await get(api, sf, "/v1/customers/ps:123/receipts", 404)
    await get(api, sf, "/v1/customers/C9999999", 404)
    ids = sorted(state.customers)[:2]
    for customer_id in ids:
        state.customers[customer_id] = dataclasses.replace(
            state.customers[customer_id], email="twins@example.org"
        )
    conflict = await get(api, sf, "/v1/customers/twins@example.org/receipts", 409)
    assert sorted(conflict["candidates"]) == ids
    customer_id = best_customer(state)
    base = f"/v1/customers/{customer_id}/receipts"
    await get(api, sf, base, 422, cursor="not-a-cursor")
    await get(api, sf, base, 422, cursor="W10")
    await get(api, sf, base, 422, since="2026-02-01", until="2026-01-01")
    await get(api, sf, base, 422, limit=10**30)
    await get(api, sf, base, 422, since="20260101000000000000")
    await get(api, sf, base, 422, colour="blue")
    await get(api, sf, base, 422, since="0001-01-01")
    await get(api, sf, base, 422, until="9999-12-31")
    await get(api, sf, "/v1/customers/%20/receipts", 422)
    await get(api, sf, "/v1/customers/ps:/receipts", 422)
    await get(api, sf, "/v1/customers/ps:0", 422)
    await get(api, sf, "/v1/customers/@", 422)
    await get(api, sf, f"{base}/Receipt:S001:99999999999", 422)
    await get(api, sf, f"{base}/nonsense", 422)
    await get(api, sf, "/v1/customers/ps:99999999999999999999999/receipts", 422)
    await get(api, sf, "/v1/customers/C0%00/receipts", 422)
    await get(api, sf, "/v1/customers/a%00b@example.org/receipts", 422)
    await get(api, sf, "/v1/customers/a%00b@example.org", 422)
    await get(api, sf, f"/v1/customers/{'x' * 400}@example.org", 422)
    await get(api, sf, f"{base}/Receipt:S001%00:1", 422)
    await get(api, sf, f"{base}/Receipt:S001:1.html", 404)


async def test_customer_by_id_email_and_prestashop_id(
    api, keys, pool, state: SimulatorState
) -> None:
    customer_id = best_customer(state)
    customer = state.customers[customer_id]
    by_id = await get(api, keys["staff"], f"/v1/customers/{customer_id}")
    assert by_id["erp"]["email"] == customer.email and by_id["links"] == []
    assert by_id["resolved_by"] == "customer_id" and by_id["stale"] is False
    await pool.execute(
        "INSERT INTO customers (email, ps_customer_id, erp_customer_id, linked_by)"
        " VALUES ($1, 901, $2, 'created')",
        customer.email.lower(),
        customer_id,
    )
    by_ps = await get(api, keys["storefront"], "/v1/customers/ps:901")
    assert by_ps["customer_id"] == customer_id and by_ps["resolved_by"] == "ps_customer_id"
    assert by_ps["links"][0]["linked_by"] == "created"
    by_email = await get(api, keys["storefront"], f"/v1/customers/{customer.email}")
    assert by_email["customer_id"] == customer_id and by_email["resolved_by"] == "email"
    card = next((c for c in state.cards.values() if c.customer_id == customer_id), None)
    if card is not None:  # a loyalty card number is a Cegid customer reference
        by_card = await get(api, keys["storefront"], f"/v1/customers/{card.card_id}")
        assert by_card["customer_id"] == customer_id and by_card["resolved_by"] == "reference"


async def test_staff_keys_see_documents_of_their_stores_only(
    api, keys, state: SimulatorState
) -> None:
    customer_id = best_customer(state)
    mine = sorted(state.stores)[0]
    docs = history(state, customer_id)
    items = await all_pages(api, keys["staff"], customer_id)
    assert [i["key"] for i in items] == [key_of(d) for d in docs if d.store_id == mine]
    other = next(d for d in docs if d.store_id != mine)
    path = f"/v1/customers/{customer_id}/receipts/{key_of(other)}"
    await get(api, keys["staff"], path, 403)
    await get(api, keys["staff"], path + ".html", 403)
    await get(api, keys["storefront"], path)
