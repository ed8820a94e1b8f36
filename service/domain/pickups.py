"""The pickup lifecycle, shared by e-reservations and click-and-collect orders.

States and events::

    confirmed --mark_ready--> ready --collect--> collected
    confirmed --cancel------> cancelled     ready --cancel--> cancelled
    confirmed --expire------> expired       ready --no_show--> no_show

``confirmed`` and ``ready`` hold stock; every other state is terminal and releases it.

Vocabulary (``VOCABULARY``, one row per state): entering a state writes an outbox row of the
state's kind (``pickup.created`` for the first, ``pickup.<state>`` after), which asks the ERP to
create the document, set a follow-up status (named as the ERP port's ``FollowUpStatus``) or
cancel it, and is the event notifications report. Adding a state is this module, a migration
(the CHECK on ``pickups.state``) and the tests.

Deadlines (``pickup_deadline``): the hold lasts ``hold_hours`` from creation. If that instant
falls while the store is open (closing time included), it is the deadline. Otherwise the
deadline moves to the closing time of the next opening period, so a customer always gets at
least one opening period to come. A store with no opening hours keeps the plain deadline.

Ready-by promise (``ready_by``): preparation is staff work, counted only while the store is open,
starting at creation. The promise is the instant that work is done; if it ends exactly at a
closing time, the promise is the next opening (the customer can only come while it is open).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from service.domain.errors import IllegalTransition
from service.domain.hours import OpeningHours, periods_from

PickupKind = Literal["reservation", "order"]
PICKUP_KINDS: tuple[PickupKind, ...] = ("reservation", "order")


class PickupState(StrEnum):
    CONFIRMED = "confirmed"
    READY = "ready"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NO_SHOW = "no_show"


# The state names as a type, for request models (checked equal to PickupState by the tests).
PickupStateName = Literal["confirmed", "ready", "collected", "cancelled", "expired", "no_show"]


class PickupEvent(StrEnum):
    MARK_READY = "mark_ready"
    COLLECT = "collect"
    CANCEL = "cancel"
    EXPIRE = "expire"
    NO_SHOW = "no_show"


class ActorKind(StrEnum):
    STOREFRONT = "storefront"
    STAFF = "staff"
    SYSTEM = "system"


_S, _E = PickupState, PickupEvent
_TRANSITIONS: dict[tuple[PickupState, PickupEvent], PickupState] = {
    (_S.CONFIRMED, _E.MARK_READY): _S.READY,
    (_S.CONFIRMED, _E.CANCEL): _S.CANCELLED,
    (_S.CONFIRMED, _E.EXPIRE): _S.EXPIRED,
    (_S.READY, _E.COLLECT): _S.COLLECTED,
    (_S.READY, _E.CANCEL): _S.CANCELLED,
    (_S.READY, _E.NO_SHOW): _S.NO_SHOW,
}
HOLDING_STATES = frozenset({_S.CONFIRMED, _S.READY})
TERMINAL_STATES = frozenset(PickupState) - HOLDING_STATES
_ACTORS: dict[PickupEvent, frozenset[ActorKind]] = {
    _E.MARK_READY: frozenset({ActorKind.STAFF}),
    _E.COLLECT: frozenset({ActorKind.STAFF}),
    _E.CANCEL: frozenset(ActorKind),
    _E.EXPIRE: frozenset({ActorKind.SYSTEM}),
    _E.NO_SHOW: frozenset({ActorKind.SYSTEM, ActorKind.STAFF}),
}


class ErpStep(StrEnum):
    """What the outbox row of entering a state asks of the ERP."""

    CREATE = "create"  # post the order / e-reservation document
    FOLLOW_UP = "follow_up"  # set the document's follow-up status
    CANCEL = "cancel"  # cancel the document


@dataclass(frozen=True, slots=True)
class StateWords:
    """What a state is called outside the state machine."""

    outbox_kind: str  # the kind of the outbox row written on entering it (and its notification)
    erp: ErpStep
    follow_up: str = ""  # ErpStep.FOLLOW_UP: the ERP follow-up status name to set


VOCABULARY: Mapping[PickupState, StateWords] = MappingProxyType(
    {
        _S.CONFIRMED: StateWords("pickup.created", ErpStep.CREATE),
        _S.READY: StateWords("pickup.ready", ErpStep.FOLLOW_UP, "AvailableInStore"),
        _S.COLLECTED: StateWords("pickup.collected", ErpStep.FOLLOW_UP, "PickedUpInStore"),
        _S.CANCELLED: StateWords("pickup.cancelled", ErpStep.CANCEL),
        _S.EXPIRED: StateWords("pickup.expired", ErpStep.CANCEL),
        _S.NO_SHOW: StateWords("pickup.no_show", ErpStep.CANCEL),
    }
)
STATE_OF_OUTBOX_KIND: Mapping[str, PickupState] = MappingProxyType(
    {words.outbox_kind: state for state, words in VOCABULARY.items()}
)


def outbox_kind(state: PickupState | str) -> str:
    """The kind of the outbox row written when a pickup enters ``state``."""
    return VOCABULARY[PickupState(state)].outbox_kind


def allowed_events(state: PickupState | str) -> frozenset[PickupEvent]:
    current = PickupState(state)
    return frozenset(event for (s, event) in _TRANSITIONS if s == current)


def transition(state: PickupState | str, event: PickupEvent | str) -> PickupState:
    """The state after ``event``; ``IllegalTransition`` when ``state`` does not allow it.

    Unknown state or event names raise ``ValueError``.
    """
    current, happening = PickupState(state), PickupEvent(event)
    new_state = _TRANSITIONS.get((current, happening))
    if new_state is None:
        raise IllegalTransition(current.value, happening.value, allowed_events(current))
    return new_state


def holds_stock(state: PickupState | str) -> bool:
    return PickupState(state) in HOLDING_STATES


def is_terminal(state: PickupState | str) -> bool:
    return PickupState(state) in TERMINAL_STATES


def due_event(state: PickupState | str, deadline: datetime, now: datetime) -> PickupEvent | None:
    """What the sweeper must do once ``deadline`` has passed: expire, no-show, or nothing."""
    if now < deadline:
        return None
    return {_S.CONFIRMED: _E.EXPIRE, _S.READY: _E.NO_SHOW}.get(PickupState(state))


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused a transition: the storefront, a staff member or the system. ``id`` is the API
    key's (never what a caller says); ``name`` the person a staff till names, cleaned."""

    kind: ActorKind
    id: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        ActorKind(self.kind)
        if self.kind == ActorKind.STAFF and not self.id.strip():
            raise ValueError("a staff actor needs a staff id")

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}" if self.id else self.kind.value

    def may(self, event: PickupEvent | str) -> bool:
        """Whether this kind of actor is allowed to cause ``event``."""
        return self.kind in _ACTORS[PickupEvent(event)]


_NOT_SHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def person_name(raw: str, max_length: int = 64) -> str:
    """A person's name as a till sends it, made safe to store and show: control and invisible
    characters removed, whitespace collapsed, at most ``max_length`` characters. It is kept
    apart from the actor's kind and key id, so no name can pass for a role or another key."""
    return " ".join(_NOT_SHOWN.sub("", raw).split())[:max_length]


# --------------------------------------------------------------------------- time rules
def _as_utc(name: str, moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def pickup_deadline(
    created_at: datetime, hold_hours: int, opening_hours: OpeningHours, tz: str
) -> datetime:
    """When an uncollected pickup expires (UTC); see the module docstring for the rule."""
    if hold_hours < 0:
        raise ValueError(f"hold_hours must be >= 0, got {hold_hours}")
    deadline = _as_utc("created_at", created_at) + timedelta(hours=hold_hours)
    period = next(periods_from(opening_hours, deadline, tz, days=8), None)
    if period is None:  # the store never opens: nothing to extend to
        return deadline
    start, end = period
    return deadline if start <= deadline else end


def ready_by(
    created_at: datetime, prep_minutes: int, opening_hours: OpeningHours, tz: str
) -> datetime | None:
    """Earliest promise (UTC) for a pickup to be ready; None if the store never opens."""
    if prep_minutes < 0:
        raise ValueError(f"prep_minutes must be >= 0, got {prep_minutes}")
    created = _as_utc("created_at", created_at)
    remaining = timedelta(minutes=prep_minutes)
    for start, end in periods_from(opening_hours, created, tz):
        begin = max(start, created)
        if remaining < end - begin:
            return begin + remaining
        remaining -= end - begin
    return None


def capacity_left(cap_per_day: int | None, count_today: int) -> int | None:
    """Pickups a store can still take today; None when the store has no daily cap."""
    if count_today < 0:
        raise ValueError(f"count_today must be >= 0, got {count_today}")
    if cap_per_day is None:
        return None
    if cap_per_day < 0:
        raise ValueError(f"cap_per_day must be >= 0 or None, got {cap_per_day}")
    return max(0, cap_per_day - count_today)


def has_capacity(cap_per_day: int | None, count_today: int) -> bool:
    left = capacity_left(cap_per_day, count_today)
    return left is None or left > 0
