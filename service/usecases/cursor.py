"""Page cursors: the sort key of a page's last row, opaque to clients, one codec for every list.

A cursor is ``prefix`` + base64url (no padding) of a text: the key itself (``s1.`` store code,
``r1.`` rule id, ``ob1.`` outbox row id) or, for keys of several parts, their JSON array (pickups:
``[created_at, id]``, receipts: ``[date, document key]``). The prefix names the list and the
format's version, so that a cursor of one list is refused by another; lists first published
without one keep ``""`` so that cursors already handed out stay valid. Anything a caller cannot
decode is a 422 on ``loc``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from service.errors import InvalidInput

CURSOR: tuple[str, ...] = ("cursor",)


def invalid(loc: Sequence[str] = CURSOR) -> InvalidInput:
    """The 422 of a cursor this API did not return (also for a decoded key that is wrong)."""
    return InvalidInput(
        "the cursor is invalid",
        [{"loc": list(loc), "msg": "not a cursor this API returned", "type": "cursor"}],
    )


def encode(key: str, *, prefix: str = "") -> str:
    return prefix + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode(cursor: str, *, prefix: str = "", loc: Sequence[str] = CURSOR) -> str:
    """The key ``encode`` was given, or 422."""
    if not cursor.startswith(prefix):
        raise invalid(loc)
    body = cursor.removeprefix(prefix)
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid(loc) from None


def encode_parts(parts: Sequence[str | int | None], *, prefix: str = "") -> str:
    """A key of several parts (compact JSON array)."""
    return encode(json.dumps(list(parts), separators=(",", ":")), prefix=prefix)


def decode_parts(
    cursor: str, count: int, *, prefix: str = "", loc: Sequence[str] = CURSOR
) -> list[Any]:
    """The ``count`` parts ``encode_parts`` was given, or 422. The caller checks their types."""
    try:
        parts = json.loads(decode(cursor, prefix=prefix, loc=loc))
    except ValueError:
        raise invalid(loc) from None
    if not isinstance(parts, list) or len(parts) != count:
        raise invalid(loc)
    return parts
