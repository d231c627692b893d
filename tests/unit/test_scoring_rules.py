"""Score values, steps, justifications, completeness and subtotals."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reviewapp.scoring.rules import (
    GATE_FAIL,
    GATE_PASS,
    Entry,
    Item,
    completeness_problems,
    needs_justification,
    parse_points,
    scoring_open,
    totals,
)

P = Item(1, "B1", "生产计划优化", "points", Decimal("10"), Decimal("0.5"), "生产管理")
Q = Item(2, "C1", "在线智能检测", "points", Decimal("6"), Decimal("1"), "生产作业")
G = Item(3, "Z1", "近三年未发生重大事故", "gate", Decimal("0"), Decimal("0"), "基本要求")


def test_points_accept_only_values_in_range_and_on_step():
    assert parse_points(P, "7.5") == (Decimal("7.5"), None)
    assert parse_points(P, "") == (None, None)
    assert parse_points(P, "7.3")[1] == "「生产计划优化」的得分须为 0.5 分的整数倍。"
    assert parse_points(P, "10.5")[1] == "「生产计划优化」的得分应在 0 到 10 分之间。"
    assert parse_points(P, "-1")[1] == "「生产计划优化」的得分应在 0 到 10 分之间。"
    assert parse_points(P, "abc")[1] == "「生产计划优化」应填写数字。"
    assert parse_points(P, "NaN")[1] == "「生产计划优化」应填写数字。"
    assert parse_points(P, "８．５") == (Decimal("8.5"), None)  # typed with a full-width input method


@given(st.decimals(min_value=-20, max_value=20, places=2))
def test_an_accepted_value_is_within_range_and_a_multiple_of_the_step(value):
    parsed, problem = parse_points(P, str(value))
    if problem is None and parsed is not None:
        assert Decimal(0) <= parsed <= P.max_points
        assert (parsed / P.step) % 1 == 0


def test_zero_full_marks_and_failed_gates_need_a_justification():
    assert needs_justification(P, Entry(value=Decimal(0)))
    assert needs_justification(P, Entry(value=Decimal(10)))
    assert not needs_justification(P, Entry(value=Decimal("9.5")))
    assert needs_justification(G, Entry(gate=GATE_FAIL))
    assert not needs_justification(G, Entry(gate=GATE_PASS))


def test_completeness_lists_every_missing_part_in_sheet_order():
    problems = completeness_problems(
        [P, Q, G],
        {1: Entry(value=Decimal(10)), 3: Entry(gate=GATE_FAIL, justification="  ")},
        opinion="太短",
        opinion_min_length=20,
    )
    assert problems == [
        "「B1 生产计划优化」给了 10 分，须填写理由。",
        "「C1 在线智能检测」尚未评分。",
        "「Z1 近三年未发生重大事故」判定为不通过，须填写理由。",
        "评审意见至少需要 20 个字（现有 2 个）。",
    ]
    complete = completeness_problems(
        [P, Q, G],
        {
            1: Entry(value=Decimal(10), justification="排产系统覆盖全部产线"),
            2: Entry(value=Decimal(3)),
            3: Entry(gate=GATE_PASS),
        },
        opinion="该企业智能化水平较高，生产管理和作业场景建设扎实，建议推荐。",
        opinion_min_length=20,
    )
    assert complete == []


def test_subtotals_per_dimension_and_gate_outcome():
    result = totals([P, Q, G], {1: Entry(value=Decimal("7.5")), 2: Entry(value=Decimal(3)), 3: Entry(gate=GATE_FAIL)})
    assert result.by_dimension == {"生产管理": Decimal("7.5"), "生产作业": Decimal(3), "基本要求": Decimal(0)}
    assert result.total == Decimal("10.5")
    assert result.gate_failed


def test_scoring_closes_after_the_deadline():
    deadline = datetime(2026, 6, 30, 10, tzinfo=UTC)
    assert scoring_open(deadline - timedelta(seconds=1), deadline)
    assert scoring_open(deadline, deadline)
    assert not scoring_open(deadline + timedelta(seconds=1), deadline)
    assert scoring_open(deadline, None)


# --- what may be done, field names, the deadline in words ----------------------------------------

NOW = datetime(2026, 6, 30, 8, tzinfo=UTC)


def test_a_sheet_is_editable_while_draft_or_returned_before_the_deadline_and_finalization():
    from reviewapp.scoring.rules import edit_refusal

    later = NOW + timedelta(hours=1)
    assert edit_refusal(status=None, now=NOW, deadline=later, finalized=False) is None
    assert edit_refusal(status="draft", now=NOW, deadline=None, finalized=False) is None
    assert edit_refusal(status="returned", now=NOW, deadline=later, finalized=False) is None
    assert "已提交" in edit_refusal(status="submitted", now=NOW, deadline=later, finalized=False)
    assert "评分已截止" in edit_refusal(
        status="draft", now=later + timedelta(seconds=1), deadline=later, finalized=False
    )
    assert "已定稿" in edit_refusal(status="returned", now=NOW, deadline=later, finalized=True)


def test_only_submitted_sheets_of_open_panels_can_be_returned():
    from reviewapp.scoring.rules import return_refusal

    assert return_refusal(status="submitted", finalized=False) is None
    assert return_refusal(status="draft", finalized=False) == "只能退回已提交的评分表。"
    assert return_refusal(status=None, finalized=False) == "只能退回已提交的评分表。"
    assert return_refusal(status="submitted", finalized=True) == "本专家组已定稿，不能退回评分表。"


def test_reasons_need_four_characters():
    from reviewapp.scoring.rules import reason_problem

    assert reason_problem("  重评  ", what="退回原因") == "请填写退回原因（至少 4 个字）。"
    assert reason_problem("分数偏高请复核", what="退回原因") is None


def test_field_names_and_gate_values():
    from reviewapp.scoring.rules import parse_field_name, parse_gate

    assert parse_field_name("score-12") == ("score", 12)
    assert parse_field_name("gate-3") == ("gate", 3)
    assert parse_field_name("just-7") == ("just", 7)
    assert parse_field_name("opinion") == ("opinion", None)
    for bad in ("score-", "score-x", "total-1", "row_version", "score-12345678901", ""):
        assert parse_field_name(bad) is None
    assert parse_gate("pass") == (GATE_PASS, None)
    assert parse_gate(" fail ") == (GATE_FAIL, None)
    assert parse_gate("") == (None, None)
    assert parse_gate("yes") == (None, "请选择「通过」或「不通过」。")


def test_completeness_issues_name_the_field_to_fix():
    from reviewapp.scoring.rules import completeness_issues

    issues = completeness_issues([P, G], {1: Entry(value=Decimal(0)), 3: Entry()}, opinion="", opinion_min_length=5)
    assert [field for field, _message in issues] == ["just-1", "gate-3", "opinion"]


def test_time_left_in_words():
    from reviewapp.scoring.rules import time_left

    assert time_left(NOW, None) == "未设截止时间"
    assert time_left(NOW, NOW + timedelta(days=3, hours=4, minutes=5)) == "剩余 3 天 4 小时"
    assert time_left(NOW, NOW + timedelta(hours=2, minutes=5)) == "剩余 2 小时 5 分钟"
    assert time_left(NOW, NOW + timedelta(minutes=25, seconds=30)) == "剩余 25 分钟"
    assert time_left(NOW, NOW + timedelta(seconds=30)) == "剩余不足 1 分钟"
    assert time_left(NOW, NOW) == "剩余不足 1 分钟"
    assert time_left(NOW, NOW - timedelta(seconds=1)) == "已截止"


@given(st.text(max_size=30))
def test_field_names_never_crash_and_only_known_kinds_pass(name):
    from reviewapp.scoring.rules import parse_field_name

    parsed = parse_field_name(name)
    assert parsed is None or parsed[0] in {"score", "gate", "just", "opinion"}
