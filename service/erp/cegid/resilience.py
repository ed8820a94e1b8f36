"""Circuit breaker and retry backoff of the Cegid adapter."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, TypeVar

from service.erp.port import ErpNotSent

CircuitState = Literal["closed", "open", "half_open"]
T = TypeVar("T")


class CircuitOpenError(ErpNotSent):
    """The circuit of a service is open: the call was not attempted."""


class CircuitBreaker:
    """closed -> (``threshold`` consecutive failures) -> open -> (``reset_s``) -> half-open.

    Half-open lets one trial call through at a time: its success closes the circuit, its failure
    opens it again for another ``reset_s``. Other calls fail fast meanwhile.
    """

    def __init__(
        self, threshold: int, reset_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = max(1, threshold)
        self._reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset_s:
            return "half_open"
        return "open"

    def before_call(self, name: str) -> None:
        """Raise ``CircuitOpenError`` unless a call may go through now."""
        state = self.state
        if state == "open" or (state == "half_open" and self._trial_running):
            raise CircuitOpenError(f"{name}: circuit open after {self._failures} failures")
        if state == "half_open":
            self._trial_running = True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def record_abandoned(self) -> None:
        """The call was cancelled before it told us anything: let another trial through."""
        self._trial_running = False


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**attempt)]."""
    return rng.uniform(0.0, min(max_s, base_s * (2**attempt)))


async def gather_all(coros: Sequence[Awaitable[T]]) -> list[T]:
    """Run concurrently; on failure cancel the rest and raise the first error as is."""
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(c)) for c in coros]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [t.result() for t in tasks]


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable
