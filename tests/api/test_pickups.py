"""Pickups over HTTP: creation with holds, idempotency, refusals, the staff flow, the sweeper."""

from __future__ import annotations

import uuid

import pytest

from service.usecases.pickups.flow import expire_due
from tests.api.stock_fixtures import ITEMS, ago, seed
from tests.conftest import KeyFactory, bearer

CUSTOMER = {"email": "ana@example.com", "first_name": "Ana", "last_name": "Lopez"}


@pytest.fixture
async def keys(pool, make_key: KeyFactory) -> dict[str, str]:
    await seed(pool)
    return {
        "storefront": await make_key("storefront"),
        "staff": await make_key("staff", ["PAR"], label="till-1"),
        "other_staff": await make_key("staff", ["LYO"]),
        "admin": await make_key("admin"),
    }


def reservation(*lines: tuple[str, int], store: str = "PAR") -> dict:
    return {
        "kind": "reservation",
        "store_id": store,
        "customer": CUSTOMER,
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
    }


async def create(client, key: str, body: dict, idem: str | None = None, status: int = 201):
    headers = {**bearer(key), "Idempotency-Key": idem or uuid.uuid4().hex}
    resp = await client.post("/v1/pickups", json=body, headers=headers)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def available(client, key: str, sku: str, store: str = "PAR") -> int:
    resp = await client.get(f"/v1/availability?sku={sku}&store={store}", headers=bearer(key))
    return (await resp.json())["stores"][0]["available"]


async def test_reservation_holds_stock_and_queues_the_erp_post(client, keys, pool) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 3)))
    assert p["state"] == "confirmed" and p["kind"] == "reservation"
    assert len(p["pickup_code"]) == 8 and p["next_events"] == ["cancel", "expire", "mark_ready"]
    assert p["lines"] == [
        {
            "line": 1,
            "sku": "JEANS-32",
            "ean": ITEMS["JEANS-32"],
            "quantity": 3,
            "unit_price": None,
            "label": "",
        }
    ]
    assert p["history"][0]["to"] == "confirmed"
    assert p["history"][0]["actor"]["kind"] == "storefront"
    assert await available(client, keys["storefront"], "JEANS-32") == 7
    row = await pool.fetchrow("SELECT kind, payload FROM outbox WHERE aggregate_id = $1", p["id"])
    assert row["kind"] == "pickup.created"
    assert row["payload"]["lines"][0]["quantity"] == 3
    assert row["payload"]["customer"]["email"] == CUSTOMER["email"]
    code_hash = await pool.fetchval("SELECT code_hash FROM pickups WHERE id = $1::uuid", p["id"])
    assert p["pickup_code"].encode() not in bytes(code_hash)  # only a hash is stored
    fetched = await (
        await client.get(f"/v1/pickups/{p['id']}", headers=bearer(keys["storefront"]))
    ).json()
    assert fetched["pickup_code"] is None
    assert fetched == {**p, "pickup_code": None}  # the creation answer is what is stored


async def test_all_or_nothing_lists_every_short_line(client, keys, pool) -> None:
    body = reservation(("JEANS-32", 4), ("TSHIRT-RED-M", 11), ("TSHIRT-RED-L", 12))
    resp = await client.post(
        "/v1/pickups", json=body, headers={**bearer(keys["storefront"]), "Idempotency-Key": "k1"}
    )
    assert resp.status == 409
    problem = await resp.json()
    assert problem["type"].endswith(":insufficient-stock")
    assert [(s["sku"], s["requested"], s["available"]) for s in problem["shortfalls"]] == [
        ("TSHIRT-RED-L", 12, 10),
        ("TSHIRT-RED-M", 11, 10),
    ]
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 0
    assert await pool.fetchval("SELECT count(*) FROM stock_holds") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_same_key_same_body_replays_different_body_conflicts(client, keys, pool) -> None:
    body = reservation(("JEANS-32", 1))
    first = await create(client, keys["storefront"], body, idem="order-42")
    again = await create(client, keys["storefront"], body, idem="order-42")
    assert again == first  # same id, same code
    other = reservation(("JEANS-32", 2))
    resp = await client.post(
        "/v1/pickups",
        json=other,
        headers={**bearer(keys["storefront"]), "Idempotency-Key": "order-42"},
    )
    assert resp.status == 409 and "different request" in (await resp.json())["detail"]
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    resp = await client.post("/v1/pickups", json=body, headers=bearer(keys["storefront"]))
    assert resp.status == 422 and "Idempotency-Key" in await resp.text()


