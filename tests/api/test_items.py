"""Item identifiers: resolving SKU, EAN/UPC, PrestaShop key or reference; the mapping import."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from service.errors import Conflict, InvalidInput, NotFound
from service.usecases.catalog.identifiers import ItemLookup, resolve_items
from tests.conftest import KeyFactory, bearer

# Valid EAN-13s (check digits computed by hand from GS1's mod-10 rule) and one UPC-A.
EAN_M, EAN_L, EAN_XL, EAN_CAP, EAN_BAG = (
    "3760000000017",
    "3760000000024",
    "3760000000031",
    "3760000000048",
    "3760000000055",
)
UPC = "036000291452"
UPC_STORED = "042100005264"  # an item whose barcode the ERP gave as 12 UPC-A digits
# sku, ean, ps_product_id, ps_attribute_id, ps_reference
ITEMS = [
    ("TSHIRT-M", EAN_M, 10, 1, "TS-100"),
    ("TSHIRT-L", EAN_L, 10, 2, "ts-100 "),  # the same reference, another combination
    ("TSHIRT-XL", EAN_XL, 10, 3, None),
    ("CAP", "0" + UPC, 11, 0, "CAP-1"),
    ("BAG", EAN_BAG, None, None, None),
    ("BAG-BIS", EAN_BAG, None, None, None),  # one barcode on two SKUs
    ("SOCKS", None, None, None, None),
    ("GUM", UPC_STORED, None, None, None),
]


async def seed(pool: asyncpg.Pool, rows: list[tuple[Any, ...]] = ITEMS) -> None:
    await pool.executemany(
        "INSERT INTO items (sku, ean, ps_product_id, ps_attribute_id, ps_reference)"
        " VALUES ($1, $2, $3, $4, $5)",
        rows,
    )


async def keys_of(pool: asyncpg.Pool) -> dict[str, tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT sku, ps_product_id, ps_attribute_id, ps_reference FROM items ORDER BY sku"
    )
    return {r["sku"]: tuple(r.values())[1:] for r in rows}


async def problem(resp, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    return body


# --------------------------------------------------------------------------- resolve
@pytest.mark.parametrize(
    ("query", "sku", "by"),
    [
        ("sku=TSHIRT-M", "TSHIRT-M", "sku"),
        ("sku=%20%20TSHIRT-XL%20%20%20%20X", "TSHIRT-XL", "sku"),  # Cegid padding and marker
        (f"ean={EAN_L}", "TSHIRT-L", "ean"),
        (f"ean={UPC}", "CAP", "ean"),  # a UPC-A finds its EAN-13 form
        (f"ean=0{UPC_STORED}", "GUM", "ean"),  # an EAN-13 finds its UPC-A form
        ("ps_product=10&ps_attribute=3", "TSHIRT-XL", "ps_key"),
        ("ps_product=11", "CAP", "ps_key"),  # no combination
        ("reference=%20cap-1", "CAP", "reference"),  # trimmed, any case
    ],
)
async def test_resolve_echoes_how_it_resolved(
    client, make_key: KeyFactory, pool, query: str, sku: str, by: str
) -> None:
    await seed(pool)
    resp = await client.get(
        f"/v1/items/resolve?{query}", headers=bearer(await make_key("storefront"))
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert (body["sku"], body["resolved_by"]) == (sku, by)


async def test_resolve_returns_every_identifier(client, make_key: KeyFactory, pool) -> None:
    await seed(pool)
    for role, scope in (("staff", ("S001",)), ("admin", ())):
        resp = await client.get(
            f"/v1/items/resolve?ean={EAN_M}", headers=bearer(await make_key(role, scope))
        )
        assert await resp.json() == {
            "sku": "TSHIRT-M",
            "ean": EAN_M,
            "ps_product_id": 10,
            "ps_attribute_id": 1,
            "reference": "TS-100",
            "resolved_by": "ean",
        }
    assert (await client.get(f"/v1/items/resolve?ean={EAN_M}")).status == 401


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("", []),
        (f"sku=TSHIRT-M&ean={EAN_M}", []),
        ("ean=3760000000018", ["ean"]),  # wrong check digit
        ("ean=12345", ["ean"]),
        ("ps_attribute=2", ["ps_attribute"]),
        ("ps_product=0", ["ps_product"]),
        ("ps_product=ten", ["ps_product"]),
        ("reference=%20%20", ["reference"]),
        ("sku=%20", ["sku"]),
    ],
)
async def test_malformed_lookups_are_422(
    client, make_key: KeyFactory, query: str, loc: list[str]
) -> None:
    resp = await client.get(
        f"/v1/items/resolve?{query}", headers=bearer(await make_key("storefront"))
    )
    body = await problem(resp, 422)
    assert [e["loc"] for e in body["errors"]] == [loc]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("sku=NOPE", "sku 'NOPE'"),
        (f"ean={EAN_CAP}", f"ean '{EAN_CAP}'"),
        ("ps_product=10&ps_attribute=9", "PrestaShop key 10:9"),
        ("reference=TS-999", "reference 'TS-999'"),
    ],
)
async def test_unknown_items_are_404_naming_what(
    client, make_key: KeyFactory, pool, query: str, named: str
) -> None:
    await seed(pool)
    resp = await client.get(
        f"/v1/items/resolve?{query}", headers=bearer(await make_key("storefront"))
    )
    assert named in (await problem(resp, 404))["detail"]


async def test_shared_reference_is_409_with_candidates(client, make_key: KeyFactory, pool) -> None:
    await seed(pool)
    key = bearer(await make_key("storefront"))
    body = await problem(await client.get("/v1/items/resolve?reference=TS-100", headers=key), 409)
    assert [c["sku"] for c in body["candidates"]] == ["TSHIRT-L", "TSHIRT-M"]
    assert {(c["ps_product_id"], c["ps_attribute_id"]) for c in body["candidates"]} == {
        (10, 1),
        (10, 2),
    }
    body = await problem(await client.get(f"/v1/items/resolve?ean={EAN_BAG}", headers=key), 409)
    assert [c["sku"] for c in body["candidates"]] == ["BAG", "BAG-BIS"]


async def test_batch_resolves_many_lines_in_order(pool) -> None:
    await seed(pool)
    lines = [
        ItemLookup(reference="cap-1"),
        ItemLookup(sku="TSHIRT-M"),
        ItemLookup(ps_product=10, ps_attribute=2),
        ItemLookup(ean=EAN_XL),
        ItemLookup(sku="TSHIRT-M"),
    ]
    async with pool.acquire() as conn:
        got = await resolve_items(conn, lines)
    assert [(r.sku, r.resolved_by) for r in got] == [
        ("CAP", "reference"),
        ("TSHIRT-M", "sku"),
        ("TSHIRT-L", "ps_key"),
        ("TSHIRT-XL", "ean"),
        ("TSHIRT-M", "sku"),
    ]


async def test_batch_reports_every_bad_line(pool) -> None:
    await seed(pool)
    async with pool.acquire() as conn:
        with pytest.raises(InvalidInput) as invalid:
            await resolve_items(conn, [ItemLookup(sku="CAP"), ItemLookup(ean="1"), ItemLookup()])
        assert [e["loc"] for e in invalid.value.extra["errors"]] == [[1, "ean"], [2]]
        lines = [
            ItemLookup(sku="NOPE"),
            ItemLookup(reference="TS-100"),
            ItemLookup(ps_product=99),
        ]
        with pytest.raises(NotFound) as unknown:
            await resolve_items(conn, lines)
        assert [u["line"] for u in unknown.value.extra["unknown"]] == [0, 2]
        with pytest.raises(Conflict) as ambiguous:
            await resolve_items(conn, [lines[1], ItemLookup(ean=EAN_BAG)])
        assert [a["line"] for a in ambiguous.value.extra["ambiguous"]] == [0, 1]


# --------------------------------------------------------------------------- mapping import
MAPPING_ITEMS = [
    ("JEAN-32", EAN_M, None, None, None),
    ("JEAN-34", EAN_L, None, None, None),
    ("JEAN-36", EAN_XL, None, None, None),
    ("BELT", EAN_CAP, 30, 0, "BELT-1"),
    ("SCARF", None, None, None, None),
]


async def post_mapping(client, make_key: KeyFactory, rows: list[dict[str, Any]]):
    return await client.post(
        "/v1/admin/mapping/import", json=rows, headers=bearer(await make_key("admin"))
    )


async def test_mapping_import_sets_keys_and_reports_references(
    client, make_key: KeyFactory, pool
) -> None:
    await seed(pool, MAPPING_ITEMS)
    rows = [
        {"sku": "JEAN-32", "id_product": "20", "id_product_attribute": "1", "reference": "JN"},
        {"ean": EAN_L, "id_product": 20, "id_product_attribute": 2, "reference": "jn"},
        {"sku": "JEAN-36", "ean": EAN_XL, "id_product": 20, "id_product_attribute": 3},
        {"sku": "BELT", "id_product": 30, "reference": "BELT-1"},
    ]
    resp = await post_mapping(client, make_key, rows)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {
        "updated": ["JEAN-32", "JEAN-34", "JEAN-36"],
        "unchanged": 1,
        "duplicate_references": [{"reference": "JN", "skus": ["JEAN-32", "JEAN-34"]}],
        "blank_references": ["JEAN-36"],
    }
    assert (await keys_of(pool))["JEAN-34"] == (20, 2, "jn")
    assert (await keys_of(pool))["JEAN-36"] == (20, 3, None)
    again = await (await post_mapping(client, make_key, rows)).json()
    assert (again["updated"], again["unchanged"]) == ([], 4)


async def test_mapping_import_reports_references_shared_with_other_items(
    client, make_key: KeyFactory, pool
) -> None:
    await seed(pool, MAPPING_ITEMS)
    rows = [{"sku": "JEAN-32", "id_product": 20, "reference": " belt-1"}]
    body = await (await post_mapping(client, make_key, rows)).json()
    assert body["duplicate_references"] == [{"reference": "BELT-1", "skus": ["BELT", "JEAN-32"]}]


async def test_mapping_import_moves_keys_between_items(client, make_key: KeyFactory, pool) -> None:
    await seed(pool, MAPPING_ITEMS)
    rows = [
        {"sku": "BELT", "id_product": 20, "id_product_attribute": 1},
        {"sku": "JEAN-32", "id_product": 30, "reference": "BELT-1"},
    ]
    assert (await post_mapping(client, make_key, rows)).status == 200
    keys = await keys_of(pool)
    assert (keys["BELT"], keys["JEAN-32"]) == ((20, 1, None), (30, 0, "BELT-1"))


async def test_mapping_import_with_bad_rows_writes_nothing(
    client, make_key: KeyFactory, pool
) -> None:
    await seed(pool, MAPPING_ITEMS)
    before = await keys_of(pool)
    rows = [
        {"sku": "JEAN-32", "id_product": 20, "id_product_attribute": 1, "reference": "J"},
        {"sku": "JEAN-34", "ean": "3760000000025", "id_product": 20, "id_product_attribute": 2},
        {"sku": "GHOST", "id_product": 21},
        {"sku": "JEAN-32", "id_product": 22},
        {"sku": "JEAN-36", "id_product": 20, "id_product_attribute": 1},
        {"sku": "JEAN-34", "ean": EAN_XL, "id_product": 23},
        {"sku": "SCARF", "id_product": 30},
        {"ean": EAN_BAG, "id_product": 24},
        {"id_product": 25, "reference": "X"},
        {"sku": "JEAN-34", "id_product": ""},
    ]
    body = await problem(await post_mapping(client, make_key, rows), 422)
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        ([1, "ean"], "value_error"),  # wrong check digit
        ([2, "sku"], "unknown_sku"),
        ([3, "sku"], "duplicate"),
        ([4, "id_product"], "duplicate_key"),
        ([5, "ean"], "ean_mismatch"),
        ([6, "id_product"], "key_taken"),  # BELT holds 30:0 and is not remapped
        ([7, "ean"], "unknown_ean"),
        ([8], "value_error"),  # neither sku nor ean
        ([9, "id_product"], "int_type"),  # a blank cell is no value
    ]
    assert "9 invalid row(s)" in body["detail"]
    assert await keys_of(pool) == before


async def test_mapping_import_needs_an_admin_key(client, make_key: KeyFactory) -> None:
    rows = [{"sku": "X", "id_product": 1}]
    assert (await client.post("/v1/admin/mapping/import", json=rows)).status == 401
    resp = await client.post(
        "/v1/admin/mapping/import", json=rows, headers=bearer(await make_key("storefront"))
    )
    await problem(resp, 403)
    resp = await client.post(
        "/v1/admin/mapping/import", json={"rows": rows}, headers=bearer(await make_key("admin"))
    )
    await problem(resp, 422)
