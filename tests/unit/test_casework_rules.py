"""The shared workflow helper: only allowed transitions are offered, others are refused with a reason."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewapp.casework.rules import Transition, TransitionRefused, Workflow

FLOW = Workflow(
    name="demo",
    states={"new": "已登记", "accepted": "已受理", "refused": "不予受理", "done": "已办结"},
    initial="new",
    transitions=(
        Transition("accept", "受理", frozenset({"new"}), "accepted", requires=("note",), handler_only=False),
        Transition("refuse", "不予受理", frozenset({"new"}), "refused", requires=("reason",), handler_only=False),
        Transition("close", "办结", frozenset({"accepted"}), "done", requires=("reply",)),
    ),
    field_labels={"note": "办理意见", "reason": "不予受理理由", "reply": "答复情况"},
)


def test_offered_transitions_depend_on_state_and_handler():
    assert [t.code for t in FLOW.offered("new", is_handler=False)] == ["accept", "refuse"]
    assert FLOW.offered("accepted", is_handler=False) == []
    assert [t.code for t in FLOW.offered("accepted", is_handler=True)] == ["close"]
    assert FLOW.final_states == frozenset({"refused", "done"})


def test_illegal_transition_is_refused_with_the_current_state_named():
    with pytest.raises(TransitionRefused, match="当前状态为「已登记」，不能执行「办结」"):
        FLOW.check("new", "close", is_handler=True, given={"reply": "x"})


def test_non_handler_and_missing_fields_are_refused():
    with pytest.raises(TransitionRefused, match="只有该件的承办人"):
        FLOW.check("accepted", "close", is_handler=False, given={"reply": "x"})
    with pytest.raises(TransitionRefused, match="需要填写「答复情况」"):
        FLOW.check("accepted", "close", is_handler=True, given={"reply": ""})


def test_a_workflow_naming_unknown_states_is_a_programming_error():
    with pytest.raises(ValueError):
        Workflow("bad", {"a": "A"}, "a", (Transition("x", "X", frozenset({"a"}), "b"),))


@given(st.sampled_from(list(FLOW.states)), st.sampled_from([t.code for t in FLOW.transitions]), st.booleans())
def test_check_accepts_exactly_what_offered_lists(state, code, is_handler):
    offered = {t.code for t in FLOW.offered(state, is_handler=is_handler)}
    full = {"note": "n", "reason": "r", "reply": "p"}
    try:
        FLOW.check(state, code, is_handler=is_handler, given=full)
        accepted = True
    except TransitionRefused:
        accepted = False
    assert accepted == (code in offered)