async def test_orders_need_prices_and_are_idempotent_on_the_prestashop_id(client, keys) -> None:
    order = {
        "kind": "order",
        "store_id": "PAR",
        "customer": CUSTOMER,
        "payment_status": "paid",
        "ps_order_id": 5001,
        "ps_order_reference": "XKBKNABJK",
        "lines": [{"ean": ITEMS["TSHIRT-RED-M"], "quantity": 2}],
    }
    resp = await client.post(
        "/v1/pickups", json=order, headers={**bearer(keys["storefront"]), "Idempotency-Key": "a"}
    )
    assert resp.status == 422 and "unit_price" in await resp.text()
    order["lines"][0]["unit_price"] = "19.9"
    first = await create(client, keys["storefront"], order)
    assert first["kind"] == "order" and first["lines"][0]["unit_price"] == "19.90"
    second = await create(client, keys["storefront"], order, status=200)  # new key, same order
    assert second["id"] == first["id"] and second["pickup_code"] is None
    assert await available(client, keys["storefront"], "TSHIRT-RED-M") == 8


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"store_id": "NOPE"}, 404, "NOPE"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 404, "NOPE"),
        ({"lines": [{"sku": "JEANS-32", "quantity": 0}]}, 422, "quantity"),
        ({"lines": []}, 422, "lines"),
        ({"customer": {"email": "not-an-email"}}, 422, "email"),
        ({"kind": "layaway"}, 422, "kind"),
        ({"ps_order_reference": "abc"}, 422, "ps_order_reference"),
    ],
)
async def test_bad_requests_change_nothing(client, keys, pool, change, status, needle) -> None:
    body = {**reservation(("JEANS-32", 1)), **change}
    resp = await client.post(
        "/v1/pickups",
        json=body,
        headers={**bearer(keys["storefront"]), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert resp.status == status, await resp.text()
    assert needle in await resp.text()
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 0


async def test_store_service_capacity_and_staleness_refusals(client, keys, pool) -> None:
    await pool.execute("UPDATE stores SET services = '{click_and_collect}' WHERE store_id='LYO'")
    await create(client, keys["storefront"], reservation(("JEANS-32", 1), store="LYO"), status=409)
    await pool.execute("UPDATE stores SET pickup_capacity_per_day = 1 WHERE store_id = 'PAR'")
    await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    full = await create(client, keys["storefront"], reservation(("JEANS-32", 1)), status=409)
    assert full["capacity"] == 1
    await pool.execute("UPDATE stock SET as_of = $1 WHERE store_id = 'MAR'", ago(3600))
    await pool.execute("DELETE FROM stock_store_checks")
    stale = await create(
        client, keys["storefront"], reservation(("JEANS-32", 1), store="MAR"), status=503
    )
    assert "too old" in stale["detail"]


async def test_staff_flow_ready_then_collect_with_the_code(client, keys, pool) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 2)))
    staff = {**bearer(keys["staff"]), "X-Staff-Id": "marie"}
    resp = await client.post(
        f"/v1/pickups/{p['id']}/collect", json={"code": p["pickup_code"]}, headers=staff
    )
    assert resp.status == 409 and (await resp.json())["current_state"] == "confirmed"
    resp = await client.post(f"/v1/pickups/{p['id']}/ready", headers=staff)
    assert resp.status == 200 and (await resp.json())["state"] == "ready"
    resp = await client.post(
        f"/v1/pickups/{p['id']}/collect", json={"code": p["pickup_code"].lower()}, headers=staff
    )
    done = await resp.json()
    assert resp.status == 200 and done["state"] == "collected"
    assert [h["event"] for h in done["history"]] == ["create", "mark_ready", "collect"]
    staff_key_id = await pool.fetchval("SELECT id::text FROM api_keys WHERE label = 'till-1'")
    assert done["history"][1]["actor"] == {"kind": "staff", "id": staff_key_id, "name": "marie"}
    kinds = [
        r["kind"]
        for r in await pool.fetch(
            "SELECT kind FROM outbox WHERE aggregate_id = $1 ORDER BY id", p["id"]
        )
    ]
    assert kinds == ["pickup.created", "pickup.ready", "pickup.collected"]
    released = await pool.fetchval(
        "SELECT released_at FROM stock_holds WHERE pickup_id = $1::uuid", p["id"]
    )
    assert released is not None
    resp = await client.post(f"/v1/pickups/{p['id']}/cancel", headers=staff)
    assert resp.status == 409 and "collected" in (await resp.json())["detail"]


