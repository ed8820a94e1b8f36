"""The store price rows baskets are priced from, cached in process, and the listener that keeps
the pricing caches (these rows, and the rule book of ``promo_rulebook``) in step with writes made
anywhere.

A basket line needs its item's price in the price list (``store_prices``, synced from Cegid's
price engine) and the item's categories (``item_categories``): a database round trip per
basket, for data that changes seldom. Every writer announces what it changed on
``stores.prices.PRICING_CHANNEL`` (NOTIFY, sent at commit): the price sync the price lists it
changed, category writes the SKUs, rule writes ``rules``. A ``PriceCache``:

- keeps rows only while its listener is subscribed (``listening``); without one, every basket
  reads the database, as does every basket whose store or rows are not all cached;
- drops what a notification names: a whole price list, or a SKU in every list; when the listener
  loses its connection, drops everything and caches nothing until it is subscribed again;
- keeps no row, and no answer to "is this store in the directory", longer than ``ttl_s``: the
  safety net for changes made without a notification (by hand in SQL, the store directory);
- never keeps rows read while a drop happened (``epoch``): they may predate the change.

Missing prices are not cached (the basket is refused, and the next one asks again). Writes made
through this process also drop their entries directly, so they are seen by the next basket even
before the notification comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence

import asyncpg

from service.usecases.promotions.rulebook import RuleCache
from stores import promotions as repo
from stores.prices import PRICING_CHANNEL, RULES_KEY
from stores.promotions import PriceRow

log = logging.getLogger("omnistock.promotions")
DEFAULT_TTL_S = 10.0
MIN_POOL_FOR_LISTENER = 3  # the listener holds a connection; the stock listener holds another
RETRY_S = 1.0


class PriceCache:
    """See the module docstring. One per app (the app holds it)."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        *,
        max_entries: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self.listening = False
        self.epoch = 0  # bumped by every drop
        self._rows: dict[str, dict[str, tuple[float, PriceRow]]] = {}  # list -> sku -> row
        self._known: dict[str, tuple[float, bool]] = {}  # list -> (until, in the directory)
        self._size = 0

    # ------------------------------------------------------------------ reads
    async def price_rows(
        self, conn: asyncpg.Connection, price_list: str, skus: Sequence[str]
    ) -> tuple[bool, dict[str, PriceRow]]:
        """``stores.promotions.price_rows``, from the cache where it can."""
        if not self.listening:
            return await repo.price_rows(conn, price_list, skus)
        now = self.clock()
        cached = self._rows.get(price_list, {})
        found: dict[str, PriceRow] = {}
        missing: list[str] = []
        for sku in skus:
            hit = cached.get(sku)
            if hit is not None and hit[0] > now:
                found[sku] = hit[1]
            else:
                missing.append(sku)
        until, known = self._known.get(price_list, (0.0, False))
        if not missing and until > now:
            return known, found
        epoch = self.epoch
        known, rows = await repo.price_rows(conn, price_list, missing)
        if self.listening and epoch == self.epoch:
            self._keep(price_list, known, rows, now + self.ttl_s)
        return known, found | rows

    def _keep(self, price_list: str, known: bool, rows: dict[str, PriceRow], until: float) -> None:
        if self._size + len(rows) > self.max_entries:
            self._drop_all()
        self._known[price_list] = (until, known)
        cached = self._rows.setdefault(price_list, {})
        before = len(cached)
        cached.update((sku, (until, row)) for sku, row in rows.items())
        self._size += len(cached) - before

    # ------------------------------------------------------------------ drops
    def drop_price_lists(self, price_lists: Iterable[str]) -> None:
        self.epoch += 1
        for price_list in price_lists:
            self._size -= len(self._rows.pop(price_list, {}))

    def drop_skus(self, skus: Iterable[str]) -> None:
        self.epoch += 1
        for sku in skus:
            for cached in self._rows.values():
                if cached.pop(sku, None) is not None:
                    self._size -= 1

    def _drop_all(self) -> None:
        self.epoch += 1
        self._rows.clear()
        self._known.clear()
        self._size = 0

    def clear(self) -> None:
        """Drop everything (a change we may have missed)."""
        self._drop_all()

    def __len__(self) -> int:
        return self._size

    # ------------------------------------------------------------------ notifications
    def on_change(self, keys: Iterable[str], rules: RuleCache) -> None:
        """Apply one notification's keys (see ``stores.prices``)."""
        lists: list[str] = []
        skus: list[str] = []
        for key in keys:
            kind, _, value = key.partition(":")
            if key == RULES_KEY:
                rules.invalidate()
            elif kind == "list":
                lists.append(value)
            elif kind == "sku":
                skus.append(value)
            else:  # a key this version does not know: drop everything rather than guess
                self.clear()
                rules.invalidate()
        if lists:
            self.drop_price_lists(lists)
        if skus:
            self.drop_skus(skus)


async def listen_for_changes(pool: asyncpg.Pool, prices: PriceCache, rules: RuleCache) -> None:
    """Hold one connection LISTENing on the pricing channel for as long as the app runs. While
    it is not subscribed ``prices`` caches nothing; ``rules`` keeps its own periodic check."""

    def on_notify(_c: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            keys = json.loads(payload)
        except ValueError:
            keys = ["?"]  # unreadable: drop everything
        prices.on_change(keys if isinstance(keys, list) else ["?"], rules)

    while True:
        lost = asyncio.Event()
        try:
            async with pool.acquire() as conn:
                conn.add_termination_listener(lambda _c, ev=lost: ev.set())
                await conn.add_listener(PRICING_CHANNEL, on_notify)
                rules.invalidate()  # whatever changed before we listened
                prices.clear()
                prices.listening = True
                try:
                    await lost.wait()
                finally:
                    prices.listening = False
                    prices.clear()
                    with contextlib.suppress(Exception):
                        await conn.remove_listener(PRICING_CHANNEL, on_notify)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("pricing change listener lost its connection: %s", exc)
        await asyncio.sleep(RETRY_S)
