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
        {1: Entry(value=Decimal(10), justification="排产系统覆盖全部产线"), 2: Entry(value=Decimal(3)), 3: Entry(gate=GATE_PASS)},
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
