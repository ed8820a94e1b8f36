"""Typed keys of everything the aiohttp application holds: the only place keys are made.

``service.api.app.create_app`` sets each of them, either at once (settings, registries) or in the
cleanup context that owns the resource (pool, ERP client, caches).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
from aiohttp import web

from service.api.answers import AnswerCache
from service.api.keycache import KeyCache
from service.domain.apikeys import Principal
from service.erp.lazy import LazyErp
from service.observability import HttpMetrics, Metrics
from service.settings import Settings
from service.usecases.customers.receipts import ReceiptsReader
from service.usecases.loyalty.balances import LoyaltyReader
from service.usecases.pickups.create import PickupSettings
from service.usecases.promotions.prices import PriceCache
from service.usecases.promotions.rulebook import RuleCache
from service.usecases.stock.reader import StockReader

if TYPE_CHECKING:
    from service.api.routing import Endpoint

# --- set by create_app
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
ROUTE_METRICS = web.AppKey("route_metrics", HttpMetrics)
ENDPOINTS = web.AppKey("endpoints", dict[str, "Endpoint"])
KEY_CACHE = web.AppKey("key_cache", KeyCache)
SHUTTING_DOWN = web.AppKey("shutting_down", list[bool])
PICKUP_SETTINGS = web.AppKey("pickup_settings", PickupSettings)
OPENAPI = web.AppKey(
    "openapi", list[dict[str, Any]]
)  # the generated document, built once on first use

# --- set by create_app's cleanup contexts, in the order they open
POOL = web.AppKey("pool", asyncpg.Pool)
ERP = web.AppKey("erp", LazyErp)
READER = web.AppKey("reader", StockReader)
ANSWERS = web.AppKey("answers", AnswerCache)
LOYALTY = web.AppKey("loyalty_reader", LoyaltyReader)
RECEIPTS = web.AppKey("receipts_reader", ReceiptsReader)
RULES = web.AppKey("promotion_rules", RuleCache)
PRICES = web.AppKey("basket_prices", PriceCache)

# --- per request
REQUEST_ID = web.RequestKey("request_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)
