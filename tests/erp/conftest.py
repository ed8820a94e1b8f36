"""Fixtures: a simulated Cegid tenant on an ephemeral 127.0.0.1 port and the adapter on it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.erp.cegid import CegidConfig, CegidErp, create
from service.erp.simulator import SimulatorState, generate, serve_simulator

DATABASE_ID = "DEMO"
USER = "omnistock"
PASSWORD = "secret"


@dataclasses.dataclass
class Calls:
    """What the adapter's on_call hook saw."""

    seen: list[tuple[str, str, float, str]] = dataclasses.field(default_factory=list)

    def __call__(self, service: str, operation: str, seconds: float, outcome: str) -> None:
        self.seen.append((service, operation, seconds, outcome))

    def outcomes(self, operation: str = "") -> list[str]:
        return [o for _, op, _, o in self.seen if operation in ("", op)]


def make_config(base_url: str, **overrides: Any) -> CegidConfig:
    """A config tuned for tests: short timeouts and backoffs."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "database_id": DATABASE_ID,
        "username": USER,
        "password": PASSWORD,
        "timeout_s": 1.0,
        "connect_timeout_s": 0.5,
        "retries": 2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "circuit_failure_threshold": 3,
        "circuit_reset_s": 0.3,
    }
    values.update(overrides)
    return CegidConfig(**values)


@pytest.fixture
def state() -> SimulatorState:
    sim = generate(seed=7, stores=3, products=20)
    sim.journal.record_responses = True
    return sim


@pytest.fixture
async def sim_url(state: SimulatorState) -> AsyncIterator[str]:
    async with serve_simulator(
        state, database_id=DATABASE_ID, users={USER: PASSWORD}, control=True
    ) as url:
        yield url


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def erp(sim_url: str, calls: Calls) -> AsyncIterator[CegidErp]:
    adapter = await create(make_config(sim_url), on_call=calls)
    try:
        yield adapter
    finally:
        await adapter.aclose()
