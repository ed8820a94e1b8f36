"""A deterministic demo tenant: same seed and sizes, same data, byte for byte.

``generate(seed, stores, products)`` builds stores across France (real coordinates from
``fr_cities.csv``; codes ``S001``...), ``products`` sellable SKUs grouped in models with sizes and
colours (EAN-13 in the 200-299 in-store range, valid check digit), stock per store and SKU (some
zeros, some low), base prices with store markdowns, customers with loyalty cards. Tests use
3 stores x 20 SKUs; benchmarks 50 x 20,000 (about a second). The first customers also have an
in-store sales history (receipts in several stores, ``_sales_history``).

With ``web_store=True`` (the demo, ``omnistock simulator``) the tenant also has the e-commerce
store (code ``web_store_id``): a store of the tenant like the others for stock and prices (its web
warehouse's stock, deeper than a shop's; the web price list: base prices with its own online
markdowns), but with no position and no opening hours: nobody picks up there.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from array import array
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from service.erp.simulator import demo_words as words
from service.erp.simulator.state import (
    WEEKDAYS,
    CardRecord,
    CustomerRecord,
    ItemRecord,
    Markdown,
    SimDocument,
    SimLine,
    SimulatorState,
    StoreRecord,
)

CITIES_CSV = Path(__file__).with_name("fr_cities.csv")
EPOCH = date(2024, 1, 1)
HISTORY_END = date(2026, 11, 30)  # the demo's in-store sales history ends that day
HISTORY_DAYS = 540
HISTORY_CUSTOMERS = 300  # customers with an in-store history (the first ones)
PAYMENTS = (("CB", "Carte bancaire"), ("ESP", "Espèces"), ("CHQ", "Chèque cadeau"))
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class City:
    name: str
    postcode: str
    lat: float
    lng: float


def load_cities(path: Path = CITIES_CSV) -> list[City]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            City(row["city"], row["postcode"], float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(fh)
        ]


def ean13(first12: str) -> str:
    """Append the EAN-13 check digit to 12 digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13(code[:12]) == code


def _hours(rng: random.Random) -> dict[str, tuple[str, str] | None]:
    opening = rng.choice(("09:30", "10:00"))
    closing = rng.choice(("19:00", "19:30", "20:00"))
    hours: dict[str, tuple[str, str] | None] = {day: (opening, closing) for day in WEEKDAYS[:6]}
    hours["sun"] = ("10:00", "13:00") if rng.random() < 0.2 else None
    if rng.random() < 0.3:
        hours["mon"] = ("14:00", closing)
    return hours


def _stores(rng: random.Random, count: int) -> dict[str, StoreRecord]:
    cities = load_cities()
    stores = {}
    for i in range(count):
        city = cities[i % len(cities)]
        repeat = i // len(cities)
        jitter = (rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03)) if repeat else (0.0, 0.0)
        code = f"S{i + 1:03d}"
        stores[code] = StoreRecord(
            code=code,
            name=f"Omnistock {city.name}" + (f" {repeat + 1}" if repeat else ""),
            address=f"{rng.randint(1, 120)} {rng.choice(words.STREETS)}",
            city=city.name,
            postcode=city.postcode,
            country="FR",
            lat=round(city.lat + jitter[0], 5),
            lng=round(city.lng + jitter[1], 5),
            timezone="Europe/Paris",
            hours=_hours(rng),
        )
    return stores


def _catalogue(rng: random.Random, count: int, seed: int) -> list[ItemRecord]:
    items: list[ItemRecord] = []
    prefix = f"2{seed % 100:02d}"
    model_no = 0
    while len(items) < count:
        model_no += 1
        code, label, (low, high), sizes = rng.choice(words.CATEGORIES)
        adjective = rng.choice(words.ADJECTIVES)
        price = Decimal(f"{rng.randint(low, high)}.99")
        model = f"{code}{model_no:05d}"
        for colour_code, colour in rng.sample(words.COLOURS, rng.randint(1, 3)):
            for size in sizes:
                if len(items) == count:
                    break
                items.append(
                    ItemRecord(
                        sku=f"{model}-{colour_code}-{size}",
                        ean=ean13(f"{prefix}{len(items) + 1:09d}"),
                        description=f"{label} {adjective} {colour} {size}",
                        model=model,
                        size=size,
                        colour=colour,
                        base_price=price,
                    )
                )
    return items


