"""Loyalty over HTTP against the Cegid simulator: balances by id, e-mail and card, holds and the
unified balance, refusals, no double spending, expiry, and the ERP going down. Posting
committed holds through the outbox: tests/integration/test_loyalty_outbox.py."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from service.domain.loyalty import points_value
from service.erp.simulator import SimulatorState
from service.settings import Settings, parse_point_values
from service.usecases.loyalty.holds import expire_due
from tests.conftest import KeyFactory, bearer
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import add_fault, calls, clear_faults

state, sim_url, erp = fx.state, fx.sim_url, fx.erp
CARDS = "LoyaltyWcfService.GetCustomerCards"


@dataclasses.dataclass
class Shopper:
    customer_id: str
    email: str
    card: str


def shopper(state: SimulatorState, points: int, index: int = 0) -> Shopper:
    """A customer with exactly one active card, holding ``points``."""
    found = [
        c
        for c in state.customers.values()
        if [k for k in state.cards.values() if k.customer_id == c.customer_id] != []
    ]
    customer = found[index]
    cards = [k for k in state.cards.values() if k.customer_id == customer.customer_id]
    cards[0].active, cards[0].points = True, Decimal(points)
    return Shopper(customer.customer_id, customer.email, cards[0].card_id)


@pytest.fixture
async def keys(make_key: KeyFactory) -> dict[str, str]:
    return {
        "storefront": await make_key("storefront"),
        "staff": await make_key("staff", ["PAR"]),
        "admin": await make_key("admin"),
    }


@pytest.fixture
async def api(make_client, erp):
    return await make_client(erp=erp, loyalty_ttl_s=0.2)


async def balance(api, key: str, ref: str, status: int = 200) -> dict[str, Any]:
    resp = await api.get(f"/v1/customers/{ref}/loyalty", headers=bearer(key))
    assert resp.status == status, await resp.text()
    return dict(await resp.json())


async def hold(
    api, key: str, ref: str, points: int, status: int = 201, idem: str | None = None, **extra: Any
) -> dict[str, Any]:
    headers = {**bearer(key), "Idempotency-Key": idem or uuid.uuid4().hex}
    body = {"points": points, **extra}
    resp = await api.post(f"/v1/customers/{ref}/loyalty/holds", json=body, headers=headers)
    assert resp.status == status, await resp.text()
    return dict(await resp.json())


async def change(api, key: str, hold_id: str, action: str, status: int = 200) -> dict[str, Any]:
    resp = await api.post(f"/v1/loyalty/holds/{hold_id}/{action}", headers=bearer(key))
    assert resp.status == status, await resp.text()
    return dict(await resp.json())


async def test_balance_by_customer_id_email_and_card(api, keys, state, sim_url) -> None:
    s = shopper(state, 1234)
    by_id = await balance(api, keys["storefront"], s.customer_id)
    assert by_id["resolved_by"] == "customer_id" and by_id["customer_id"] == s.customer_id
    [card] = by_id["cards"]
    assert card["number"] == s.card and card["active"] is True and card["erp_points"] == 1234
    assert (by_id["erp_points"], by_id["held_points"], by_id["points_available"]) == (1234, 0, 1234)
    assert by_id["pending_accruals"] == 0 and by_id["holds"] == []
    [program] = by_id["programs"]
    assert program["program_id"] == "FID01" and program["points_available"] == 1234
    assert program["value"] == {"amount": "61.70", "currency": "EUR"}  # 100 points = 5.00
    assert program["rate"] == {"points": 100, "amount": "5.00", "currency": "EUR"}
    assert (by_id["source"], by_id["stale"]) == ("erp", False)

    by_email = await balance(api, keys["staff"], s.email.upper())
    assert (by_email["resolved_by"], by_email["customer_id"]) == ("email", s.customer_id)
    by_card = await balance(api, keys["admin"], s.card)
    assert (by_card["resolved_by"], by_card["customer_id"]) == ("card", s.customer_id)
    assert by_card["source"] == "cache" and by_card["points_available"] == 1234
    assert await calls(sim_url, CARDS) == 1  # one ERP reading served all three


async def test_holds_reduce_the_unified_balance_until_released(api, keys, state) -> None:
    s = shopper(state, 1000)
    key = keys["storefront"]
    first = await hold(api, key, s.customer_id, 300, reference="PSORDER01")
    assert first["state"] == "held" and first["points"] == 300
    assert first["value"] == {"amount": "15.00", "currency": "EUR"}
    assert first["points_available"] == 700 and first["reference"] == "PSORDER01"
    second = await hold(api, key, s.card, 200)  # by card number, once the card is known
    b = await balance(api, key, s.customer_id)
    assert (b["erp_points"], b["held_points"], b["points_available"]) == (1000, 500, 500)
    assert [h["id"] for h in b["holds"]] == [first["id"], second["id"]]
    assert b["cards"][0]["held_points"] == 500
    assert b["programs"][0]["value"]["amount"] == "25.00"

    released = await change(api, key, first["id"], "release")
    assert released["state"] == "released" and released["closed_at"] is not None
    assert (await balance(api, key, s.customer_id))["points_available"] == 800
    await change(api, key, first["id"], "release", status=409)
    await change(api, key, first["id"], "commit", status=409)
    fetched = await api.get(f"/v1/loyalty/holds/{second['id']}", headers=bearer(key))
    assert (await fetched.json())["state"] == "held"


async def test_over_redemption_is_refused_with_what_is_available(api, keys, state) -> None:
    s = shopper(state, 450)
    await hold(api, keys["storefront"], s.customer_id, 400)
    refused = await hold(api, keys["storefront"], s.customer_id, 51, status=409)
    assert refused["available"] == 50 and refused["requested"] == 51
    assert refused["type"] == "urn:omnistock:problem:conflict"
    await hold(api, keys["storefront"], s.customer_id, 50)


async def test_concurrent_holds_never_overspend(api, keys, state, pool) -> None:
    s = shopper(state, 1000)
    await balance(api, keys["storefront"], s.customer_id)

    async def attempt() -> int:
        headers = {**bearer(keys["storefront"]), "Idempotency-Key": uuid.uuid4().hex}
        url = f"/v1/customers/{s.customer_id}/loyalty/holds"
        resp = await api.post(url, json={"points": 100}, headers=headers)
        return resp.status

    statuses = await asyncio.gather(*(attempt() for _ in range(20)))
    assert sorted(statuses) == [201] * 10 + [409] * 10
    total = await pool.fetchval("SELECT sum(points) FROM loyalty_holds WHERE state = 'held'")
    assert total == 1000
    assert (await balance(api, keys["storefront"], s.customer_id))["points_available"] == 0


async def test_idempotency_key_replays_or_conflicts(api, keys, state, pool) -> None:
    s = shopper(state, 500)
    first = await hold(api, keys["storefront"], s.customer_id, 100, idem="checkout-1")
    again = await hold(api, keys["storefront"], s.customer_id, 100, idem="checkout-1")
    assert again["id"] == first["id"]
    await hold(api, keys["storefront"], s.customer_id, 101, status=409, idem="checkout-1")
    assert await pool.fetchval("SELECT count(*) FROM loyalty_holds") == 1


async def test_unknown_malformed_and_unauthorised_requests(api, keys, state) -> None:
    s = shopper(state, 500)
    key = keys["storefront"]
    assert (await api.get(f"/v1/customers/{s.customer_id}/loyalty")).status == 401
    for ref in ("C9999999", "nobody@example.org", "LC0000009999"):
        problem = await balance(api, key, ref, status=404)
        assert problem["type"] == "urn:omnistock:problem:not-found"
    await balance(api, key, "not a ref!", status=422)
    await balance(api, key, "broken@email", status=422)
    await hold(api, key, "C9999999", 10, status=404)
    await hold(api, key, s.customer_id, 10, status=404, card_number="LC0000009999")
    for bad in (0, -5, "ten", None):
        await hold(api, key, s.customer_id, bad, status=422)  # type: ignore[arg-type]
    no_key = await api.post(
        f"/v1/customers/{s.customer_id}/loyalty/holds", json={"points": 5}, headers=bearer(key)
    )
    assert no_key.status == 422  # Idempotency-Key is required
    await change(api, key, str(uuid.uuid4()), "commit", status=404)
    await change(api, key, "not-a-uuid", "release", status=404)
    # staff act for their own store only
    await hold(api, keys["staff"], s.customer_id, 10, status=403, store_id="LYO")
    web_hold = await hold(api, key, s.customer_id, 10)
    await change(api, keys["staff"], web_hold["id"], "release", status=403)
    own = await hold(api, keys["staff"], s.customer_id, 10)
    assert own["store_id"] == "PAR"
    await change(api, keys["staff"], own["id"], "release")
    resolve = await api.post(
        f"/v1/admin/loyalty/holds/{own['id']}/resolve", json={"posted": True}, headers=bearer(key)
    )
    assert resolve.status == 403  # admin only


async def test_an_email_shared_by_two_customers_is_not_guessed(api, keys, state) -> None:
    a, b = shopper(state, 10, 0), shopper(state, 10, 1)
    state.customers[b.customer_id] = dataclasses.replace(
        state.customers[b.customer_id], email=a.email
    )
    problem = await balance(api, keys["storefront"], a.email, status=409)
    assert sorted(problem["candidates"]) == sorted([a.customer_id, b.customer_id])


async def test_expired_holds_stop_counting_and_the_sweeper_closes_them(
    make_client, erp, keys, state, pool
) -> None:
    api = await make_client(erp=erp, loyalty_hold_ttl_s=0.3)
    s = shopper(state, 600)
    h = await hold(api, keys["storefront"], s.customer_id, 600)
    await hold(api, keys["storefront"], s.customer_id, 1, status=409)
    await asyncio.sleep(0.35)
    assert (await balance(api, keys["storefront"], s.customer_id))["points_available"] == 600
    refused = await change(api, keys["storefront"], h["id"], "commit", status=409)
    assert refused["current_state"] == "expired"
    assert await expire_due(pool) == 1
    assert await expire_due(pool) == 0
    row = await pool.fetchrow("SELECT state, closed_at FROM loyalty_holds")
    assert row["state"] == "expired" and row["closed_at"] is not None
    await change(api, keys["storefront"], h["id"], "release", status=409)


async def test_erp_down_serves_the_last_balance_flagged_stale(
    make_client, erp, keys, state, sim_url
) -> None:
    api = await make_client(erp=erp, loyalty_ttl_s=0.05)
    s, never_read = shopper(state, 800, 0), shopper(state, 800, 1)
    key = keys["storefront"]
    await balance(api, key, s.email)
    await add_fault(sim_url, kind="down")
    await asyncio.sleep(0.1)
    for ref in (s.customer_id, s.email, s.card):
        b = await balance(api, key, ref)
        assert (b["source"], b["stale"], b["points_available"]) == ("fallback", True, 800)
    h = await hold(api, key, s.customer_id, 300)  # within OMNISTOCK_LOYALTY_MAX_STALENESS_S
    assert (await balance(api, key, s.card))["points_available"] == 500
    for ref in (never_read.customer_id, never_read.email):
        problem = await balance(api, key, ref, status=503)
        assert problem["type"] == "urn:omnistock:problem:service-unavailable"

    await clear_faults(sim_url)
    b = await balance(api, key, s.customer_id)
    assert (b["source"], b["stale"], b["points_available"]) == ("erp", False, 500)
    assert b["holds"][0]["id"] == h["id"]


async def test_holds_are_refused_on_a_too_old_balance(make_client, erp, keys, state, sim_url):
    api = await make_client(erp=erp, loyalty_ttl_s=0.05, loyalty_max_staleness_s=0.1)
    s = shopper(state, 800)
    await balance(api, keys["storefront"], s.customer_id)
    await add_fault(sim_url, kind="down")
    await asyncio.sleep(0.15)
    problem = await hold(api, keys["storefront"], s.customer_id, 10, status=503)
    assert "too old" in problem["detail"]


async def test_concurrent_reads_share_one_erp_call_and_wait_at_most_the_deadline(
    make_client, erp, keys, state, sim_url
) -> None:
    api = await make_client(erp=erp, loyalty_ttl_s=0.05, loyalty_refresh_deadline_s=0.15)
    s = shopper(state, 700)
    await balance(api, keys["storefront"], s.customer_id)
    await asyncio.sleep(0.1)
    await add_fault(sim_url, kind="latency", operation="GetCustomerCards", latency_ms=400)
    answers = await asyncio.gather(
        *(balance(api, keys["storefront"], s.customer_id) for _ in range(10))
    )
    assert {(a["source"], a["stale"], a["points_available"]) for a in answers} == {
        ("fallback", True, 700)
    }
    await asyncio.sleep(0.4)  # the shared call finished meanwhile, for later readers
    assert await calls(sim_url, CARDS) == 2
    await clear_faults(sim_url)


async def test_without_read_through_loyalty_builds_its_own_erp_client(
    make_client, keys, state, sim_url
) -> None:
    api = await make_client(erp_url=sim_url, erp_password=SecretStr(fx.PASSWORD), erp_retries=0)
    s = shopper(state, 42)
    b = await balance(api, keys["storefront"], s.customer_id)
    assert (b["source"], b["points_available"]) == ("erp", 42)


def test_point_values_per_program_and_bad_values_refused_at_load() -> None:
    values = parse_point_values('{"FID01": "50:1.00", "*": "100:2.50:CHF"}')
    assert points_value(values["FID01"], 125).amount == Decimal("2.50")
    assert str(points_value(values["*"], 99)) == "2.47 CHF"  # rounded down to the cent
    assert parse_point_values(" 100:5 ")["*"].step_value.amount == Decimal("5.00")
    for bad in ("100", "0:5.00", "100:0", "100:5.001", '{"FID01": 5}', "[1]", "{bad"):
        with pytest.raises(ValidationError, match="loyalty_point_value"):
            Settings(loyalty_point_value=bad)


async def test_field_errors_name_the_field_as_every_422_does(api, state, make_key) -> None:
    """``loc`` is the field's path in the body, without a "body" prefix (as pydantic's)."""
    s = shopper(state, 500)
    two_stores = await make_key("staff", ["PAR", "LYO"])
    problem = await hold(api, two_stores, s.customer_id, 10, status=422)
    assert [e["loc"] for e in problem["errors"]] == [["store_id"]]
    problem = await hold(api, two_stores, s.customer_id, 0, status=422, store_id="PAR")
    assert [e["loc"] for e in problem["errors"]] == [["points"]]
