"""Typed keys of everything the aiohttp application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
from aiohttp import web

from service.api.answers import AnswerCache
from service.api.keycache import KeyCache
from service.domain.apikeys import Principal
from service.observability import Metrics
from service.settings import Settings
from service.usecases.stock.reader import StockReader

if TYPE_CHECKING:
    from service.api.routing import Endpoint

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
METRICS = web.AppKey("metrics", Metrics)
ENDPOINTS = web.AppKey("endpoints", dict[str, "Endpoint"])
KEY_CACHE = web.AppKey("key_cache", KeyCache)
SHUTTING_DOWN = web.AppKey("shutting_down", list[bool])
REQUEST_ID = web.RequestKey("request_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)
READER = web.AppKey("reader", StockReader)
ANSWERS = web.AppKey("answers", AnswerCache)
OPENAPI = web.AppKey(
    "openapi", list[dict[str, Any]]
)  # the generated document, built once on first use
