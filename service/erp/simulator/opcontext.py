"""What an operation handler receives, and the shape of the handler registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.erp.simulator.state import SimulatorState
from service.erp.simulator.xmlio import Node

VOID = object()  # handler result of operations whose reply has no Result element
CBR_VERSION = "CBR 21.1.0 (omnistock simulator)"


@dataclass(slots=True)
class OpContext:
    state: SimulatorState
    operation: str
    database_id: str
    identity: str  # authenticated user, DATABASEID\user
    raw_body: str
    now: datetime
    inject_duplicate: bool = False


Handler = Callable[[OpContext, Node], Any]


def hello_world(ctx: OpContext, request: Node) -> str:
    """HelloWorld(text, clientContext): the multi-line connection check of every Y2 service."""
    return "\n".join(
        [
            f"Time: {ctx.now.replace(microsecond=0).isoformat()}",
            f"Text: {request.text('text')}",
            f"DatabaseId: {ctx.database_id}",
            f"Identity: {ctx.identity}",
            f"Version: {CBR_VERSION}",
        ]
    )
