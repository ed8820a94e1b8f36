"""The pickup vocabulary comes from one table in the domain (``VOCABULARY``): every state has an
outbox kind and an ERP step, and everything outside the domain that names states or kinds is
derived from it."""

from __future__ import annotations

from typing import get_args

import pytest

from service.domain.pickups import (
    _TRANSITIONS,
    STATE_OF_OUTBOX_KIND,
    VOCABULARY,
    ErpStep,
    PickupState,
    PickupStateName,
    outbox_kind,
)
from service.erp.port import FollowUpStatus
from service.usecases.outbox import events
from service.usecases.outbox.notifications import EVENT_STATES


@pytest.mark.parametrize("state", list(PickupState))
def test_every_state_has_its_words(state: PickupState) -> None:
    words = VOCABULARY[state]
    assert words.outbox_kind.startswith("pickup.")
    assert isinstance(words.erp, ErpStep)
    if words.erp is ErpStep.FOLLOW_UP:
        assert words.follow_up in get_args(FollowUpStatus)  # a name the ERP port knows
    else:
        assert words.follow_up == ""


def test_the_table_covers_exactly_the_states_with_distinct_kinds() -> None:
    assert set(VOCABULARY) == set(PickupState)
    kinds = [w.outbox_kind for w in VOCABULARY.values()]
    assert len(set(kinds)) == len(kinds)
    assert {STATE_OF_OUTBOX_KIND[k] for k in kinds} == set(PickupState)


def test_the_state_names_type_is_the_state_enum() -> None:
    assert get_args(PickupStateName) == tuple(s.value for s in PickupState)


def test_only_the_first_state_creates_and_terminal_states_cancel_or_follow_up() -> None:
    creating = [s for s, w in VOCABULARY.items() if w.erp is ErpStep.CREATE]
    assert creating == [PickupState.CONFIRMED]
    entered = set(_TRANSITIONS.values())
    assert PickupState.CONFIRMED not in entered  # no transition posts the document again
    assert entered == set(PickupState) - {PickupState.CONFIRMED}


def test_every_transition_writes_a_kind_the_relay_knows() -> None:
    """A kind the relay did not know would turn the outbox row dead at run time."""
    for target in _TRANSITIONS.values():
        kind = outbox_kind(target)
        assert kind in events.KINDS
        assert kind in events.FOLLOW_UPS or kind in events.CANCELLING


def test_the_outbox_and_notification_words_are_derived() -> None:
    assert events.CREATED == "pickup.created"
    assert events.FOLLOW_UPS == {
        "pickup.ready": "AvailableInStore",
        "pickup.collected": "PickedUpInStore",
    }
    assert {"pickup.cancelled", "pickup.expired", "pickup.no_show"} == events.CANCELLING
    assert {events.CREATED, *events.FOLLOW_UPS, *events.CANCELLING} == events.KINDS
    assert {w.outbox_kind: s.value for s, w in VOCABULARY.items()} == EVENT_STATES


def test_a_follow_up_the_erp_port_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="no follow-up status 'Shipped'"):
        events._follow_up("Shipped")
