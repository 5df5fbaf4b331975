import itertools

import pytest

from catalyst.errors import InvalidTransition
from catalyst.plugins.discovery import PluginSource
from catalyst.plugins.lifecycle import set_state
from catalyst.plugins.record import PluginRecord
from catalyst.plugins.state import SOURCES, TRANSITIONS, PluginState, check_transition


@pytest.mark.parametrize(("current", "target"), list(itertools.product(PluginState, PluginState)))
async def test_every_pair_of_states_follows_the_table(
    current: PluginState, target: PluginState
) -> None:
    record = PluginRecord(
        name="p", source=PluginSource("p", __import__("pathlib").Path("."), None, None)
    )
    object.__setattr__(record, "state", current)
    seen: list[tuple[PluginState, PluginState]] = []

    def listen(r: PluginRecord, old: PluginState, new: PluginState) -> None:
        seen.append((old, new))

    if target in TRANSITIONS[current]:
        await set_state(record, target, [listen], error="boom")
        assert record.state is target
        assert seen == [(current, target)]
        assert record.error == ("boom" if target is PluginState.ERROR else None)
    else:
        with pytest.raises(InvalidTransition, match=f"it is {current.value}, but needs to be"):
            await set_state(record, target, [listen])
        # A refusal changed nothing and told nobody.
        assert record.state is current
        assert seen == []


def test_refusal_names_current_and_required_states() -> None:
    with pytest.raises(InvalidTransition) as info:
        check_transition("demo", PluginState.DISCOVERED, PluginState.ENABLED)
    assert str(info.value) == (
        "Cannot enable plugin 'demo': it is discovered, but needs to be disabled or loaded or "
        "restarting"
    )
    assert info.value.status_code == 409
    assert set(info.value.required) == {s.value for s in SOURCES[PluginState.ENABLED]}


def test_state_cannot_be_assigned_directly() -> None:
    from pathlib import Path

    record = PluginRecord(name="p", source=PluginSource("p", Path("."), None, None))
    with pytest.raises(AttributeError, match=r"use lifecycle\.set_state"):
        record.state = PluginState.ENABLED
    assert record.state is PluginState.DISCOVERED


def test_every_state_is_documented_and_reachable() -> None:
    for state in PluginState:
        assert state in TRANSITIONS
    reachable = {t for targets in TRANSITIONS.values() for t in targets}
    assert reachable == set(PluginState) - {PluginState.DISCOVERED}
