"""Workflows as data: states, the transitions between them, who may take each, and what each must record.

Pure: the caller says whether the acting user handles the case and what was filled in; the workflow answers
which transitions are offered and refuses the others with a reason in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# A precondition looks at the case (any object with the attributes it needs) and today's date and returns
# why the transition cannot be taken now, or None. Pure: the date is passed in, never read from a clock.
Precondition = Callable[[Any, date], "str | None"]


class TransitionRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Transition:
    code: str
    label: str  # the button users see, e.g. 受理
    source: frozenset[str]
    target: str
    requires: tuple[str, ...] = ()  # names of values that must be recorded (note, handler, deadline, conclusion…)
    handler_only: bool = True  # only staff assigned to the case may take it (registering staff may accept/refuse)
    precondition: Precondition | None = None  # e.g. "only after the reply deadline has passed"


def start_verifying(label: str) -> Transition:
    """开始核实, the step every case kind shares: accepted → verifying, naming the handlers and the reply deadline
    (taken by any staff member, since this step assigns the handlers)."""
    return Transition(
        "start",
        label,
        frozenset({"accepted"}),
        "verifying",
        requires=("handlers", "reply_deadline"),
        handler_only=False,
    )


@dataclass(frozen=True)
class Workflow:
    name: str
    states: Mapping[str, str]  # code -> Chinese label
    initial: str
    transitions: tuple[Transition, ...]
    field_labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        codes = [t.code for t in self.transitions]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{self.name}: duplicate transition codes")
        known = set(self.states)
        for t in self.transitions:
            if not t.source <= known or t.target not in known:
                raise ValueError(f"{self.name}: transition {t.code} names an unknown state")
        if self.initial not in known:
            raise ValueError(f"{self.name}: unknown initial state")

    @property
    def final_states(self) -> frozenset[str]:
        sources = set().union(*(t.source for t in self.transitions))
        return frozenset(s for s in self.states if s not in sources)

    def label(self, state: str) -> str:
        return self.states.get(state, state)

    def transition(self, code: str) -> Transition | None:
        return next((t for t in self.transitions if t.code == code), None)

    def offered(self, state: str, *, is_handler: bool, case: Any = None, today: date | None = None) -> list[Transition]:
        """The transitions to show as actions for a case in `state` (preconditions checked when case and today are given)."""
        return [
            t
            for t in self.transitions
            if state in t.source
            and (is_handler or not t.handler_only)
            and (t.precondition is None or case is None or today is None or t.precondition(case, today) is None)
        ]

    def waiting(self, state: str, *, is_handler: bool, case: Any, today: date) -> list[tuple[Transition, str]]:
        """Transitions this user could take from `state` but not yet, each with the reason (shown as a hint)."""
        out = []
        for t in self.transitions:
            if state in t.source and (is_handler or not t.handler_only) and t.precondition is not None:
                reason = t.precondition(case, today)
                if reason is not None:
                    out.append((t, reason))
        return out

    def permits(self, state: str, code: str, *, is_handler: bool) -> Transition:
        """The transition if this user may take it from `state` at all (before looking at what was filled in),
        else TransitionRefused: callers check this first so that a refusal names the real obstacle."""
        transition = self.transition(code)
        if transition is None:
            raise TransitionRefused("未知的办理操作。")
        if state not in transition.source:
            raise TransitionRefused(
                f"当前状态为「{self.label(state)}」，不能执行「{transition.label}」。请刷新页面查看最新状态。"
            )
        if transition.handler_only and not is_handler:
            raise TransitionRefused(f"只有该件的承办人可以执行「{transition.label}」。")
        return transition

    def check(
        self,
        state: str,
        code: str,
        *,
        is_handler: bool,
        given: Mapping[str, object],
        case: Any = None,
        today: date | None = None,
    ) -> Transition:
        """The transition to take, or TransitionRefused saying why not."""
        transition = self.permits(state, code, is_handler=is_handler)
        missing = [name for name in transition.requires if given.get(name) in (None, "", [], ())]
        if missing:
            names = "、".join(f"「{self.field_labels.get(n, n)}」" for n in missing)
            raise TransitionRefused(f"执行「{transition.label}」需要填写{names}。")
        if transition.precondition is not None:
            if case is None or today is None:
                raise TransitionRefused(f"无法判断现在能否执行「{transition.label}」。")  # a caller's mistake
            reason = transition.precondition(case, today)
            if reason is not None:
                raise TransitionRefused(reason)
        return transition
