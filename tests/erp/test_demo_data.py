"""The demo tenant generator: deterministic, valid barcodes, plausible data, fast when large."""

from __future__ import annotations

import time

import pytest

from service.erp.simulator import generate, is_valid_ean13, store_directory
from service.erp.simulator.demo_data import ean13, load_cities


def _fingerprint(seed: int) -> tuple[object, ...]:
    state = generate(seed, stores=3, products=20)
    return (
        [s.to_dict() for s in state.stores.values()],
        state.items,
        {code: list(qty) for code, qty in state.stock.items()},
        state.markdowns,
        state.customers,
        [(c.card_id, c.points, c.active) for c in state.cards.values()],
    )


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert _fingerprint(11) == _fingerprint(11)
    assert _fingerprint(11) != _fingerprint(12)


def test_ean13_check_digit() -> None:
    assert ean13("400638133393") == "4006381333931"  # a well-known valid EAN-13
    assert is_valid_ean13("4006381333931") and not is_valid_ean13("4006381333932")
    with pytest.raises(ValueError):
        ean13("12345")


def test_catalogue_is_valid_and_varied() -> None:
    state = generate(3, stores=3, products=200)
    eans = [item.ean for item in state.items]
    assert all(is_valid_ean13(e) and 200 <= int(e[:3]) <= 299 for e in eans)
    assert len(set(eans)) == len(eans) == len({i.sku for i in state.items}) == 200
    models = {i.model for i in state.items}
    assert len(models) < 200 and len({i.size for i in state.items}) > 3
    quantities = [q for qty in state.stock.values() for q in qty]
    assert 0 in quantities and any(0 < q <= 2 for q in quantities) and max(quantities) > 10
    assert state.markdowns and all(
        m.current < state.items[i].base_price for (_, i), m in state.markdowns.items()
    )
    assert any(c.points > 0 for c in state.cards.values())
    assert all("@" in c.email for c in state.customers.values())


def test_store_directory_uses_real_cities() -> None:
    cities = {c.name: c for c in load_cities()}
    directory = store_directory(generate(5, stores=45, products=5))
    assert [s["code"] for s in directory[:3]] == ["S001", "S002", "S003"]
    assert len({s["code"] for s in directory}) == 45
    paris = directory[0]
    assert (paris["city"], paris["lat"], paris["lng"]) == ("Paris", 48.8566, 2.3522)
    assert paris["timezone"] == "Europe/Paris" and paris["country"] == "FR"
    assert set(paris["hours"]) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    for store in directory:
        assert store["city"] in cities and store["postcode"] == cities[store["city"]].postcode
        assert abs(store["lat"] - cities[store["city"]].lat) < 0.05


def test_benchmark_size_generates_quickly() -> None:
    started = time.perf_counter()
    state = generate(1, stores=50, products=20_000)
    elapsed = time.perf_counter() - started
    assert len(state.items) == 20_000 and len(state.stock) == 50
    assert all(len(qty) == 20_000 for qty in state.stock.values())
    assert elapsed < 10, f"took {elapsed:.1f}s"


def test_the_web_store_is_stocked_and_priced_without_changing_the_shops() -> None:
    shops = generate(11, stores=3, products=200)
    state = generate(11, stores=3, products=200, web_store_id="ESHOP", web_store=True)
    assert list(state.stores) == ["S001", "S002", "S003", "ESHOP"]
    assert "ESHOP" not in shops.stores and shops.is_selling_store("WEB")
    for code in shops.stores:  # same seed, same shops, with or without the web store
        assert state.stores[code] == shops.stores[code]
        assert list(state.stock[code]) == list(shops.stock[code])
    assert {k: m for k, m in state.markdowns.items() if k[0] != "ESHOP"} == shops.markdowns
    assert state.customers == shops.customers
    web = state.stores["ESHOP"]
    assert web.ecommerce and web.lat is None and web.lng is None
    assert not any(web.hours.values()) and state.is_selling_store("ESHOP")
    stock = list(state.stock["ESHOP"])
    assert len(stock) == 200 and 0 in stock and max(stock) > 25  # a warehouse, deeper than a shop
    online = [i for (code, i) in state.markdowns if code == "ESHOP"]
    assert len(online) == 8
    assert all(state.price("ESHOP", i)[1] < state.items[i].base_price for i in online)
    entry = [s for s in store_directory(state) if s["code"] == "ESHOP"]
    assert entry == [web.to_dict()] and entry[0]["ecommerce"] is True
    assert generate(11, 3, 200, web_store_id="ESHOP", web_store=True).stock == state.stock
    with pytest.raises(ValueError, match="also a shop"):
        generate(11, stores=3, products=5, web_store_id="S002", web_store=True)
