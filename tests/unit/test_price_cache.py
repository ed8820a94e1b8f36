"""The in-process cache of basket price rows: what it keeps, for how long, and what drops it.

The repository is replaced by a fake that counts reads (the HTTP tests use the real one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from service.usecases.promotions import prices as promo_prices
from service.usecases.promotions.prices import PriceCache
from service.usecases.promotions.rulebook import RuleCache
from stores.prices import RULES_KEY, price_list_key, sku_key
from stores.promotions import PriceRow

NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)


def row(sku: str, current: str = "10.00") -> PriceRow:
    return PriceRow(
        sku, "EUR", Decimal("12.00"), Decimal(current), Decimal(0), "", NOW, frozenset()
    )


class FakeRepo:
    """``price_rows`` over a dict (price list -> sku -> current price); counts the reads."""

    def __init__(self) -> None:
        self.prices: dict[str, dict[str, str]] = {"PAR": {"A": "10.00", "B": "20.00"}, "WEB": {}}
        self.directory = {"PAR"}
        self.reads: list[tuple[str, list[str]]] = []
        self.during_read: Callable[[], None] | None = None

    async def price_rows(
        self, _conn: object, price_list: str, skus: Sequence[str]
    ) -> tuple[bool, dict[str, PriceRow]]:
        self.reads.append((price_list, list(skus)))
        if self.during_read:
            self.during_read()
        listed = self.prices.get(price_list, {})
        found = {s: row(s, listed[s]) for s in skus if s in listed}
        return price_list in self.directory, found


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> FakeRepo:
    fake = FakeRepo()
    monkeypatch.setattr(promo_prices.repo, "price_rows", fake.price_rows)
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> PriceCache:
    c = PriceCache(10.0, clock=clock)
    c.listening = True
    return c


def currents(found: dict[str, PriceRow]) -> dict[str, str]:
    return {sku: str(r.current_price) for sku, r in found.items()}


async def test_rows_are_read_once_then_served_until_the_ttl(
    repo: FakeRepo, cache: PriceCache, clock: Clock
) -> None:
    known, found = await cache.price_rows(None, "PAR", ["A", "B"])
    assert known and currents(found) == {"A": "10.00", "B": "20.00"}
    known, found = await cache.price_rows(None, "PAR", ["A"])
    assert known and currents(found) == {"A": "10.00"}
    assert len(repo.reads) == 1 and len(cache) == 2
    repo.prices["PAR"]["A"] = "9.00"  # changed without a notification: the TTL is the net
    clock.now += 9.9
    assert currents((await cache.price_rows(None, "PAR", ["A"]))[1]) == {"A": "10.00"}
    clock.now += 0.2
    assert currents((await cache.price_rows(None, "PAR", ["A"]))[1]) == {"A": "9.00"}
    assert repo.reads[-1] == ("PAR", ["A"])  # only what was missing or expired is read


async def test_only_missing_skus_are_read_and_missing_prices_are_not_kept(
    repo: FakeRepo, cache: PriceCache
) -> None:
    await cache.price_rows(None, "PAR", ["A"])
    known, found = await cache.price_rows(None, "PAR", ["A", "B", "NOPE"])
    assert known and currents(found) == {"A": "10.00", "B": "20.00"}
    assert repo.reads == [("PAR", ["A"]), ("PAR", ["B", "NOPE"])]
    await cache.price_rows(None, "PAR", ["NOPE"])
    assert repo.reads[-1] == ("PAR", ["NOPE"])  # asked again: the basket was refused


async def test_whether_a_store_is_in_the_directory_is_kept_like_the_rows(
    repo: FakeRepo, cache: PriceCache, clock: Clock
) -> None:
    repo.prices["WEB"] = {"A": "8.00"}  # the web price list: not a store of the directory
    assert (await cache.price_rows(None, "WEB", ["A"]))[0] is False
    assert (await cache.price_rows(None, "WEB", ["A"]))[0] is False
    assert len(repo.reads) == 1
    repo.directory.add("WEB")
    clock.now += 10.1
    assert (await cache.price_rows(None, "WEB", ["A"]))[0] is True


async def test_notifications_drop_price_lists_skus_or_everything(
    repo: FakeRepo, cache: PriceCache
) -> None:
    rules = RuleCache()
    invalidated: list[bool] = []
    rules.invalidate = lambda: invalidated.append(True)  # type: ignore[method-assign]

    async def fill() -> None:
        repo.prices["LYO"] = {"A": "11.00"}
        repo.directory.add("LYO")
        await cache.price_rows(None, "PAR", ["A", "B"])
        await cache.price_rows(None, "LYO", ["A"])

    await fill()
    assert len(cache) == 3
    cache.on_change([price_list_key("PAR")], rules)
    assert len(cache) == 1
    await fill()
    cache.on_change([sku_key("A")], rules)  # categories: the SKU in every price list
    assert len(cache) == 1
    await fill()
    cache.on_change([RULES_KEY], rules)
    assert len(cache) == 3 and len(invalidated) == 1
    cache.on_change(["something-new:1"], rules)  # unknown: drop everything, rules too
    assert len(cache) == 0 and len(invalidated) == 2


async def test_rows_read_while_a_change_arrived_are_not_kept(
    repo: FakeRepo, cache: PriceCache
) -> None:
    repo.during_read = lambda: cache.on_change([price_list_key("PAR")], RuleCache())
    known, found = await cache.price_rows(None, "PAR", ["A"])
    assert known and currents(found) == {"A": "10.00"}  # this basket is priced as read
    assert len(cache) == 0  # but the rows may predate the change: not kept
    repo.during_read = None
    await cache.price_rows(None, "PAR", ["A"])
    assert len(cache) == 1


async def test_without_a_listener_nothing_is_kept(repo: FakeRepo, cache: PriceCache) -> None:
    cache.listening = False
    for _ in range(3):
        await cache.price_rows(None, "PAR", ["A"])
    assert len(repo.reads) == 3 and len(cache) == 0


async def test_the_cache_is_bounded(repo: FakeRepo, clock: Clock) -> None:
    cache = PriceCache(10.0, max_entries=2, clock=clock)
    cache.listening = True
    await cache.price_rows(None, "PAR", ["A", "B"])
    repo.prices["PAR"]["C"] = "5.00"
    await cache.price_rows(None, "PAR", ["C"])
    assert len(cache) == 1
