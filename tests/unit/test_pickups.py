from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.domain.errors import IllegalTransition
from service.domain.hours import CLOSED_ALL_WEEK, OpeningHours
from service.domain.pickups import (
    HOLDING_STATES,
    TERMINAL_STATES,
    Actor,
    ActorKind,
    PickupEvent,
    PickupState,
    allowed_events,
    capacity_left,
    due_event,
    has_capacity,
    holds_stock,
    is_terminal,
    pickup_deadline,
    ready_by,
    transition,
)

PARIS = "Europe/Paris"
TZ = ZoneInfo(PARIS)
# Mon-Fri 10:00-12:30 and 14:00-19:00, Saturday 09:00-18:00, Sunday closed.
HOURS = OpeningHours.weekly(
    {**{d: [("10:00", "12:30"), ("14:00", "19:00")] for d in range(5)}, 5: [("09:00", "18:00")]}
)


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


# --------------------------------------------------------------------------- state machine
EXPECTED = {
    ("confirmed", "mark_ready"): "ready",
    ("confirmed", "cancel"): "cancelled",
    ("confirmed", "expire"): "expired",
    ("ready", "collect"): "collected",
    ("ready", "cancel"): "cancelled",
    ("ready", "no_show"): "no_show",
}


@pytest.mark.parametrize("state", list(PickupState))
@pytest.mark.parametrize("event", list(PickupEvent))
def test_every_state_event_pair(state: PickupState, event: PickupEvent) -> None:
    expected = EXPECTED.get((state.value, event.value))
    if expected is None:
        with pytest.raises(IllegalTransition) as caught:
            transition(state, event)
        assert caught.value.current == state.value
        assert caught.value.event == event.value
        assert set(caught.value.allowed) == {e.value for e in allowed_events(state)}
    else:
        assert transition(state, event) == PickupState(expected)


def test_happy_path_accepts_plain_strings() -> None:
    state = transition("confirmed", "mark_ready")
    assert transition(state, "collect") is PickupState.COLLECTED


def test_illegal_transition_message_names_the_options() -> None:
    with pytest.raises(
        IllegalTransition,
        match=r"cannot collect a pickup that is confirmed \(allowed: cancel, expire, mark_ready\)",
    ):
        transition("confirmed", "collect")
    with pytest.raises(IllegalTransition, match="none, the pickup is closed"):
        transition("collected", "cancel")


def test_unknown_names_are_value_errors() -> None:
    with pytest.raises(ValueError):
        transition("lost", "collect")
    with pytest.raises(ValueError):
        transition("confirmed", "teleport")


def test_holding_and_terminal_states() -> None:
    assert {PickupState.CONFIRMED, PickupState.READY} == HOLDING_STATES
    assert {"collected", "cancelled", "expired", "no_show"} == TERMINAL_STATES
    for state in PickupState:
        assert holds_stock(state) != is_terminal(state)
        assert (allowed_events(state) == frozenset()) == is_terminal(state)


def test_due_event_after_the_deadline() -> None:
    deadline = datetime(2025, 3, 1, 18, tzinfo=UTC)
    before, after = deadline - timedelta(seconds=1), deadline
    assert due_event("confirmed", deadline, before) is None
    assert due_event("confirmed", deadline, after) is PickupEvent.EXPIRE
    assert due_event("ready", deadline, after) is PickupEvent.NO_SHOW
    assert due_event("collected", deadline, after) is None


def test_actors() -> None:
    staff = Actor(ActorKind.STAFF, "u-42")
    assert str(staff) == "staff:u-42"
    assert str(Actor(ActorKind.SYSTEM)) == "system"
    assert staff.may("collect") and staff.may("mark_ready") and staff.may("cancel")
    assert not staff.may("expire")
    storefront = Actor(ActorKind.STOREFRONT)
    assert storefront.may("cancel") and not storefront.may("collect")
    assert Actor(ActorKind.SYSTEM).may("expire") and not Actor(ActorKind.SYSTEM).may("collect")
    with pytest.raises(ValueError):
        Actor(ActorKind.STAFF)


# --------------------------------------------------------------------------- deadline
def test_deadline_during_opening_hours_is_kept() -> None:
    created = paris(2025, 3, 4, 11, 0)  # Tuesday
    assert pickup_deadline(created, 48, HOURS, PARIS) == paris(2025, 3, 6, 11, 0)


def test_deadline_at_closing_time_is_kept() -> None:
    created = paris(2025, 3, 4, 19, 0)
    assert pickup_deadline(created, 24, HOURS, PARIS) == paris(2025, 3, 5, 19, 0)


