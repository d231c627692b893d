"""Objection rules: acceptance (period in working days, real name, seal or signature, scope) with the proposed outcome,
the workflow's offered and refused transitions, outcomes a conclusion allows, and deadline flags."""

from dataclasses import replace
from datetime import date

import pytest

from reviewapp.casework.rules import TransitionRefused
from reviewapp.objections import rules
from reviewapp.objections.rules import OBJECTION_WORKFLOW, AcceptanceFacts, CaseFacts
from reviewapp.publicity.calendar import period_end

START = date(2026, 9, 28)
END = period_end(START, 5)  # National Day and its make-up days in between

GOOD = AcceptanceFacts(
    received_on=date(2026, 10, 9),
    period_start=START,
    period_end=END,
    working_days=5,
    objector_kind="unit",
    objector_name="某检测技术有限公司",
    objector_contact="0531-88886666",
    sealed_or_signed=True,
    target_chosen=True,
    target_listed=True,
)


def failed(facts: AcceptanceFacts) -> dict[str, str]:
    return {c.code: c.reason for c in rules.acceptance_checks(facts) if not c.ok}


def test_the_period_ends_after_five_working_days_counted_on_the_official_calendar():
    assert date(2026, 10, 9) == END


def test_a_complete_objection_on_the_last_day_is_proposed_for_acceptance():
    assert failed(GOOD) == {}
    proposal = rules.propose(rules.acceptance_checks(GOOD))
    assert proposal.accept and proposal.label == "建议受理" and proposal.reasons == ()


@pytest.mark.parametrize("received", [date(2026, 10, 10), date(2026, 10, 12), date(2026, 9, 27)])
def test_received_outside_the_period_is_late_or_early(received):
    # 2026-10-10 is a Saturday make-up working day, but the period already ended on the 9th.
    problems = failed(replace(GOOD, received_on=received))
    assert set(problems) == {"period"}
    assert ("之后" if received > END else "之前") in problems["period"]
    assert rules.propose(rules.acceptance_checks(replace(GOOD, received_on=received))).reasons == (
        "超出公示期提出的异议不予受理",
    )


def test_received_on_a_holiday_inside_the_period_counts():
    assert failed(replace(GOOD, received_on=date(2026, 10, 3))) == {}


def test_no_period_set_cannot_be_accepted():
    problems = failed(replace(GOOD, period_start=None, period_end=None, working_days=None))
    assert "尚未设定公示期" in problems["period"]


def test_an_anonymous_objection_is_refused_with_the_standard_reason():
    facts = replace(GOOD, objector_kind="person", objector_name="  ", objector_contact="", sealed_or_signed=False)
    problems = failed(facts)
    assert "匿名异议" in problems["real_name"]
    proposal = rules.propose(rules.acceptance_checks(facts))
    assert not proposal.accept and proposal.reasons[0] == "匿名异议不予受理"
    assert proposal.refusal_text.startswith("匿名异议不予受理；")


def test_a_unit_needs_its_seal_and_a_person_a_signature_and_contact():
    assert failed(replace(GOOD, sealed_or_signed=False)) == {"signed": "单位异议未加盖公章。"}
    person = replace(GOOD, objector_kind="person", objector_name="张三")
    assert failed(person) == {}
    assert failed(replace(person, objector_contact="")) == {"signed": "个人异议缺少联系方式。"}
    assert failed(replace(person, sealed_or_signed=False, objector_contact="")) == {
        "signed": "个人异议缺少本人签名和联系方式。"
    }


def test_scope_is_the_publicized_list():
    assert "未针对" in failed(replace(GOOD, target_chosen=False, target_listed=False))["scope"]
    assert "不在本批次公示" in failed(replace(GOOD, target_listed=False))["scope"]


def facts(*, checks=(), reply_deadline=None, explained_on=None) -> CaseFacts:  # type: ignore[no-untyped-def]
    return CaseFacts(checks=tuple(checks), reply_deadline=reply_deadline, explained_on=explained_on)


def test_accept_is_offered_only_when_every_check_passes():
    ok = facts(checks=rules.acceptance_checks(GOOD))
    bad = facts(checks=rules.acceptance_checks(replace(GOOD, objector_name="")))
    today = date(2026, 10, 9)
    assert [t.code for t in OBJECTION_WORKFLOW.offered("registered", is_handler=False, case=ok, today=today)] == [
        "accept",
        "refuse",
    ]
    assert [t.code for t in OBJECTION_WORKFLOW.offered("registered", is_handler=False, case=bad, today=today)] == [
        "refuse"
    ]
    with pytest.raises(TransitionRefused, match="不符合受理条件"):
        OBJECTION_WORKFLOW.check("registered", "accept", is_handler=True, given={"note": "受理"}, case=bad, today=today)


def test_the_flow_runs_in_order_and_refuses_skipping():
    assert OBJECTION_WORKFLOW.final_states == frozenset({"refused", "closed"})
    with pytest.raises(TransitionRefused, match="当前状态为「已受理」，不能执行「作出核实结论」"):
        OBJECTION_WORKFLOW.check("accepted", "conclude", is_handler=True, given={"conclusion": "成立", "findings": "x"})
    with pytest.raises(TransitionRefused, match="只有该件的承办人"):
        OBJECTION_WORKFLOW.check("concluded", "apply", is_handler=False, given={"outcome": "x", "note": "x"})
    with pytest.raises(TransitionRefused, match="需要填写「承办人」、「企业说明期限」"):
        OBJECTION_WORKFLOW.check("accepted", "start", is_handler=False, given={})


def test_a_conclusion_waits_for_the_explanation_or_its_deadline():
    waiting = facts(reply_deadline=date(2026, 10, 16))
    assert OBJECTION_WORKFLOW.offered("verifying", is_handler=True, case=waiting, today=date(2026, 10, 16)) == []
    assert [
        t.code for t in OBJECTION_WORKFLOW.offered("verifying", is_handler=True, case=waiting, today=date(2026, 10, 17))
    ] == ["conclude"]
    explained = facts(reply_deadline=date(2026, 10, 16), explained_on=date(2026, 10, 14))
    assert [
        t.code
        for t in OBJECTION_WORKFLOW.offered("verifying", is_handler=True, case=explained, today=date(2026, 10, 14))
    ] == ["conclude"]


def test_outcomes_follow_the_conclusion():
    assert rules.outcome_problem("rejected", "kept") is None
    assert "只能是「保留在名单上」" in rules.outcome_problem("rejected", "removed")  # type: ignore[operator]
    assert rules.outcome_problem("upheld", "removed") is None
    assert rules.outcome_problem("upheld", "kept") is not None
    assert all(rules.outcome_problem("partly", o) is None for o in rules.OUTCOME_LABELS)


def test_the_list_reason_names_the_conclusion_and_the_objection():
    assert rules.list_reason(conclusion="upheld", number="YY-2026-00001", note=" 场景未建成 ") == (
        "异议成立：场景未建成（异议 YY-2026-00001）"
    )


def test_an_explanation_past_its_deadline_is_overdue():
    kw = {"state": "verifying", "reply_deadline": date(2026, 10, 16), "explained_on": None}
    assert not rules.is_overdue(**kw, today=date(2026, 10, 16))
    assert rules.objection_flags(**kw, today=date(2026, 10, 15))[0].css == "tag-warn"
    assert rules.is_overdue(**kw, today=date(2026, 10, 17))
    assert not rules.is_overdue(**{**kw, "explained_on": date(2026, 10, 15)}, today=date(2026, 10, 30))
    assert not rules.is_overdue(state="registered", reply_deadline=None, explained_on=None, today=date(2026, 10, 30))
