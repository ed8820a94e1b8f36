from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.hours import (
    CLOSED_ALL_WEEK,
    END_OF_DAY,
    OpeningHours,
    Period,
    local_day,
    parse_prestashop_hours,
    periods_from,
)

PARIS = "Europe/Paris"


def _day(text: str) -> list[str]:
    hours, warnings = parse_prestashop_hours([text] * 7)
    assert hours.days[0] == hours.days[6]
    return [str(p) for p in hours.days[0]] if not warnings else ["warning"]


@pytest.mark.parametrize(
    ("text", "periods"),
    [
        ("09:00AM - 07:00PM", ["09:00-19:00"]),
        ("9:00 - 19:00", ["09:00-19:00"]),
        ("10:00-12:30, 14:00-19:00", ["10:00-12:30", "14:00-19:00"]),
        ("14:00-19:00; 10:00-12:30", ["10:00-12:30", "14:00-19:00"]),
        ("9h30 - 19h", ["09:30-19:00"]),
        ("9 am to 7 pm", ["09:00-19:00"]),
        ("9:00 a.m. \u2013 6:30 p.m.", ["09:00-18:30"]),
        ("12:00PM - 12:00AM", ["12:00-24:00"]),
        ("18:00-00:00", ["18:00-24:00"]),
        ("08:00-24:00", ["08:00-24:00"]),
        ("10h à 19h", ["10:00-19:00"]),
        ("Closed", []),
        ("FERMÉ", []),
        ("", []),
        ("  ", []),
        ("-", []),
    ],
)
def test_prestashop_day_texts(text: str, periods: list[str]) -> None:
    assert _day(text) == periods


@pytest.mark.parametrize(
    "text",
    [
        "open late",
        "19:00 - 09:00",
        "10:00 - 10:00",
        "25:00 - 26:00",
        "09:60 - 10:00",
        "13PM - 14PM",
        "09:00",
        "10:00-13:00, 12:00-19:00",
        "10:00-12:00, soon",
        "24:00 - 24:00",
    ],
)
def test_unreadable_days_are_closed_with_a_warning(text: str) -> None:
    hours, warnings = parse_prestashop_hours(["9-19", text, "9-19", "9-19", "9-19", "9-19", "9-19"])
    assert hours.days[1] == ()
    assert hours.days[0] == (Period(time(9), time(19)),)
    assert len(warnings) == 1
    assert warnings[0].startswith("Tuesday:")


def test_the_list_of_lists_shape_prestashop_stores_is_read() -> None:
    hours, warnings = parse_prestashop_hours([["10:00-12:30", "14:00-19:00"]] * 6 + [[]])
    assert warnings == []
    assert [str(p) for p in hours.days[0]] == ["10:00-12:30", "14:00-19:00"]
    assert hours.days[6] == ()


@pytest.mark.parametrize("value", [None, "09:00-19:00", 42, {"monday": "9-19"}])
def test_input_that_is_not_a_list_never_raises(value: object) -> None:
    hours, warnings = parse_prestashop_hours(value)  # type: ignore[arg-type]
    assert hours == CLOSED_ALL_WEEK
    assert len(warnings) == 1


def test_wrong_number_of_days_and_odd_items_are_warned() -> None:
    hours, warnings = parse_prestashop_hours(["9-19", None, 3])
    assert hours.days[0] == (Period(time(9), time(19)),)
    assert hours.days[1:] == ((),) * 6
    assert warnings[0] == "expected 7 days, got 3: missing days are closed"
    assert warnings[1].startswith("Wednesday: could not read 3")
    assert len(warnings) == 2


@given(st.lists(st.one_of(st.text(max_size=30), st.none(), st.integers()), max_size=9))
def test_parser_never_raises(days: list[object]) -> None:
    hours, warnings = parse_prestashop_hours(days)
    assert len(hours.days) == 7
    assert all(isinstance(w, str) for w in warnings)


def test_model_rejects_malformed_hours() -> None:
    with pytest.raises(ValueError):
        OpeningHours(((),) * 6)
    with pytest.raises(ValueError):
        Period(time(19), time(9))
    with pytest.raises(ValueError):
        OpeningHours.weekly({0: [("09:00", "13:00"), ("12:00", "19:00")]})
    with pytest.raises(ValueError):
        Period(time(9, tzinfo=UTC), time(19))


def test_weekly_builder_and_end_of_day() -> None:
    hours = OpeningHours.weekly({5: [("20:00", "24:00")]})
    assert hours.days[5] == (Period(time(20), END_OF_DAY),)
    assert hours.days[0] == ()
    assert hours.ever_open
    assert not CLOSED_ALL_WEEK.ever_open


def test_is_open_at_uses_store_local_time_across_dst() -> None:
    hours = OpeningHours.weekly({d: [("09:00", "19:00")] for d in range(7)})
    # Winter: Paris is UTC+1, summer UTC+2.
    assert hours.is_open_at(datetime(2025, 1, 15, 8, 0, tzinfo=UTC), PARIS)  # 09:00 local
    assert not hours.is_open_at(datetime(2025, 1, 15, 7, 59, tzinfo=UTC), PARIS)
    assert hours.is_open_at(datetime(2025, 7, 15, 7, 0, tzinfo=UTC), PARIS)  # 09:00 local
    assert not hours.is_open_at(datetime(2025, 7, 15, 17, 0, tzinfo=UTC), PARIS)  # 19:00 closed


def test_periods_from_walks_forward_in_utc() -> None:
    hours = OpeningHours.weekly({0: [("09:00", "12:00")], 2: [("14:00", "18:00")]})
    start = datetime(2025, 3, 24, 10, 0, tzinfo=ZoneInfo(PARIS))  # Monday 10:00, UTC+1
    periods = list(periods_from(hours, start, PARIS, days=10))
    assert periods == [
        (datetime(2025, 3, 24, 8, 0, tzinfo=UTC), datetime(2025, 3, 24, 11, 0, tzinfo=UTC)),
        (datetime(2025, 3, 26, 13, 0, tzinfo=UTC), datetime(2025, 3, 26, 17, 0, tzinfo=UTC)),
        # DST started on Sunday 30 March: Paris is now UTC+2.
        (datetime(2025, 3, 31, 7, 0, tzinfo=UTC), datetime(2025, 3, 31, 10, 0, tzinfo=UTC)),
        (datetime(2025, 4, 2, 12, 0, tzinfo=UTC), datetime(2025, 4, 2, 16, 0, tzinfo=UTC)),
    ]
    assert list(periods_from(CLOSED_ALL_WEEK, start, PARIS)) == []
    with pytest.raises(ValueError):
        next(periods_from(hours, datetime(2025, 3, 24), PARIS))


def test_local_day_is_the_store_calendar_day() -> None:
    late = datetime(2025, 3, 24, 23, 30, tzinfo=UTC)
    assert local_day(late, PARIS) == date(2025, 3, 25)
    assert local_day(late, "America/New_York") == date(2025, 3, 24)
