"""The hot pass's schedule: which SKUs are due, and how they fill the ERP calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.usecases.stock.hot_schedule import HotSchedule, pack

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_bounds_half_a_pass_early() -> None:
    schedule = HotSchedule(window=900 * S, now=60 * S, period=2 * S, rest=10 * S)
    bounds = schedule.bounds(AT)
    assert bounds.since == AT - 900 * S
    assert bounds.viewed_since == AT - 60 * S
    # viewed now: read one period ago is due, half a period ago is not (a second worker's pass
    # right after this one asks for nothing)
    assert bounds.viewed_read_before == AT - 1 * S
    assert bounds.rest_read_before == AT - 9 * S


def test_rest_never_more_often_than_the_pass() -> None:
    bounds = HotSchedule(period=5 * S, rest=2 * S).bounds(AT)
    assert bounds.rest_read_before == bounds.viewed_read_before == AT - 2.5 * S


def test_pack_makes_as_few_calls_as_the_due_need_and_fills_the_last() -> None:
    rows = list(range(120))
    assert pack(rows, 0, 50) == []
    assert pack(rows, 1, 50) == [rows[:50]]  # one due: 49 free riders, still one call
    assert pack(rows, 50, 50) == [rows[:50]]
    assert pack(rows, 51, 50) == [rows[:50], rows[50:100]]
    assert pack(rows, 120, 50) == [rows[:50], rows[50:100], rows[100:]]


def test_pack_with_fewer_rows_than_a_call() -> None:
    assert pack(["a", "b", "c"], 2, 50) == [["a", "b", "c"]]
