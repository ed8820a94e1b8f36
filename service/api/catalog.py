"""The catalogue endpoints (store directory, item identifiers) as one router for the app."""

from __future__ import annotations

from service.api import items, stores
from service.api.routing import Router

router = Router()
router.endpoints = [*stores.router.endpoints, *items.router.endpoints]
