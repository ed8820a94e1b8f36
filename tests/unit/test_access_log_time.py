"""The access log's timestamp of now, formatted once per millisecond."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from service.observability import utc_now_ms


def test_now_is_the_current_millisecond_as_datetime_writes_it() -> None:
    for _ in range(2000):  # across several milliseconds: cached and fresh texts
        before = time.time_ns() // 1_000_000
        text = utc_now_ms()
        after = time.time_ns() // 1_000_000
        written = {
            datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
            for ms in range(before, after + 1)
        }
        assert text in written
