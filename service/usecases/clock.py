"""The use cases' clock: aware UTC datetimes, one function to read it (and to patch in tests)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
