"""What the shopper's QR code says: the pickup id and its code, for the counter's scanner.

``OMNISTOCK:PICKUP:<ID>:<CODE>`` in upper case, so a QR code holds it in its compact
alphanumeric mode and a keyboard-wedge scanner types only plain keys. The staff console reads it
back (``parse_scan_payload`` is the reference; the console's script does the same).
"""

from __future__ import annotations

import re
import uuid

from service.domain.pickup_codes import normalise_pickup_code

PREFIX = "OMNISTOCK:PICKUP:"
_PAYLOAD = re.compile(
    r"OMNISTOCK:PICKUP:([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}):([0-9A-Z -]+)"
)


def scan_payload(pickup_id: uuid.UUID, code: str) -> str:
    return f"{PREFIX}{str(pickup_id).upper()}:{normalise_pickup_code(code)}"


def parse_scan_payload(text: str) -> tuple[uuid.UUID, str] | None:
    """The pickup id and code in a scanned text, or None when it is not our payload."""
    found = _PAYLOAD.search(text.strip().upper())
    if found is None:
        return None
    return uuid.UUID(found.group(1)), normalise_pickup_code(found.group(2))
