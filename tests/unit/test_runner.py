"""The job loop's pause: after the end of a run, or from one start to the next (fixed rate)."""

from __future__ import annotations

import asyncio

import pytest

from service.workers import runner
from service.workers.runner import Job


async def _first_pause(
    monkeypatch: pytest.MonkeyPatch, interval_s: float, *, fixed_rate: bool = False
) -> float:
    """The pause after one run of a job that takes 0.3 s of (fake) monotonic time."""
    clock = [100.0]
    pauses: list[float] = []

    async def run_once(_deps: object) -> int:
        clock[0] += 0.3
        return 0

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        raise asyncio.CancelledError

    monkeypatch.setattr(runner.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(runner.random, "uniform", lambda _a, _b: 1.0)
    monkeypatch.setattr(runner.asyncio, "sleep", sleep)
    job = Job("j", run_once, interval_s, singleton=False, fixed_rate=fixed_rate)
    with pytest.raises(asyncio.CancelledError):
        await runner.run_job_forever(None, job, None)  # type: ignore[arg-type]
    return pauses[0]


async def test_a_job_waits_its_interval_after_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await _first_pause(monkeypatch, 1.0) == pytest.approx(1.0)


async def test_a_fixed_rate_job_runs_interval_apart_start_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await _first_pause(monkeypatch, 1.0, fixed_rate=True) == pytest.approx(0.7)
    # a run longer than the interval: the next one at once
    assert await _first_pause(monkeypatch, 0.2, fixed_rate=True) == 0.0
