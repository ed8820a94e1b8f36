"""Stopping background tasks for sure.

Python 3.11's ``asyncio.wait_for``, which libraries such as aiocache wrap around every call, can
swallow a cancellation that arrives just as the awaited call completes (CPython gh-86296, fixed
in 3.12): the task then carries on as if it had never been cancelled. A listener loop cancelled
at that instant would wait for its next notification forever, and ``await task`` with it: an
app's shutdown, or a test's teardown, hung. ``cancel_and_wait`` cancels again until the tasks
are done, and gives up (with an error log) rather than hang.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("omnistock")


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], *, every_s: float = 0.1, patience_s: float = 10.0
) -> None:
    """Cancel ``tasks`` and wait until all are done, cancelling again every ``every_s`` those
    still running; after ``patience_s``, log the ones left and return. Their exceptions are
    retrieved (and dropped), as ``gather(..., return_exceptions=True)`` would."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    give_up = loop.time() + patience_s
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=every_s)
        if pending and loop.time() >= give_up:
            log.error(
                "background tasks still running %.0f s after they were cancelled: %s",
                patience_s,
                ", ".join(sorted(task.get_name() for task in pending)),
            )
            break
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" warning