async def test_wrong_codes_lock_the_pickup(client, keys, pool) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    staff = bearer(keys["staff"])
    await client.post(f"/v1/pickups/{p['id']}/ready", headers=staff)
    wrong = "22222222" if p["pickup_code"] != "22222222" else "33333333"
    for left in (4, 3, 2, 1, 0):
        resp = await client.post(
            f"/v1/pickups/{p['id']}/collect", json={"code": wrong}, headers=staff
        )
        assert resp.status == 422
        assert f"{left} attempt(s) left" in await resp.text()
    resp = await client.post(
        f"/v1/pickups/{p['id']}/collect", json={"code": p["pickup_code"]}, headers=staff
    )
    assert resp.status == 423  # even the right code: locked
    state = await pool.fetchval("SELECT state FROM pickups WHERE id = $1::uuid", p["id"])
    assert state == "ready"


async def test_cancel_releases_stock(client, keys) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 4)))
    assert await available(client, keys["storefront"], "JEANS-32") == 6
    resp = await client.post(
        f"/v1/pickups/{p['id']}/cancel",
        json={"reason": "changed mind"},
        headers=bearer(keys["storefront"]),
    )
    assert resp.status == 200 and (await resp.json())["state"] == "cancelled"
    assert await available(client, keys["storefront"], "JEANS-32") == 10


async def test_roles_and_store_scoping(client, keys) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    other = bearer(keys["other_staff"])
    for method, path in (("get", ""), ("post", "/ready"), ("post", "/cancel")):
        resp = await getattr(client, method)(f"/v1/pickups/{p['id']}{path}", headers=other)
        assert resp.status == 403, path
    resp = await client.get("/v1/stores/PAR/pickups", headers=other)
    assert resp.status == 403
    resp = await client.post(f"/v1/pickups/{p['id']}/ready", headers=bearer(keys["storefront"]))
    assert resp.status == 403  # storefronts do not prepare parcels
    resp = await client.post(
        "/v1/pickups",
        json=reservation(("JEANS-32", 1)),
        headers={**bearer(keys["staff"]), "Idempotency-Key": "s"},
    )
    assert resp.status == 403
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        resp = await client.get(f"/v1/pickups/{bad}", headers=bearer(keys["admin"]))
        assert resp.status == 404


async def test_store_list_filters_and_pages(client, keys) -> None:
    ids = [
        (await create(client, keys["storefront"], reservation(("JEANS-32", 1))))["id"]
        for _ in range(5)
    ]
    staff = bearer(keys["staff"])
    await client.post(f"/v1/pickups/{ids[1]}/ready", headers=staff)
    seen, cursor = [], None
    while True:
        url = "/v1/stores/PAR/pickups?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await (await client.get(url, headers=staff)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    ready = await (await client.get("/v1/stores/PAR/pickups?state=ready", headers=staff)).json()
    assert [p["id"] for p in ready["items"]] == [ids[1]]
    resp = await client.get("/v1/stores/PAR/pickups?cursor=garbage", headers=staff)
    assert resp.status == 422


async def test_sweeper_expires_and_no_shows_and_releases(client, keys, pool) -> None:
    a = await create(client, keys["storefront"], reservation(("JEANS-32", 2)))
    b = await create(client, keys["storefront"], reservation(("JEANS-32", 3)))
    c = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    await client.post(f"/v1/pickups/{b['id']}/ready", headers=bearer(keys["staff"]))
    await pool.execute(
        "UPDATE pickups SET deadline = $1 WHERE id = ANY($2::uuid[])", ago(60), [a["id"], b["id"]]
    )
    assert await expire_due(pool) == 2
    assert await expire_due(pool) == 0
    states = dict(await pool.fetch("SELECT id::text, state FROM pickups"))
    assert states == {a["id"]: "expired", b["id"]: "no_show", c["id"]: "confirmed"}
    assert await available(client, keys["storefront"], "JEANS-32") == 9
    kinds = {r["kind"] for r in await pool.fetch("SELECT kind FROM outbox")}
    assert {"pickup.expired", "pickup.no_show"} <= kinds
    hist = await pool.fetchrow("SELECT actor_kind FROM pickup_history WHERE event = 'expire'")
    assert hist["actor_kind"] == "system"


async def test_held_skus_are_marked_hot_for_the_sync(client, keys, pool) -> None:
    from service.api.appkeys import READER

    await create(client, keys["storefront"], reservation(("JEANS-32", 1), ("TSHIRT-RED-M", 1)))
    await client.app[READER].flush_wanted()  # the API's batch, every 2 s
    hot = await pool.fetch("SELECT sku FROM hot_skus ORDER BY sku")
    assert [r["sku"] for r in hot] == ["JEANS-32", "TSHIRT-RED-M"]
