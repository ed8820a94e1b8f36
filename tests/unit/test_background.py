"""``cancel_and_wait``: background tasks stop even when a cancellation gets swallowed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from service.background import cancel_and_wait


async def _swallows(times: int | list[int], started: asyncio.Event) -> None:
    """Carry on after the first ``times`` cancellations, as a task does when Python 3.11's
    ``wait_for`` drops one (CPython gh-86296), then wait like a listener for its next event.
    ``times`` in a list can be changed from outside."""
    left = times if isinstance(times, list) else [times]
    started.set()
    while True:
        try:
            await asyncio.Event().wait()  # nothing will ever set it
        except asyncio.CancelledError:
            if left[0] <= 0:
                raise
            left[0] -= 1


async def test_a_swallowed_cancellation_is_sent_again() -> None:
    started = asyncio.Event()
    task = asyncio.create_task(_swallows(2, started))
    await started.wait()
    await asyncio.wait_for(cancel_and_wait([task], every_s=0.01), timeout=5)
    assert task.cancelled()


async def test_a_single_cancel_is_not_enough_for_such_a_task() -> None:
    """What the helper is for: one cancel and an await would hang here."""
    started = asyncio.Event()
    task = asyncio.create_task(_swallows(1, started))
    await started.wait()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.2)
    assert not done
    await cancel_and_wait([task], every_s=0.01)
    assert task.cancelled()


async def test_it_gives_up_with_an_error_rather_than_hang(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()
    left = [10**9]
    stubborn = asyncio.create_task(_swallows(left, started), name="stubborn")
    await started.wait()
    with caplog.at_level(logging.ERROR, logger="omnistock"):
        await asyncio.wait_for(cancel_and_wait([stubborn], every_s=0.01, patience_s=0.1), 5)
    assert not stubborn.done()
    assert "stubborn" in caplog.text
    left[0] = 0  # now it gives in, and the test can end
    await cancel_and_wait([stubborn])
    assert stubborn.cancelled()


async def test_finished_and_failed_tasks_are_collected_quietly() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    async def returns() -> int:
        return 1

    failed, returned = asyncio.create_task(fails()), asyncio.create_task(returns())
    await asyncio.sleep(0)
    started = asyncio.Event()
    running = asyncio.create_task(_swallows(0, started))
    await started.wait()
    await cancel_and_wait([failed, returned, running])
    assert isinstance(failed.exception(), ValueError)
    assert returned.result() == 1 and running.cancelled()
    await cancel_and_wait([])  # nothing to do
