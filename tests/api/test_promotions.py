"""Prices and promotions over HTTP: store prices, the admin rule API, item categories, the rules
that apply now, and baskets priced end to end (markdowns + rules), with every error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from service.api.prices import BasketOut
from service.erp.port import StorePrice
from stores import prices as prices_repo
from tests.api.stock_fixtures import seed
from tests.conftest import KeyFactory, bearer

M, L, J = "TSHIRT-RED-M", "TSHIRT-RED-L", "JEANS-32"
# (store, sku) -> base, current, percent, reason
PRICES = {
    ("PAR", M): ("20.00", "15.00", "25.000", "Summer sale"),
    ("PAR", L): ("20.00", "20.00", "0", ""),
    ("PAR", J): ("60.00", "60.00", "0", ""),
    ("WEB", J): ("55.00", "49.50", "10.000", "Web week"),
    ("WEB", M): ("19.00", "19.00", "0", ""),
}
NOW = datetime.now(UTC)
YESTERDAY, TOMORROW = (NOW - timedelta(days=1)).isoformat(), (NOW + timedelta(days=1)).isoformat()


def rule(kind: str, targets: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {"name": fields.pop("name", kind), "kind": kind, "targets": targets or ALL, **fields}


ALL = {"all_items": True}
TOPS = {"categories": ["tops"], "label": "Tops"}


@pytest.fixture
async def world(pool, make_key: KeyFactory) -> dict[str, str]:
    return await seed_world(pool, make_key)


async def seed_world(pool: asyncpg.Pool, make_key: KeyFactory) -> dict[str, str]:
    """Stores and items of the stock fixtures, prices, and a key of every role."""
    await seed(pool)
    async with pool.acquire() as conn, conn.transaction():
        records = [
            StorePrice(store, "", sku, "EUR", Decimal(b), Decimal(c), Decimal(p), reason)
            for (store, sku), (b, c, p, reason) in PRICES.items()
        ]
        await prices_repo.apply_prices(conn, records, NOW)
    return {
        "storefront": await make_key("storefront"),
        "staff": await make_key("staff", ["PAR"]),
        "admin": await make_key("admin"),
    }


async def call(
    client: TestClient, method: str, path: str, key: str | None, status: int, **kw: Any
) -> Any:
    headers = {**(bearer(key) if key else {}), **kw.pop("headers", {})}
    resp = await client.request(method, path, headers=headers, **kw)
    assert resp.status == status, await resp.text()
    return await resp.json() if resp.content_type.endswith("json") else None


async def put_rules(client: TestClient, admin: str, rules: dict[str, dict[str, Any]]) -> None:
    for rule_id, body in rules.items():
        await call(client, "PUT", f"/v1/admin/promotions/{rule_id}", admin, 201, json=body)


async def price(client: TestClient, key: str, body: dict[str, Any], status: int = 200) -> Any:
    return await call(client, "POST", "/v1/baskets/price", key, status, json=body)


def store_basket(*lines: tuple[str, int], **kw: Any) -> dict[str, Any]:
    return {
        "channel": "store",
        "store_id": "PAR",
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
        **kw,
    }


# --------------------------------------------------------------------------- prices
async def test_price_of_one_item_in_a_store(client, world) -> None:
    key = world["storefront"]
    body = await call(client, "GET", "/v1/prices?ean=2000000000015&store=PAR", key, 200)
    assert body["item"]["sku"] == M and body["item"]["resolved_by"] == "ean"
    assert (body["store_id"], body["currency"]) == ("PAR", "EUR")
    assert (body["base_price"], body["current_price"]) == ("20.00", "15.00")
    assert body["markdown"] == {"amount": "5.00", "percent": "25.000", "reason": "Summer sale"}
    assert datetime.fromisoformat(body["as_of"]) == NOW
    for role in ("staff", "admin"):  # the staff key is bound to PAR: prices are not scoped
        body = await call(
            client, "GET", "/v1/prices?ps_product=103&ps_attribute=3&store=WEB", world[role], 200
        )
        assert body["item"]["sku"] == J and body["current_price"] == "49.50"

    missing = await call(client, "GET", f"/v1/prices?sku={L}&store=WEB", key, 404)
    assert L in missing["detail"] and "'WEB'" in missing["detail"]
    unknown_store = await call(client, "GET", f"/v1/prices?sku={M}&store=NOPE", key, 404)
    assert "'NOPE'" in unknown_store["detail"]
    unknown_item = await call(client, "GET", "/v1/prices?sku=NOPE-1&store=PAR", key, 404)
    assert "NOPE-1" in unknown_item["detail"]
    no_store = await call(client, "GET", f"/v1/prices?sku={M}", key, 422)
    assert no_store["errors"][0]["loc"] == ["store"]
    two_ids = await call(client, "GET", f"/v1/prices?sku={M}&ean=1&store=PAR", key, 422)
    assert "exactly one" in two_ids["errors"][0]["msg"]
    await call(client, "GET", f"/v1/prices?sku={M}&store=PAR", None, 401)


# --------------------------------------------------------------------------- admin rules
async def test_admin_creates_replaces_lists_and_deletes_rules(client, world) -> None:
    admin = world["admin"]
    path = "/v1/admin/promotions/DENIM-10"
    body = rule("percentage", {"skus": [f" {J} "]}, percent=10, name="Denim days")
    created = await call(client, "PUT", path, admin, 201, json=body)
    assert created["id"] == "DENIM-10" and created["percent"] == "10"
    assert created["targets"]["skus"] == [J]  # SKUs are trimmed like Cegid's
    body |= {"percent": "12.5", "id": "DENIM-10", "store_ids": ["PAR"]}
    replaced = await call(client, "PUT", path, admin, 200, json=body)
    assert replaced["percent"] == "12.5" and replaced["updated_at"] > created["updated_at"]
    await put_rules(client, admin, {"A-1": rule("fixed_amount", amount="2.50")})

    page = await call(client, "GET", "/v1/admin/promotions?limit=1", admin, 200)
    assert [r["id"] for r in page["items"]] == ["A-1"] and page["next_cursor"]
    rest = await call(
        client, "GET", f"/v1/admin/promotions?cursor={page['next_cursor']}", admin, 200
    )
    assert [r["id"] for r in rest["items"]] == ["DENIM-10"] and rest["next_cursor"] is None
    assert rest["items"][0]["store_ids"] == ["PAR"] and rest["items"][0]["channel"] == "both"
    await call(client, "GET", "/v1/admin/promotions?cursor=zzz", admin, 422)

    await call(client, "DELETE", path, admin, 204)
    gone = await call(client, "DELETE", path, admin, 404)
    assert "DENIM-10" in gone["detail"]
    listed = await call(client, "GET", "/v1/admin/promotions", admin, 200)
    assert [r["id"] for r in listed["items"]] == ["A-1"]

    for role in ("storefront", "staff"):
        await call(client, "GET", "/v1/admin/promotions", world[role], 403)
        await call(client, "PUT", path, world[role], 403, json=body)
        await call(client, "DELETE", "/v1/admin/promotions/A-1", world[role], 403)
    await call(client, "PUT", path, None, 401, json=body)


MALFORMED = [
    (rule("percentage"), ["percent"], "required"),
    (rule("percentage", percent="150"), ["percent"], "between 0.01 and 100"),
    (rule("half_price"), ["kind"], "unknown kind"),
    (rule("threshold", threshold="50", percent=5, amount=5), ["percent"], "exactly one"),
    (rule("buy_x_get_y", buy_x=0, get_y=1), ["buy_x"], "at least 1"),
    (rule("fixed_amount", amount="1.005"), ["amount"], "2 decimal places"),
    (rule("fixed_amount", {"skus": ["A"], "all_items": True}, amount=1), ["targets"], "not both"),
    (rule("percentage", percent=5, channel="phone"), ["channel"], "web, store, both"),
    (rule("percentage", percent=5, starts_at="2030-01-01T00:00:00"), ["starts_at"], "aware"),
    (rule("percentage", percent=5, starts_at=TOMORROW, ends_at=YESTERDAY), ["ends_at"], "after"),
    (rule("percentage", percent=5, currency="euro"), ["currency"], "ISO"),
    (rule("percentage", percent=5, colour="red"), ["colour"], "Extra inputs"),
    (rule("percentage", percent="ten"), ["percent"], "decimal"),
    (rule("fixed_amount", amount="1e100000"), ["amount"], "15 digits"),
    (rule("threshold", threshold="1e-99999", amount=1), ["threshold"], "15 digits"),
    ({**rule("percentage", percent=5), "id": "OTHER"}, ["id"], "path names 'R-1'"),
]


async def test_malformed_rules_are_422_with_field_errors(client, world) -> None:
    for body, loc, msg in MALFORMED:
        problem = await call(
            client, "PUT", "/v1/admin/promotions/R-1", world["admin"], 422, json=body
        )
        assert [e["loc"] for e in problem["errors"]] == [loc], (body, problem)
        assert msg in problem["errors"][0]["msg"], (body, problem)
    listed = await call(client, "GET", "/v1/admin/promotions", world["admin"], 200)
    assert listed["items"] == []


async def test_bad_rule_ids_and_bodies(client, world) -> None:
    admin = world["admin"]
    ok = rule("percentage", percent=5)
    bad_id = await call(client, "PUT", "/v1/admin/promotions/%20bad%20id!", admin, 422, json=ok)
    assert bad_id["errors"][0]["loc"][0] == "rule_id"
    not_json = await call(
        client,
        "PUT",
        "/v1/admin/promotions/R",
        admin,
        400,
        data=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert not_json["status"] == 400


# --------------------------------------------------------------------------- categories
async def test_item_categories_are_set_by_admins(client, world, pool) -> None:
    admin, path = world["admin"], f"/v1/admin/items/{M}/categories"
    body = await call(
        client, "PUT", path, admin, 200, json={"categories": ["tops", " sale", "tops"]}
    )
    assert body == {"sku": M, "categories": ["sale", "tops"]}
    await call(client, "PUT", path, admin, 200, json={"categories": ["tops"]})
    rows = await pool.fetch("SELECT sku, category FROM item_categories ORDER BY 1, 2")
    assert [tuple(r) for r in rows] == [(M, "tops")]
    missing = await call(
        client, "PUT", "/v1/admin/items/NOPE-9/categories", admin, 404, json={"categories": ["x"]}
    )
    assert "NOPE-9" in missing["detail"]
    blank = await call(client, "PUT", path, admin, 422, json={"categories": [" "]})
    assert blank["errors"][0]["loc"] == ["categories", 0]
    await call(client, "PUT", path, world["staff"], 403, json={"categories": []})
    await call(client, "PUT", path, None, 401, json={"categories": []})


# --------------------------------------------------------------------------- what applies now
async def test_rules_that_apply_now_by_channel_store_and_window(client, world) -> None:
    await put_rules(
        client,
        world["admin"],
        {
            "ALL-STORES": rule("percentage", percent=5, channel="store", priority=1),
            "PAR-ONLY": rule("percentage", percent=5, store_ids=["PAR"]),
            "WEB-ONLY": rule("fixed_amount", amount=1, channel="web", loyalty_only=True),
            "OVER": rule("percentage", percent=5, ends_at=YESTERDAY),
            "SOON": rule("percentage", percent=5, starts_at=TOMORROW),
            "NOW": rule("threshold", threshold=50, amount=5, starts_at=YESTERDAY, ends_at=TOMORROW),
        },
    )
    key = world["storefront"]
    par = await call(client, "GET", "/v1/promotions?channel=store&store=PAR", key, 200)
    assert [r["id"] for r in par["items"]] == ["ALL-STORES", "PAR-ONLY", "NOW"]
    assert par["items"][0]["description"] == "5% off everything"
    assert par["items"][2]["description"] == "5.00 EUR off when you spend 50.00 EUR or more"
    lyon = await call(client, "GET", "/v1/promotions?channel=store&store=LYO", key, 200)
    assert [r["id"] for r in lyon["items"]] == ["ALL-STORES", "NOW"]
    web = await call(client, "GET", "/v1/promotions?channel=web", world["staff"], 200)
    assert [r["id"] for r in web["items"]] == ["WEB-ONLY", "NOW"]
    assert web["items"][0]["loyalty_only"] is True

    await call(client, "GET", "/v1/promotions?channel=store&store=NOPE", key, 404)
    await call(client, "GET", "/v1/promotions?channel=store", key, 422)
    await call(client, "GET", "/v1/promotions?channel=phone", key, 422)
    await call(client, "GET", "/v1/promotions", None, 401)


# --------------------------------------------------------------------------- baskets
BASKET_RULES = {
    "TOPS-B2G1": rule("buy_x_get_y", TOPS, buy_x=2, get_y=1, priority=10),
    "DENIM-10": rule("percentage", {"skus": [J], "label": "Jeans"}, percent=10),
    "SPEND-80": rule("threshold", ALL, threshold=80, amount=5),
    "SPEND-200": rule("threshold", ALL, threshold=200, percent=20),
    "WEB-5": rule("percentage", ALL, percent=5, channel="web"),
    "EXPIRED": rule("percentage", ALL, percent=50, ends_at=YESTERDAY),
}


async def _categorise(client: TestClient, admin: str) -> None:
    for sku, categories in ((M, ["tops"]), (L, ["tops"]), (J, ["denim"])):
        await call(
            client,
            "PUT",
            f"/v1/admin/items/{sku}/categories",
            admin,
            200,
            json={"categories": categories},
        )


async def test_basket_priced_end_to_end(client, world) -> None:
    await _categorise(client, world["admin"])
    await put_rules(client, world["admin"], BASKET_RULES)
    basket = store_basket((M, 2), (L, 1), (J, 1))
    body = await price(client, world["staff"], basket)
    BasketOut.model_validate(body)  # the answer has the documented shape
    m, l_, j = body["lines"]
    assert (m["base"], m["current"], m["markdown"], m["markdown_reason"]) == (
        "40.00",
        "30.00",
        "10.00",
        "Summer sale",
    )
    assert (m["unit_base_price"], m["unit_current_price"]) == ("20.00", "15.00")
    # buy 2 get 1 on tops: the cheapest top unit (an M at 15.00) is free
    assert m["discounts"][0] == {
        "rule_id": "TOPS-B2G1",
        "amount": "15.00",
        "explanation": "Buy 2 get 1 free on Tops",
    }
    assert j["discounts"][0] == {
        "rule_id": "DENIM-10",
        "amount": "6.00",
        "explanation": "10% off Jeans",
    }
    # 5.00 off 89.00 of nets (15 + 20 + 54), split pro rata in cents: 0.84, 1.12, 3.04
    assert [d["amount"] for d in m["discounts"]] == ["15.00", "0.84"]
    assert [d["amount"] for d in l_["discounts"]] == ["1.12"]
    assert [d["amount"] for d in j["discounts"]] == ["6.00", "3.04"]
    assert (m["net"], l_["net"], j["net"]) == ("14.16", "18.88", "50.96")
    assert body["totals"] == {
        "subtotal_base": "120.00",
        "markdowns": "10.00",
        "discounts": "26.00",
        "total": "84.00",
    }
    assert [(a["rule_id"], a["amount"]) for a in body["applied"]] == [
        ("TOPS-B2G1", "15.00"),
        ("DENIM-10", "6.00"),
        ("SPEND-80", "5.00"),
    ]
    reasons = {n["rule_id"]: (n["reason"], n["detail"]) for n in body["not_applied"]}
    assert reasons == {
        "EXPIRED": ("outside_window", reasons["EXPIRED"][1]),
        "WEB-5": ("wrong_channel", "only for web sales"),
        "SPEND-200": ("threshold_not_reached", "spend 111.00 more to reach 200.00"),
    }
    assert (body["currency"], body["price_list"], body["store_id"]) == ("EUR", "PAR", "PAR")

    again = await price(client, world["storefront"], basket)
    assert {**again, "priced_at": None} == {**body, "priced_at": None}  # deterministic
    shuffled = await price(client, world["storefront"], {**basket, "lines": basket["lines"][::-1]})
    assert [x["net"] for x in shuffled["lines"]] == ["50.96", "18.88", "14.16"]
    assert shuffled["totals"] == body["totals"]


async def test_loyalty_only_rules_need_a_loyalty_member(client, world) -> None:
    await put_rules(
        client, world["admin"], {"LOYAL-10": rule("percentage", percent=10, loyalty_only=True)}
    )
    basket = store_basket((J, 1))
    anonymous = await price(client, world["storefront"], basket)
    assert anonymous["totals"]["total"] == "60.00" and anonymous["applied"] == []
    assert anonymous["not_applied"][0]["reason"] == "loyalty_members_only"
    outsider = await price(
        client, world["storefront"], {**basket, "customer": {"loyalty_member": False}}
    )
    assert outsider["totals"]["total"] == "60.00"
    member = await price(
        client, world["storefront"], {**basket, "customer": {"loyalty_member": True}}
    )
    assert member["totals"]["total"] == "54.00" and member["loyalty_member"] is True
    assert [a["rule_id"] for a in member["applied"]] == ["LOYAL-10"]

    # the cached rule book follows admin writes at once
    path = "/v1/admin/promotions/LOYAL-10"
    await call(client, "PUT", path, world["admin"], 200, json=rule("percentage", percent=20))
    everyone = await price(client, world["storefront"], basket)
    assert everyone["totals"]["total"] == "48.00"
    assert everyone["rules_version"] > anonymous["rules_version"]
    await call(client, "DELETE", path, world["admin"], 204)
    assert (await price(client, world["storefront"], basket))["totals"]["total"] == "60.00"


async def test_web_baskets_use_the_web_price_list_unless_a_store_is_named(client, world) -> None:
    await put_rules(
        client,
        world["admin"],
        {
            "PAR-2": rule("fixed_amount", amount=2, store_ids=["PAR"]),
            "WEB-1": rule("fixed_amount", amount=1, channel="web"),
        },
    )
    web = await price(
        client,
        world["storefront"],
        {"channel": "web", "lines": [{"ps_product": 103, "ps_attribute": 3}]},
    )
    assert (web["price_list"], web["store_id"]) == ("WEB", None)
    BasketOut.model_validate(web)
    assert (web["lines"][0]["base"], web["lines"][0]["current"]) == ("55.00", "49.50")
    assert web["totals"]["total"] == "48.50"  # WEB-1; PAR-2 needs a store
    assert [(n["rule_id"], n["reason"]) for n in web["not_applied"]] == [("PAR-2", "wrong_store")]
    in_par = await price(
        client, world["storefront"], {"channel": "web", "store_id": "PAR", "lines": [{"sku": J}]}
    )
    assert in_par["price_list"] == "PAR" and in_par["totals"]["total"] == "57.00"  # 60 - 2 - 1


async def test_basket_errors_name_what_is_wrong(client, world) -> None:
    key = world["storefront"]
    unknown = await price(client, key, store_basket((J, 1), ("NOPE-1", 2)), 404)
    assert unknown["unknown"] == [{"line": 1, "kind": "sku", "value": "'NOPE-1'"}]
    no_store = await price(client, key, {**store_basket((J, 1)), "store_id": "NOPE"}, 404)
    assert "'NOPE'" in no_store["detail"]
    no_price = await price(client, key, {"channel": "web", "lines": [{"sku": L}]}, 409)
    assert no_price["missing"] == [{"line": 0, "sku": L}] and "'WEB'" in no_price["detail"]
    ambiguous = await price(client, key, store_basket() | {"lines": [{"reference": "TSHIRT"}]}, 409)
    assert ambiguous["ambiguous"][0]["line"] == 0
    for bad, loc in [
        ({**store_basket((J, 1)), "store_id": None}, ["store_id"]),
        (store_basket((J, 0)), ["lines", 0, "quantity"]),
        (store_basket(), ["lines"]),
        ({**store_basket((J, 1)), "channel": "phone"}, ["channel"]),
        ({**store_basket((J, 1)), "currency": "USD"}, ["lines", 0]),
        ({"channel": "web", "lines": [{"sku": J, "ean": "1"}]}, [0]),
    ]:
        problem = await price(client, key, bad, 422)
        assert problem["errors"][0]["loc"] == loc, (bad, problem)
    await price(client, "", store_basket((J, 1)), 401)
