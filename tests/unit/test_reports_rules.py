"""Certification dates, bans, filing deadlines, overdue flags, receipt codes and the 普及率 figure (pure rules)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewapp.casework.rules import TransitionRefused
from reviewapp.reports import rules
from reviewapp.reports.rules import REPORT_WORKFLOW

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


# --- ban (第二十条) --------------------------------------------------------------------------------


def test_ban_ends_three_years_later_on_the_same_day():
    assert rules.ban_until(date(2026, 3, 10)) == date(2029, 3, 10)


def test_ban_from_29_february_ends_on_28_february():
    assert rules.ban_until(date(2028, 2, 29)) == date(2031, 2, 28)


@given(days)
def test_ban_is_never_shorter_than_three_years(revoked_on):
    end = rules.ban_until(revoked_on)
    assert (end - revoked_on).days >= 3 * 365
    assert end.year == revoked_on.year + 3


def test_a_ban_includes_its_last_day():
    until = date(2029, 3, 10)
    assert rules.is_banned(until, date(2029, 3, 10))
    assert not rules.is_banned(until, date(2029, 3, 11))


# --- validity and re-review (第十七、十八条) -------------------------------------------------------


def test_excellent_and_leading_last_three_years_whatever_the_round_says():
    assert rules.validity_years("excellent", 5) == 3
    assert rules.validity_years("leading", 1) == 3
    assert rules.validity_years("advanced", 5) == 5
    assert rules.validity_years("basic", 2) == 2


def test_validity_ends_the_day_before_the_anniversary():
    assert rules.validity_end(date(2026, 1, 15), 3) == date(2029, 1, 14)
    assert rules.validity_end(date(2026, 3, 1), 3) == date(2029, 2, 28)


def test_rereview_is_due_three_months_before_the_end():
    assert rules.rereview_due(date(2029, 1, 14)) == date(2028, 10, 14)
    assert rules.rereview_due(date(2029, 5, 31)) == date(2029, 2, 28)  # clamped to the month's end


def test_a_passed_rereview_extends_three_years_from_the_old_end():
    assert rules.extended_valid_to(date(2029, 1, 14)) == date(2032, 1, 14)


@given(days)
def test_add_months_round_trip_never_moves_later(day):
    back = rules.add_months(rules.add_months(day, 3), -3)
    assert back <= day and (day - back).days < 4


def test_expiring_alerts_follow_the_rereview_deadline():
    valid_to = date(2027, 2, 5)  # re-review due 2026-11-05

    def alert(today):
        return rules.certification_alert(status="active", valid_to=valid_to, today=today)

    assert alert(date(2026, 7, 1)) is None
    assert alert(date(2026, 8, 5)).label == "应于 2026-11-05 前申请复核"
    assert alert(date(2026, 11, 5)).css == "tag-warn"
    assert alert(date(2026, 11, 6)).label == "复核申请期限（2026-11-05）已过"
    assert alert(date(2027, 2, 6)).label == "已到期，待记录复核结果"
    assert rules.certification_alert(status="revoked", valid_to=valid_to, today=date(2027, 2, 6)) is None


# --- major changes (第十九条) ----------------------------------------------------------------------


def test_major_change_filing_is_due_within_three_months():
    changed = date(2026, 5, 31)
    assert rules.major_change_due(changed) == date(2026, 8, 31)

    def status(filed, today):
        return rules.major_change_status(changed_on=changed, filed_on=filed, today=today)

    assert status(date(2026, 8, 31), date(2026, 9, 10)).label == "按期备案"
    assert status(date(2026, 9, 1), date(2026, 9, 10)).label.startswith("逾期备案")
    assert status(None, date(2026, 8, 31)).label.startswith("待备案")
    assert status(None, date(2026, 9, 1)).urgent


# --- overdue detection -----------------------------------------------------------------------------


def test_reply_overdue_only_after_the_deadline_day():
    deadline = date(2026, 11, 12)

    def flags(today):
        return rules.report_flags(state="verifying", reply_deadline=deadline, rectify_deadline=None, today=today)

    assert flags(date(2026, 11, 1)) == []
    assert flags(date(2026, 11, 10))[0].css == "tag-warn"  # due soon, not overdue
    assert not rules.is_overdue(state="verifying", reply_deadline=deadline, rectify_deadline=None, today=deadline)
    assert rules.is_overdue(state="verifying", reply_deadline=deadline, rectify_deadline=None, today=date(2026, 11, 13))
    # Once the unit has replied the deadline no longer matters.
    assert not rules.is_overdue(state="replied", reply_deadline=deadline, rectify_deadline=None, today=date(2027, 1, 1))


def test_rectification_overdue_and_no_reply_are_flagged():
    assert rules.is_overdue(
        state="rectifying", reply_deadline=None, rectify_deadline=date(2026, 1, 1), today=date(2026, 1, 2)
    )
    assert rules.is_overdue(
        state="no_reply", reply_deadline=date(2026, 1, 1), rectify_deadline=None, today=date(2026, 1, 2)
    )


class _Case:
    def __init__(self, **kw):  # type: ignore[no-untyped-def]
        self.reply_deadline = kw.get("reply_deadline")
        self.certification_id = kw.get("certification_id")


def test_no_reply_can_be_marked_only_after_the_deadline():
    case = _Case(reply_deadline=date(2026, 11, 12))

    def offered(today):
        return [t.code for t in REPORT_WORKFLOW.offered("verifying", is_handler=True, case=case, today=today)]

    assert "mark_overdue" not in offered(date(2026, 11, 12))
    assert "mark_overdue" in offered(date(2026, 11, 13))
    with pytest.raises(TransitionRefused, match="届满后才能标记逾期未答复"):
        REPORT_WORKFLOW.check(
            "verifying", "mark_overdue", is_handler=True, given={}, case=case, today=date(2026, 11, 12)
        )
    waiting = REPORT_WORKFLOW.waiting("verifying", is_handler=True, case=case, today=date(2026, 11, 1))
    assert [t.code for t, _reason in waiting] == ["mark_overdue"]


def test_revocation_needs_a_linked_certification_and_concluding_needs_a_handler():
    unlinked = _Case()
    codes = {
        t.code for t in REPORT_WORKFLOW.offered("no_reply", is_handler=True, case=unlinked, today=date(2026, 1, 1))
    }
    assert codes == {"conclude_unfounded", "conclude_rectify"}
    linked = _Case(certification_id=1)
    codes = {t.code for t in REPORT_WORKFLOW.offered("no_reply", is_handler=True, case=linked, today=date(2026, 1, 1))}
    assert "conclude_revoke" in codes
    assert REPORT_WORKFLOW.offered("no_reply", is_handler=False, case=linked, today=date(2026, 1, 1)) == []


def test_every_state_has_a_public_label_and_closing_is_final():
    assert set(rules.PUBLIC_STATE_LABELS) == set(REPORT_WORKFLOW.states)
    assert REPORT_WORKFLOW.final_states == frozenset({"refused", "closed"})


def test_outcomes_for_the_annual_figures():
    assert rules.report_outcome(state="refused", conclusion="") == "refused"
    assert rules.report_outcome(state="closed", conclusion="revocation") == "revocation"
    assert rules.report_outcome(state="rectifying", conclusion="rectification") == "rectification"
    assert rules.report_outcome(state="verifying", conclusion="") == "open"


# --- receipt codes ---------------------------------------------------------------------------------


def test_receipt_codes_are_read_with_spaces_dashes_and_full_width_digits():
    code = "12345678901234567890"
    assert rules.normalise_receipt_code("1234 5678-9012 3456 7890") == code
    assert rules.normalise_receipt_code("１２３４５６７８９０１２３４５６７８９０") == code
    assert rules.normalise_receipt_code(rules.format_receipt_code(code)) == code
    assert rules.normalise_receipt_code("1234") is None
    assert rules.normalise_receipt_code("1234567890123456789a") is None
    assert rules.normalise_receipt_code("") is None


def test_receipt_hash_depends_on_the_secret_and_the_code():
    a = rules.receipt_hash("secret-one", "12345678901234567890")
    assert a == rules.receipt_hash("secret-one", "12345678901234567890")
    assert a != rules.receipt_hash("secret-two", "12345678901234567890")
    assert a != rules.receipt_hash("secret-one", "12345678901234567891")
    assert len(a) == 64 and "12345678901234567890" not in a


# --- 普及率 and credit codes ------------------------------------------------------------------------


def test_penetration_rate_is_a_percentage_with_one_decimal():
    assert str(rules.penetration_rate(total=4213, level2=1156)) == "27.4"
    assert rules.penetration_rate(total=0, level2=0) is None
    assert rules.penetration_problems(total=10, level2=11) == {
        "above_size_level2": "「二级及以上企业数」不能大于规上工业企业总数。"
    }