def _quantity(r: float) -> int:
    """12% out of stock, 13% low (1-2), the rest 3-25."""
    if r < 0.12:
        return 0
    if r < 0.25:
        return 1 + int((r - 0.12) / 0.13 * 2)
    return 3 + int((r - 0.25) / 0.75 * 23)


def _stock(rng: random.Random, stores: dict[str, StoreRecord], count: int) -> dict[str, array[int]]:
    rand = rng.random
    return {code: array("i", [_quantity(rand()) for _ in range(count)]) for code in stores}


def _markdowns(
    rng: random.Random, stores: dict[str, StoreRecord], items: list[ItemRecord]
) -> dict[tuple[str, int], Markdown]:
    """About 2% of the SKUs of each store marked down by 10-50%."""
    markdowns = {}
    for code in stores:
        for item in rng.sample(range(len(items)), max(1, len(items) // 50)):
            percent = rng.choice((10, 20, 30, 40, 50))
            base = items[item].base_price
            current = (base * (100 - percent) / 100).quantize(_CENT)
            markdowns[(code, item)] = Markdown(current, rng.choice(words.MARKDOWN_REASONS))
    return markdowns


def _web_quantity(r: float) -> int:
    """The web warehouse: 5% out of stock, 5% low (1-2), the rest 5-120."""
    if r < 0.05:
        return 0
    if r < 0.10:
        return 1 + int((r - 0.05) / 0.05 * 2)
    return 5 + int((r - 0.10) / 0.90 * 116)


def _web_store(
    rng: random.Random, code: str, items: list[ItemRecord]
) -> tuple[StoreRecord, array[int], dict[tuple[str, int], Markdown]]:
    """The e-commerce store, its warehouse's stock and its online markdowns (about 4% of the
    SKUs, 10-30% off)."""
    store = StoreRecord(
        code=code,
        name="Omnistock e-shop",
        address="",
        city="",
        postcode="",
        country="FR",
        lat=None,
        lng=None,
        timezone="Europe/Paris",
        hours=dict.fromkeys(WEEKDAYS),
        ecommerce=True,
    )
    stock = array("i", [_web_quantity(rng.random()) for _ in items])
    markdowns = {}
    for item in rng.sample(range(len(items)), max(1, len(items) // 25)):
        percent = rng.choice((10, 15, 20, 30))
        current = (items[item].base_price * (100 - percent) / 100).quantize(_CENT)
        markdowns[(code, item)] = Markdown(current, "PROMO")
    return store, stock, markdowns


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _customers(
    rng: random.Random, count: int, stores: dict[str, StoreRecord]
) -> tuple[dict[str, CustomerRecord], dict[str, CardRecord]]:
    customers, cards = {}, {}
    codes = list(stores)
    for i in range(1, count + 1):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        store = stores[rng.choice(codes)]
        customer = CustomerRecord(
            customer_id=f"C{i:07d}",
            first_name=first,
            last_name=last,
            email=f"{_ascii(first)}.{_ascii(last)}{i}@example.com",
            phone=f"+336{rng.randint(0, 99_999_999):08d}",
            usual_store_id=store.code,
            title_id=rng.choice(("MME", "M.")),
            address_line1=f"{rng.randint(1, 200)} {rng.choice(words.STREETS)}",
            city=store.city,
            zip_code=store.postcode,
        )
        customers[customer.customer_id] = customer
        if rng.random() < 0.8:
            activated = EPOCH - timedelta(days=rng.randint(0, 1000))
            card = CardRecord(
                card_id=f"LC{i:010d}",
                customer_id=customer.customer_id,
                program_id="FID01",
                program_label="Programme fidélité Omnistock",
                points=Decimal(rng.randint(0, 3000)),
                active=rng.random() < 0.9,
                activated_on=activated,
                expires_on=activated + timedelta(days=3 * 365),
                store_id=store.code,
            )
            cards[card.card_id] = card
    return customers, cards


def _sales_history(
    seed: int,
    stores: dict[str, StoreRecord],
    items: list[ItemRecord],
    customers: dict[str, CustomerRecord],
    markdowns: dict[tuple[str, int], Markdown],
) -> dict[tuple[str, str, int], SimDocument]:
    """In-store receipts of the first customers: 2 to 7 each, in their usual store and one or two
    others, over the ``HISTORY_DAYS`` before ``HISTORY_END``, 1 to 4 lines at the store's price.

    Its own generator: the rest of the tenant is the same with or without it."""
    rng = random.Random(seed * 7919 + 17)
    codes = sorted(code for code, s in stores.items() if not s.ecommerce)  # shops, not the e-shop
    receipts: dict[tuple[str, str, int], SimDocument] = {}
    number = 1010000001
    for customer in list(customers.values())[:HISTORY_CUSTOMERS]:
        others = [c for c in codes if c != customer.usual_store_id]
        visited = [
            customer.usual_store_id,
            *rng.sample(others, min(len(others), rng.randint(1, 2))),
        ]
        for _ in range(rng.randint(2, 7)):
            store = rng.choice(visited)
            day = HISTORY_END - timedelta(days=rng.randint(0, HISTORY_DAYS))
            when = datetime(day.year, day.month, day.day, rng.randint(10, 18), rng.randint(0, 59))
            lines = []
            for item in rng.sample(range(len(items)), min(len(items), rng.randint(1, 4))):
                markdown = markdowns.get((store, item))
                price = markdown.current if markdown else items[item].base_price
                lines.append(SimLine(item, rng.randint(1, 2), price, items[item].description))
            code, label = rng.choice(PAYMENTS)
            doc = SimDocument(
                doc_type="Receipt",
                stump=store,
                number=number,
                internal_reference=f"{store}-{number}",
                external_reference="",
                customer_id=customer.customer_id,
                store_id=store,
                delivery_store_id="",
                delivery_type="",
                lines=lines,
                date=when,
                follow_up_status="",
                active=True,
                origin="Shop",
                payment_label=f"{code}:{label}",
            )
            receipts[(doc.doc_type, doc.stump, doc.number)] = doc
            number += 1
    return receipts


def generate(
    seed: int,
    stores: int,
    products: int,
    *,
    customers: int | None = None,
    web_store_id: str = "WEB",
    web_store: bool = False,
) -> SimulatorState:
    """A demo tenant of ``stores`` stores and ``products`` SKUs (sellable variants).

    ``customers`` defaults to a quarter of the SKUs, between 10 and 5,000. ``web_store_id`` may
    always sell (web orders name it); with ``web_store`` it is also a stocked and priced store
    (after the others: the shops' data does not change with it).
    """
    if stores < 1 or products < 1:
        raise ValueError("need at least one store and one product")
    rng = random.Random(seed)
    store_records = _stores(rng, stores)
    items = _catalogue(rng, products, seed)
    stock = _stock(rng, store_records, len(items))
    markdowns = _markdowns(rng, store_records, items)
    customer_count = customers if customers is not None else max(10, min(5000, products // 4))
    people, cards = _customers(rng, customer_count, store_records)
    if web_store:
        if web_store_id in store_records:
            raise ValueError(f"the web store {web_store_id!r} is also a shop's code")
        web, web_stock, web_markdowns = _web_store(rng, web_store_id, items)
        store_records[web_store_id] = web
        stock[web_store_id] = web_stock
        markdowns.update(web_markdowns)
    return SimulatorState(
        stores=store_records,
        items=items,
        stock=stock,
        markdowns=markdowns,
        customers=people,
        cards=cards,
        web_store_ids=frozenset({web_store_id}),
        receipts=_sales_history(seed, store_records, items, people, markdowns),
    )


def store_directory(state: SimulatorState) -> list[dict[str, Any]]:
    """The stores as plain JSON-able dicts: code, name, address, city, postcode, country, lat,
    lng (None for the web store), timezone, hours ({'mon': ['10:00', '19:00'] or None, ...}),
    ecommerce (True for the web store). Cegid has no store listing service: omnistock imports
    its store directory from here (or a file)."""
    return [store.to_dict() for store in state.stores.values()]
