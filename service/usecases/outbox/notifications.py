"""Optional pickup notifications, delivered through the outbox: signed webhooks (aggregate
``webhook``) and PrestaShop order states (aggregate ``prestashop``).

When the relay settles a ``pickup.*`` row as done, it appends the follow-up rows in the same
transaction (``enqueue_follow_ups``), so a notification follows the ERP post of its event: an
ERP outage delays notifications, and an event whose ERP row is dead notifies nobody until it is
replayed. Follow-up rows keep the order of their pickup's events (aggregate id = pickup id).

Kinds are the pickup event (``pickup.ready``...). Payloads:

- ``webhook``: the JSON body ``{event, pickup_id, at, delivery_id, pickup{id, kind, state,
  store_id, ps_order_id, ps_order_reference}}``; ``delivery_id`` is drawn once, at enqueue time,
  so it is the same on every retry;
- ``prestashop``: ``{pickup_id, ps_order_id, order_state, at}`` -> POST ``order_histories``.

Delivery: 2xx -> done; 5xx, 408, 429, timeouts and transport errors -> retried with the relay's
backoff (``DeliveryFailed``); any other status -> dead with the answer's body
(``DeliveryRejected``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from service.domain.pickups import STATE_OF_OUTBOX_KIND
from service.usecases.outbox.events import BadEvent
from stores import outbox as outbox_repo
from stores.outbox import OutboxRow

WEBHOOK = "webhook"
PRESTASHOP = "prestashop"
AGGREGATES = (WEBHOOK, PRESTASHOP)
# The pickup state each event reports.
EVENT_STATES = {kind: state.value for kind, state in STATE_OF_OUTBOX_KIND.items()}
_ERROR_BODY_CHARS = 2000
_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><order_history>'
    "<id_order>{order}</id_order><id_order_state>{state}</id_order_state>"
    "</order_history></prestashop>"
)


class DeliveryFailed(Exception):
    """The receiver is unavailable (5xx, timeout, transport): retried."""


class DeliveryRejected(Exception):
    """The receiver refused the notification (4xx) or it is not configured: dead."""


@dataclass(frozen=True)
class NotificationConfig:
    webhook_url: str = ""
    webhook_secret: str = ""
    prestashop_url: str = ""
    prestashop_key: str = ""
    prestashop_ready_state: int = 0
    prestashop_collected_state: int = 0
    timeout_s: float = 10.0

    @property
    def webhooks(self) -> bool:
        return bool(self.webhook_url and self.webhook_secret)

    @property
    def prestashop(self) -> bool:
        return bool(self.prestashop_url and self.prestashop_key)

    @property
    def enabled(self) -> bool:
        return self.webhooks or self.prestashop

    def prestashop_state(self, event: str) -> int:
        """The PrestaShop order state an event moves an order to; 0: none."""
        if event == "pickup.ready":
            return self.prestashop_ready_state
        if event == "pickup.collected":
            return self.prestashop_collected_state
        return 0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Omnistock-Signature`` value: ``sha256=`` hex HMAC of ``timestamp.body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


# --------------------------------------------------------------------------- enqueue
async def enqueue_follow_ups(
    conn: asyncpg.Connection, config: NotificationConfig | None, row: OutboxRow
) -> list[int]:
    """Append the notification rows of a settled ``pickup.*`` row (in its transaction)."""
    if config is None or not config.enabled or row.kind not in EVENT_STATES:
        return []
    try:
        pickup_id = uuid.UUID(row.aggregate_id)
    except ValueError:
        return []
    pickup = await outbox_repo.pickup_summary(conn, pickup_id)
    if pickup is None:
        return []
    at = row.payload.get("at") or row.payload.get("created_at") or row.created_at.isoformat()
    ids: list[int] = []
    if config.webhooks:
        body = {
            "event": row.kind,
            "pickup_id": str(pickup_id),
            "at": at,
            "delivery_id": str(uuid.uuid4()),
            "pickup": {
                "id": str(pickup_id),
                "kind": pickup.kind,
                "state": EVENT_STATES[row.kind],
                "store_id": pickup.store_id,
                "ps_order_id": pickup.ps_order_id,
                "ps_order_reference": pickup.ps_order_reference,
            },
        }
        ids.append(await outbox_repo.append(conn, WEBHOOK, row.aggregate_id, row.kind, body))
    state = config.prestashop_state(row.kind)
    if config.prestashop and state and pickup.kind == "order" and pickup.ps_order_id is not None:
        payload = {
            "pickup_id": str(pickup_id),
            "ps_order_id": pickup.ps_order_id,
            "order_state": state,
            "at": at,
        }
        ids.append(await outbox_repo.append(conn, PRESTASHOP, row.aggregate_id, row.kind, payload))
    return ids


# --------------------------------------------------------------------------- delivery
async def deliver(config: NotificationConfig | None, row: OutboxRow) -> dict[str, Any]:
    """Post one notification row; the result stored on the row."""
    if row.aggregate == WEBHOOK:
        if config is None or not config.webhooks:
            raise DeliveryRejected("webhooks are off (OMNISTOCK_WEBHOOK_URL/SECRET unset)")
        return await _webhook(config, row)
    if row.aggregate == PRESTASHOP:
        if config is None or not config.prestashop:
            raise DeliveryRejected("PrestaShop is off (OMNISTOCK_PRESTASHOP_URL/KEY unset)")
        return await _prestashop(config, row)
    raise BadEvent(f"no notification aggregate {row.aggregate!r}")


def _webhook_body(payload: dict[str, Any]) -> bytes:
    if not isinstance(payload.get("pickup"), dict) or not payload.get("delivery_id"):
        raise BadEvent("webhook payload needs pickup and delivery_id")
    pickup = payload["pickup"]
    ordered = {
        "event": payload.get("event"),
        "pickup_id": payload.get("pickup_id"),
        "at": payload.get("at"),
        "delivery_id": payload["delivery_id"],
        "pickup": {
            name: pickup.get(name)
            for name in ("id", "kind", "state", "store_id", "ps_order_id", "ps_order_reference")
        },
    }
    return json.dumps(ordered, separators=(",", ":")).encode()


async def _webhook(config: NotificationConfig, row: OutboxRow) -> dict[str, Any]:
    body = _webhook_body(row.payload)
    timestamp = str(int(time.time()))
    delivery_id = str(row.payload["delivery_id"])
    headers = {
        "Content-Type": "application/json",
        "X-Omnistock-Event": row.kind,
        "X-Omnistock-Delivery": delivery_id,
        "X-Omnistock-Timestamp": timestamp,
        "X-Omnistock-Signature": sign(config.webhook_secret, timestamp, body),
    }
    status = await _post(config, config.webhook_url, body, headers)
    return {"status": status, "delivery_id": delivery_id}


async def _prestashop(config: NotificationConfig, row: OutboxRow) -> dict[str, Any]:
    order, state = row.payload.get("ps_order_id"), row.payload.get("order_state")
    for name, value in (("ps_order_id", order), ("order_state", state)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise BadEvent(f"payload.{name} must be a positive integer, not {value!r}")
    body = _XML.format(order=order, state=state).encode()
    url = f"{config.prestashop_url.rstrip('/')}/api/order_histories"
    token = base64.b64encode(f"{config.prestashop_key}:".encode()).decode()
    headers = {"Content-Type": "text/xml", "Authorization": f"Basic {token}"}
    status = await _post(config, url, body, headers)
    return {"status": status, "ps_order_id": order, "order_state": state}


async def _post(
    config: NotificationConfig,
    url: str,
    body: bytes,
    headers: dict[str, str],
) -> int:
    timeout = aiohttp.ClientTimeout(total=config.timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            status = resp.status
            text = await resp.text(errors="replace")
    except aiohttp.ClientError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= status < 300:
        return status
    message = f"HTTP {status}: {text.strip()[:_ERROR_BODY_CHARS]}"
    if status >= 500 or status in (408, 429):
        raise DeliveryFailed(message)
    raise DeliveryRejected(message)
