"""Push the e-commerce store's stock to PrestaShop's own stock (``stock_availables``), opt-in
(``OMNISTOCK_PRESTASHOP_STOCK_PUSH``), so that PrestaShop's quantities follow Cegid.

Enqueue: a stock sync pass that changed rows of the e-commerce store (``OMNISTOCK_WEB_STORE_ID``)
appends, in the transaction of the change, outbox rows (aggregate ``prestashop_stock``, kind
``stock.changed``) naming the changed SKUs, ``OMNISTOCK_PRESTASHOP_STOCK_BATCH`` at most per row.

Deliver (the outbox relay): read the store's current quantities of those SKUs and their
PrestaShop keys, read the matching ``stock_availables`` in batched Webservice GETs (one per 50
products, JSON), and PUT, as XML, only those whose quantity differs. The quantity sent is the
absolute one read at delivery time, so retries, replays and out-of-order rows converge on the
same state (idempotent). SKUs without a PrestaShop key are counted and skipped.

Webservice failures follow the notifications' rules: 5xx, 408, 429, timeouts -> retried;
other 4xx -> dead with the answer.

Metrics: ``omnistock_prestashop_stock_push_total{outcome}`` with outcome ``updated``,
``unchanged``, ``unmapped`` (no PrestaShop key), ``missing`` (no stock_available row).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import asyncpg

from service.observability import Metrics
from service.usecases.outbox.events import BadEvent
from service.usecases.outbox.notifications import DeliveryFailed, DeliveryRejected
from stores import outbox as outbox_repo
from stores import stock as stock_repo
from stores.outbox import OutboxRow

AGGREGATE = "prestashop_stock"
KIND = "stock.changed"
READ_BATCH = 50  # products per stock_availables GET
_ERROR_BODY_CHARS = 2000
# Fields a stock_available PUT must carry (the Webservice replaces the whole resource).
_FIELDS = (
    "id",
    "id_product",
    "id_product_attribute",
    "id_shop",
    "id_shop_group",
    "quantity",
    "depends_on_stock",
    "out_of_stock",
    "location",
)
_KEYS_SQL = """
SELECT sku, ps_product_id, ps_attribute_id FROM items
WHERE sku = ANY($1::text[]) AND ps_product_id IS NOT NULL
"""


@dataclass(frozen=True)
class StockPushConfig:
    prestashop_url: str
    prestashop_key: str
    store_id: str
    batch: int = 200
    timeout_s: float = 10.0


# --------------------------------------------------------------------------- enqueue
async def enqueue(
    conn: asyncpg.Connection, config: StockPushConfig | None, skus: Iterable[str]
) -> list[int]:
    """Append push rows for changed SKUs of the e-commerce store (in the change's transaction)."""
    if config is None:
        return []
    ordered = sorted(set(skus))
    return [
        await outbox_repo.append(
            conn, AGGREGATE, config.store_id, KIND, {"skus": ordered[i : i + config.batch]}
        )
        for i in range(0, len(ordered), config.batch)
    ]


# --------------------------------------------------------------------------- delivery
def _skus(row: OutboxRow) -> list[str]:
    skus = row.payload.get("skus")
    if not isinstance(skus, list) or not skus or not all(isinstance(s, str) for s in skus):
        raise BadEvent("payload.skus must be a non-empty list of SKUs")
    return skus


def stock_available_xml(resource: dict[str, Any], quantity: int) -> bytes:
    """The PUT body: the resource as read, with the new quantity."""
    values = {name: resource.get(name, "") for name in _FIELDS}
    values["quantity"] = quantity
    inner = "".join(
        f"<{name}>{escape(str(values[name] if values[name] is not None else ''))}</{name}>"
        for name in _FIELDS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<stock_available>{inner}</stock_available></prestashop>"
    ).encode()


async def deliver(
    config: StockPushConfig | None, pool: asyncpg.Pool, metrics: Metrics, row: OutboxRow
) -> dict[str, Any]:
    if config is None:
        raise DeliveryRejected("the stock push is off (OMNISTOCK_PRESTASHOP_STOCK_PUSH)")
    skus = _skus(row)
    async with pool.acquire() as conn:
        quantities = {
            r["sku"]: max(0, int(r["erp_available"]))
            for r in await stock_repo.snapshot(conn, skus, [config.store_id])
        }
        keys = {
            r["sku"]: (int(r["ps_product_id"]), int(r["ps_attribute_id"] or 0))
            for r in await conn.fetch(_KEYS_SQL, skus)
        }
    wanted = {keys[s]: quantities.get(s, 0) for s in skus if s in keys}
    counts = {"updated": 0, "unchanged": 0, "unmapped": len(set(skus) - set(keys)), "missing": 0}
    timeout = aiohttp.ClientTimeout(total=config.timeout_s)
    async with aiohttp.ClientSession(timeout=timeout, headers=_auth(config)) as http:
        current = await _read(http, config, sorted({p for p, _ in wanted}))
        for key, quantity in sorted(wanted.items()):
            resource = current.get(key)
            if resource is None:
                counts["missing"] += 1
            elif int(resource.get("quantity") or 0) == quantity:
                counts["unchanged"] += 1
            else:
                await _put(http, config, resource, quantity)
                counts["updated"] += 1
    for outcome, n in counts.items():
        if n:
            metrics.prestashop_stock_push.labels(outcome).inc(n)
    return {"store_id": config.store_id, "skus": len(skus), **counts}


def _auth(config: StockPushConfig) -> dict[str, str]:
    token = base64.b64encode(f"{config.prestashop_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _api(config: StockPushConfig) -> str:
    return f"{config.prestashop_url.rstrip('/')}/api/stock_availables"


async def _read(
    http: aiohttp.ClientSession, config: StockPushConfig, products: Sequence[int]
) -> dict[tuple[int, int], dict[str, Any]]:
    """The stock_availables of these products, by (id_product, id_product_attribute)."""
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for i in range(0, len(products), READ_BATCH):
        chunk = products[i : i + READ_BATCH]
        params = {
            "display": "full",
            "filter[id_product]": "[" + "|".join(str(p) for p in chunk) + "]",
            "output_format": "JSON",
        }
        text = await _call(http, "GET", _api(config), params=params)
        data = json.loads(text or "{}") if text.strip() else {}
        rows = data.get("stock_availables", []) if isinstance(data, dict) else []
        for r in rows if isinstance(rows, list) else []:
            found[(int(r["id_product"]), int(r["id_product_attribute"]))] = r
    return found


async def _put(
    http: aiohttp.ClientSession, config: StockPushConfig, resource: dict[str, Any], qty: int
) -> None:
    url = f"{_api(config)}/{int(resource['id'])}"
    body = stock_available_xml(resource, qty)
    await _call(http, "PUT", url, data=body, headers={"Content-Type": "text/xml"})


async def _call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> str:
    try:
        async with http.request(method, url, allow_redirects=False, **kwargs) as resp:
            status = resp.status
            text = await resp.text(errors="replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= status < 300:
        return text
    message = f"{method} stock_availables: HTTP {status}: {text.strip()[:_ERROR_BODY_CHARS]}"
    if status >= 500 or status in (408, 429):
        raise DeliveryFailed(message)
    raise DeliveryRejected(message)
