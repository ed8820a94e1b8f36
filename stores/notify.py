"""PostgreSQL NOTIFY of changed keys, so every replica can drop what it cached."""

from __future__ import annotations

import json
from collections.abc import Iterable

import asyncpg

STOCK_CHANNEL = "omnistock_stock"
_MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes or more


async def notify_changed(conn: asyncpg.Connection, channel: str, keys: Iterable[str]) -> int:
    """Send the keys as JSON arrays in as few notifications as fit; return how many were sent.

    NOTIFY is transactional: inside a transaction the messages leave at commit, or never.
    """
    batch: list[str] = []
    size = 2
    sent = 0
    for key in sorted(set(keys)):
        if batch and size + len(key) + 4 > _MAX_PAYLOAD:
            await conn.execute("SELECT pg_notify($1, $2)", channel, json.dumps(batch))
            sent += 1
            batch, size = [], 2
        batch.append(key)
        size += len(key) + 4
    if batch:
        await conn.execute("SELECT pg_notify($1, $2)", channel, json.dumps(batch))
        sent += 1
    return sent
