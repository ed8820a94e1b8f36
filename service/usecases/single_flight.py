"""One call in flight per key, shared by its concurrent callers.

A burst of requests for one customer makes one ERP read, not one each (loyalty balances,
receipts); a refresh of a batch of SKUs serves every reader waiting for any of them (stock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from functools import partial
from typing import Generic, TypeVar

from service.background import cancel_and_wait

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """At most one call in flight per key; later callers of a key wait for the same task.

    A task may serve several keys (a batch). It is forgotten when it ends; its failure is
    retrieved here (every waiter got it already), so asyncio never logs it as unhandled.
    """

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[T]] = {}

    def running(self, key: Hashable) -> asyncio.Task[T] | None:
        return self._tasks.get(key)

    def start(self, keys: Iterable[Hashable], call: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """Start ``call`` for ``keys`` (none of which is in flight)."""
        task: asyncio.Task[T] = asyncio.ensure_future(call())
        keys = list(keys)
        for key in keys:
            self._tasks[key] = task
        task.add_done_callback(partial(self._done, keys))
        return task

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]], deadline_s: float) -> T:
        """The result of the call in flight for ``key`` (``call`` started when none is), waited
        for at most ``deadline_s`` (``TimeoutError``): the call goes on for later callers."""
        task = self._tasks.get(key)
        if task is None:
            task = self.start([key], call)
        async with asyncio.timeout(deadline_s):
            return await asyncio.shield(task)

    async def aclose(self) -> None:
        """Cancel the calls in flight and wait for them to end."""
        await cancel_and_wait(list(self._tasks.values()))

    def _done(self, keys: list[Hashable], task: asyncio.Task[T]) -> None:
        for key in keys:
            if self._tasks.get(key) is task:
                del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved: the waiters were answered
