"""The shared case persistence on its own workflow (as objections will use it): steps, audit, row_version, handlers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.casework import service as casework
from reviewapp.casework.models import CaseStep
from reviewapp.casework.rules import Transition, Workflow
from reviewapp.errors import Conflict, ServiceError
from reviewapp.reports.models import Report
from tests.conftest import reread

# Any row with id, state and row_version can be a case; a report row stands in for an objection here.
FLOW = Workflow(
    name="demo_case",
    states={"new": "已登记", "open": "核实中", "done": "已办结"},
    initial="new",
    transitions=(
        Transition("open", "开始核实", frozenset({"new"}), "open", requires=("handlers",), handler_only=False),
        Transition(
            "close",
            "办结",
            frozenset({"open"}),
            "done",
            requires=("reply",),
            precondition=lambda case, today: None if today >= date(2026, 1, 1) else "2026 年起才能办结。",
        ),
    ),
    field_labels={"handlers": "承办人", "reply": "答复情况"},
)
casework.register_workflow_labels(FLOW, entity_label="演示件", events={"remind": "催办"})


@pytest.fixture
def case(db):  # type: ignore[no-untyped-def]
    row = Report(
        number="DEMO-1", channel="信函", received_on=date(2025, 12, 1), target_name="某", content="x", state="new"
    )
    db.add(row)
    db.commit()
    return row


def test_a_transition_moves_the_state_and_writes_its_step_and_audit(db, case, make_user):
    user = make_user("banli", Role.staff, display_name="办理人")
    actor = Actor(user.id, user.username)
    step = casework.apply_transition(
        db,
        workflow=FLOW,
        case=case,
        code="open",
        actor=actor,
        is_handler=False,
        note="请核实",
        data={"handlers": ["办理人"]},
        today=date(2025, 12, 2),
        row_version=1,
    )
    casework.set_handlers(db, workflow=FLOW, case=case, user_ids=[user.id], actor=actor, record=False)
    db.commit()
    assert (case.state, case.row_version) == ("open", 2)
    assert (step.case_type, step.seq, step.from_state, step.to_state, step.note) == (
        "demo_case",
        1,
        "new",
        "open",
        "请核实",
    )
    assert step.data == {"handlers": ["办理人"]} and casework.step_label(FLOW, step) == "开始核实"
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "demo_case.open")).one()
    assert entry.summary == "演示件 DEMO-1：开始核实（已登记 → 核实中）" and entry.actor_id == user.id
    assert casework.is_handler(db, case_type="demo_case", case_id=case.id, user_id=user.id)
    assert not casework.is_handler(db, case_type="report", case_id=case.id, user_id=user.id)  # types do not mix

    with pytest.raises(Conflict):
        casework.apply_transition(
            db,
            workflow=FLOW,
            case=case,
            code="close",
            actor=actor,
            is_handler=True,
            note="",
            data={"reply": "已答复"},
            today=date(2026, 1, 2),
            row_version=1,
        )
    with pytest.raises(ServiceError, match="2026 年起才能办结"):
        casework.apply_transition(
            db,
            workflow=FLOW,
            case=case,
            code="close",
            actor=actor,
            is_handler=True,
            note="",
            data={"reply": "已答复"},
            today=date(2025, 12, 31),
            row_version=2,
        )
    with pytest.raises(ServiceError, match="只有该件的承办人"):
        casework.apply_transition(
            db,
            workflow=FLOW,
            case=case,
            code="close",
            actor=actor,
            is_handler=False,
            note="",
            data={"reply": "已答复"},
            today=date(2026, 1, 2),
            row_version=2,
        )

    casework.record_event(db, workflow=FLOW, case=case, code="remind", actor=actor, note="电话催办")
    casework.apply_transition(
        db,
        workflow=FLOW,
        case=case,
        code="close",
        actor=actor,
        is_handler=True,
        note="",
        data={"reply": "已答复"},
        today=date(2026, 1, 2),
        row_version=2,
    )
    db.commit()
    steps = casework.case_steps(db, case_type="demo_case", case_id=case.id)
    assert [(s.seq, s.code, s.is_transition) for s in steps] == [
        (1, "open", True),
        (2, "remind", False),
        (3, "close", True),
    ]
    assert casework.step_label(FLOW, steps[1]) == "催办"
    with pytest.raises(ServiceError, match="不能再补充"):
        casework.record_event(db, workflow=FLOW, case=case, code="remind", actor=actor, note="迟到的催办")
    # A note is still allowed on a closed case.
    casework.record_event(db, workflow=FLOW, case=case, code="note", actor=actor, note="归档")
    assert db.exec(select(CaseStep).where(CaseStep.code == "note")).one().to_state == "done"


def test_only_active_staff_can_be_handlers(db, case, make_user):
    expert = make_user("zhuanjia", Role.expert)
    actor = Actor.system("测试")
    with pytest.raises(ServiceError, match="承办人只能是在用的工作人员账号"):
        casework.set_handlers(db, workflow=FLOW, case=case, user_ids=[expert.id], actor=actor)
    with pytest.raises(ServiceError, match="请至少指定一名承办人"):
        casework.set_handlers(db, workflow=FLOW, case=case, user_ids=[], actor=actor)
    staff = make_user("banli", Role.staff, display_name="办理人")
    reread(db)
    casework.set_handlers(db, workflow=FLOW, case=case, user_ids=[staff.id, staff.id], actor=actor, note="指定")
    db.commit()
    assert [u.username for u in casework.handlers(db, case_type="demo_case", case_id=case.id)] == ["banli"]
    [step] = casework.case_steps(db, case_type="demo_case", case_id=case.id)
    assert (
        step.code == "assign"
        and step.data == {"handlers": ["办理人"]}
        and casework.step_label(FLOW, step) == "指定承办人"
    )
