"""The access log's timestamp of now, formatted once per millisecond."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime

from service.observability import JsonLinesHandler, utc_now_ms


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


def test_lines_wait_for_the_due_flush_and_a_former_loop_s_timer_is_not_waited_for() -> None:
    out = io.StringIO()
    handler = JsonLinesHandler(out)

    async def write(*lines: str, wait: bool = True) -> None:
        for line in lines:
            handler.write_line(line)
        if wait:
            await asyncio.sleep(handler.FLUSH_EVERY_S * 4)

    async def batched() -> None:
        for line in ("a1", "a2", "a3"):
            handler.write_line(line)
        assert out.getvalue() == ""  # nothing written at once: one batch, later
        await asyncio.sleep(handler.FLUSH_EVERY_S * 4)

    asyncio.run(batched())
    assert out.getvalue().splitlines() == ["a1", "a2", "a3"]  # one flush, by the due timer
    asyncio.run(write("b1", wait=False))  # its loop ends before the flush it scheduled
    assert out.getvalue().splitlines() == ["a1", "a2", "a3"]
    asyncio.run(write("c1"))  # a new loop: not left waiting for the former loop's timer
    assert out.getvalue().splitlines() == ["a1", "a2", "a3", "b1", "c1"]
