"""The hot pass's schedule: which SKUs are due, and how they fill the ERP calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.usecases.stock.hot_schedule import HotSchedule

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


@dataclass(frozen=True)
class Row:
    n: int
    due: bool
    viewed: bool = True


def rows(due: int, total: int, *, viewed: bool = True) -> list[Row]:
    return [Row(n, n < due, viewed) for n in range(total)]


def test_as_few_calls_as_the_due_need_the_last_filled_up() -> None:
    schedule = HotSchedule()
    some = rows(0, 120)
    assert schedule.calls(some, 50) == []
    one = rows(1, 120)
    assert schedule.calls(one, 50) == [one[:50]]  # one due: 49 ride along, still one call
    assert schedule.calls(rows(50, 120), 50) == [rows(50, 120)[:50]]
    assert [len(c) for c in schedule.calls(rows(51, 120), 50)] == [50, 50]
    assert [len(c) for c in schedule.calls(rows(120, 120), 50)] == [50, 50, 20]
    assert schedule.calls(rows(2, 3), 50) == [rows(2, 3)]


def test_a_pass_reads_at_most_its_share_of_the_rest_tier() -> None:
    schedule = HotSchedule(period=2 * S, rest=10 * S)  # a fifth of the rest per pass
    viewed = rows(30, 30)
    rest = [Row(100 + n, True, viewed=False) for n in range(1000)]  # all due at once
    calls = schedule.calls(viewed + rest, 50)
    assert len(calls) == 5  # 30 viewed + 200 of the rest, in 5 calls: 20 more ride along
    assert calls[0][:30] == viewed  # the viewed ones first
    assert sum(len(c) for c in calls) == 250
    # fewer due than the share (5 of 100, share 20): the due ones, then riders
    few = [Row(200 + n, n < 5, viewed=False) for n in range(100)]
    assert schedule.calls([*viewed, *few], 50) == [[*viewed, *few[:20]]]