def test_deadline_at_night_moves_to_next_day_closing() -> None:
    created = paris(2025, 3, 4, 20, 0)  # Tuesday evening + 24h = Wednesday 20:00, closed
    assert pickup_deadline(created, 24, HOURS, PARIS) == paris(2025, 3, 6, 12, 30)


def test_deadline_in_the_lunch_break_moves_to_the_afternoon_close() -> None:
    created = paris(2025, 3, 4, 13, 0)
    assert pickup_deadline(created, 24, HOURS, PARIS) == paris(2025, 3, 5, 19, 0)


def test_deadline_on_sunday_moves_to_monday_first_period_close() -> None:
    created = paris(2025, 3, 8, 12, 0)  # Saturday noon + 24h = Sunday noon
    assert pickup_deadline(created, 24, HOURS, PARIS) == paris(2025, 3, 10, 12, 30)


def test_deadline_counts_real_hours_across_dst() -> None:
    created = paris(2025, 3, 29, 11, 0)  # Saturday, UTC+1; clocks go forward on Sunday
    deadline = pickup_deadline(created, 48, HOURS, PARIS)
    assert deadline == created.astimezone(UTC) + timedelta(hours=48)
    assert deadline.astimezone(TZ).hour == 12  # 48 real hours later is 12:00 local, UTC+2
    assert deadline.tzinfo is UTC


def test_deadline_without_opening_hours_is_plain() -> None:
    created = datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert pickup_deadline(created, 24, CLOSED_ALL_WEEK, PARIS) == created + timedelta(hours=24)


def test_deadline_inputs_are_checked() -> None:
    with pytest.raises(ValueError):
        pickup_deadline(datetime(2025, 3, 4, 10), 24, HOURS, PARIS)
    with pytest.raises(ValueError):
        pickup_deadline(paris(2025, 3, 4, 10), -1, HOURS, PARIS)


# --------------------------------------------------------------------------- ready by
def test_ready_by_within_the_current_period() -> None:
    assert ready_by(paris(2025, 3, 4, 10, 0), 60, HOURS, PARIS) == paris(2025, 3, 4, 11, 0)


def test_ready_by_skips_the_lunch_break() -> None:
    # 30 minutes before lunch, 30 after it.
    assert ready_by(paris(2025, 3, 4, 12, 0), 60, HOURS, PARIS) == paris(2025, 3, 4, 14, 30)


def test_ready_by_when_created_while_closed_starts_at_opening() -> None:
    assert ready_by(paris(2025, 3, 4, 21, 0), 45, HOURS, PARIS) == paris(2025, 3, 5, 10, 45)
    assert ready_by(paris(2025, 3, 8, 20, 0), 30, HOURS, PARIS) == paris(2025, 3, 10, 10, 30)


def test_work_ending_exactly_at_closing_is_promised_at_next_opening() -> None:
    assert ready_by(paris(2025, 3, 4, 18, 30), 30, HOURS, PARIS) == paris(2025, 3, 5, 10, 0)


def test_ready_by_with_no_preparation() -> None:
    assert ready_by(paris(2025, 3, 4, 11, 0), 0, HOURS, PARIS) == paris(2025, 3, 4, 11, 0)
    assert ready_by(paris(2025, 3, 4, 13, 0), 0, HOURS, PARIS) == paris(2025, 3, 4, 14, 0)


def test_long_preparation_spans_several_days() -> None:
    # Tuesday 10:00: Tue 7.5 h + Wed 7.5 h = 15 h, then 1 h into Thursday.
    assert ready_by(paris(2025, 3, 4, 10, 0), 16 * 60, HOURS, PARIS) == paris(2025, 3, 6, 11, 0)


def test_ready_by_is_none_when_the_store_never_opens() -> None:
    assert ready_by(paris(2025, 3, 4, 10, 0), 30, CLOSED_ALL_WEEK, PARIS) is None
    with pytest.raises(ValueError):
        ready_by(paris(2025, 3, 4, 10, 0), -5, HOURS, PARIS)


# --------------------------------------------------------------------------- capacity
def test_capacity() -> None:
    assert capacity_left(None, 500) is None
    assert capacity_left(20, 5) == 15
    assert capacity_left(20, 25) == 0
    assert has_capacity(None, 10**6)
    assert has_capacity(20, 19)
    assert not has_capacity(20, 20)
    with pytest.raises(ValueError):
        capacity_left(20, -1)
    with pytest.raises(ValueError):
        capacity_left(-1, 0)
