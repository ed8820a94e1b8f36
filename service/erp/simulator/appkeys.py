"""Typed application keys of the simulator app and its per-app settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from service.erp.simulator.schema import ServiceSchema
from service.erp.simulator.state import SimulatorState


@dataclass
class SimSettings:
    database_id: str
    users: dict[str, str]
    schemas: dict[str, ServiceSchema]
    tokens: dict[str, str] = field(default_factory=dict)  # CbrAuth cookie -> identity
    # service -> the WSDL served instead of the bundled one (tests of ``erp check``); requests
    # are still validated against the bundled contract
    served_wsdls: dict[str, str] = field(default_factory=dict)
    shutdown: asyncio.Event = field(default_factory=asyncio.Event)


STATE = web.AppKey("sim_state", SimulatorState)
SETTINGS = web.AppKey("sim_settings", SimSettings)
