"""Pure rules of rounds and criteria: tier defaults, setting checks, item validation, totals, freezing, Excel rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from reviewapp.rounds import rules
from reviewapp.rounds.models import Tier
from reviewapp.rounds.rules import EditMode, NodeDraft

BEIJING = ZoneInfo("Asia/Shanghai")


# --- tiers and round settings ---------------------------------------------------------------------


def test_tier_accepts_chinese_and_english_names():
    assert rules.parse_tier("基础级") == Tier.basic
    assert rules.parse_tier(" 先进级 ") == Tier.advanced
    assert rules.parse_tier("卓越级") == Tier.excellent
    assert rules.parse_tier("领航级") == Tier.leading
    assert rules.parse_tier("Excellent") == Tier.excellent
    assert rules.parse_tier("leading") == Tier.leading
    assert rules.parse_tier("高级") is None
    assert rules.parse_tier("") is None


def test_minimum_maturity_level_is_three_for_excellent_and_two_otherwise():
    assert rules.tier_defaults(Tier.excellent)["min_maturity_level"] == 3
    for tier in (Tier.basic, Tier.advanced, Tier.leading):
        assert rules.tier_defaults(tier)["min_maturity_level"] == 2


def test_advanced_tier_needs_eight_scenarios_over_three_stages_basic_only_production():
    advanced = rules.tier_defaults("advanced")
    assert advanced["min_scenarios"] == 8
    assert advanced["required_stages"] == ["生产作业", "生产管理", "运营管理"]
    basic = rules.tier_defaults("basic")
    assert basic["required_stages"] == ["生产作业"]


def test_scoring_deadline_before_application_close_is_refused():
    values = {
        "application_close": date(2026, 6, 30),
        # 2026-06-29 23:30 Beijing is 15:30 UTC on the 29th: a day before close.
        "scoring_deadline": datetime(2026, 6, 29, 15, 30, tzinfo=UTC),
    }
    assert "scoring_deadline" in rules.round_setting_problems(values, tz=BEIJING)
    # 2026-06-30 00:30 Beijing is still 2026-06-29 in UTC, but the Beijing date is what counts.
    values["scoring_deadline"] = datetime(2026, 6, 29, 16, 30, tzinfo=UTC)
    assert rules.round_setting_problems(values, tz=BEIJING) == {}


def test_fewer_minimum_scenarios_than_required_stages_is_refused():
    problems = rules.round_setting_problems(
        {"min_scenarios": 2, "required_stages": ["生产作业", "生产管理", "运营管理"]}, tz=BEIJING
    )
    assert "至少要有一个场景" in problems["min_scenarios"]


def test_tie_break_rejects_repeats_and_unknown_keys():
    assert rules.tie_break_problems(["dimension:生产作业", "maturity_score"]) is None
    assert "重复" in rules.tie_break_problems(["maturity_score", "maturity_score"])  # type: ignore[operator]
    assert rules.tie_break_problems(["random"]) is not None
    assert rules.tie_break_problems(["dimension:"]) is not None


def test_tie_break_options_offer_dimensions_then_fixed_keys_and_keep_current_values():
    options = rules.tie_break_options(["生产作业"], current=["dimension:旧维度"])
    assert list(options) == ["dimension:生产作业", "dimension:旧维度", "maturity_score", "application_order"]
    assert options["dimension:生产作业"] == "「生产作业」维度得分高者优先"


def test_split_list_accepts_chinese_and_ascii_separators():
    assert rules.split_list("石油石化、有色金属，化工;石油石化\n建材") == ["石油石化", "有色金属", "化工", "建材"]
    assert rules.split_list("  ") == []


def test_beijing_wall_clock_is_stored_as_utc():
    stored = rules.beijing_to_utc(date(2026, 7, 1), time(17, 30), BEIJING)
    assert stored == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


# --- criteria items -------------------------------------------------------------------------------


def points(code: str = "A1", max_points: str | None = "10", step: str | None = "0.5", **kw) -> NodeDraft:  # type: ignore[no-untyped-def]
    return NodeDraft(
        kind="points",
        code=code,
        title=kw.pop("title", "条目"),
        max_points=Decimal(max_points) if max_points is not None else None,
        step=Decimal(step) if step is not None else None,
        **kw,
    )


def test_a_valid_points_item_and_gate_have_no_problems():
    assert rules.node_problems(points()) == {}
    assert rules.node_problems(NodeDraft(kind="gate", code="G1", title="近三年未发生重大事故")) == {}


def test_max_must_be_a_positive_multiple_of_the_step():
    assert "整数倍" in rules.node_problems(points(max_points="10.25", step="0.5"))["max_points"]
    assert "大于 0" in rules.node_problems(points(max_points="0"))["max_points"]
    assert "大于 0" in rules.node_problems(points(max_points="-2"))["max_points"]
    assert "不能大于「满分」" in rules.node_problems(points(max_points="1", step="2"))["step"]
    assert "大于 0" in rules.node_problems(points(step="0"))["step"]
    assert "两位小数" in rules.node_problems(points(max_points="1.005", step="0.005"))["max_points"]
    assert rules.node_problems(points(max_points="10", step="0.25")) == {}


@given(st.integers(min_value=1, max_value=400), st.sampled_from(["0.5", "1", "0.25", "2"]))
def test_every_whole_number_of_steps_is_a_valid_max(multiple, step):
    max_points = Decimal(step) * multiple
    if max_points <= rules.MAX_POINTS_LIMIT:
        assert rules.node_problems(points(max_points=str(max_points), step=step)) == {}


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["0.5", "2", "3"]))
def test_a_max_between_steps_is_refused(whole, step):
    max_points = Decimal(whole) + Decimal("0.3")
    problems = rules.node_problems(points(max_points=str(max_points), step=step))
    assert {"max_points", "step"} & set(problems)


def test_step_defaults_to_half_a_point_and_gates_carry_no_points():
    assert points(step=None).normalised().step == Decimal("0.5")
    gate = NodeDraft(kind="gate", code="g1", title="否决", max_points=Decimal("5")).normalised()
    assert gate.max_points == 0 and gate.code == "G1"


def test_codes_are_normalised_and_restricted():
    assert rules.normalise_code(" ｊｂ０１ ") == "JB01"
    assert "编码" in rules.node_problems(points(code="基本1"))["code"]
    assert "必填" in rules.node_problems(points(code=""))["code"]
    assert "code" in rules.node_problems(points(code="A" * 17))
    assert rules.node_problems(points(code="jb-g1.2_a")) == {}


def test_title_is_required_and_limited():
    assert "必填" in rules.node_problems(points(title=" "))["title"]
    assert "200" in rules.node_problems(points(title="长" * 201))["title"]


# --- trees and totals -----------------------------------------------------------------------------


@dataclass
class Node:
    id: int
    parent_id: int | None
    kind: str
    code: str
    title: str = ""
    max_points: Decimal = Decimal("0")
    sort_order: int = 0
    guidance: str = ""


def sample_nodes() -> list[Node]:
    return [
        Node(2, None, "dimension", "SC", "生产作业", sort_order=2),
        Node(1, None, "dimension", "JB", "基本要求", sort_order=1),
        Node(11, 1, "points", "JB02", max_points=Decimal("3"), sort_order=2),
        Node(10, 1, "points", "JB01", max_points=Decimal("2.5"), sort_order=1),
        Node(12, 1, "gate", "JB-G1", sort_order=3),
        Node(20, 2, "points", "SC01", max_points=Decimal("4"), sort_order=1),
    ]


def test_tree_orders_dimensions_and_items_and_totals_points_only():
    tree = rules.build_tree(sample_nodes())
    assert [d.code for d in tree.dimensions] == ["JB", "SC"]
    assert [i.code for i in tree.dimensions[0].items] == ["JB01", "JB02", "JB-G1"]
    assert tree.dimensions[0].total == Decimal("5.5")
    assert tree.dimensions[0].gate_count == 1
    assert tree.total == Decimal("9.5")
    assert tree.item_count == 4
    assert tree.codes == {"JB", "SC", "JB01", "JB02", "JB-G1", "SC01"}


def test_warnings_name_a_total_other_than_100_and_empty_dimensions():
    nodes = [*sample_nodes(), Node(3, None, "dimension", "YY", "运营管理", sort_order=3)]
    warnings = rules.tree_warnings(rules.build_tree(nodes))
    assert any("运营管理" in w and "没有条目" in w for w in warnings)
    assert any("9.5" in w and "100" in w for w in warnings)
    full = [Node(1, None, "dimension", "A", "甲"), Node(2, 1, "points", "A1", max_points=Decimal("100"))]
    assert rules.tree_warnings(rules.build_tree(full)) == []
    assert rules.tree_warnings(rules.build_tree([])) == ["尚未添加任何维度和条目。"]


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=12, unique=True), st.data())
def test_moving_keeps_every_sibling_and_swaps_one_neighbour(ids, data):
    node = data.draw(st.sampled_from(ids))
    direction = data.draw(st.sampled_from(["up", "down"]))
    after = rules.moved_order(ids, node, direction)
    assert sorted(after) == sorted(ids)
    i = ids.index(node)
    at_edge = (direction == "up" and i == 0) or (direction == "down" and i == len(ids) - 1)
    assert after.index(node) == i if at_edge else after.index(node) == i + (-1 if direction == "up" else 1)
    assert rules.moved_order(after, node, "down" if direction == "up" else "up") == ids or at_edge


def test_points_are_shown_without_trailing_zeros():
    assert rules.fmt_points(Decimal("10.00")) == "10"
    assert rules.fmt_points(Decimal("2.50")) == "2.5"
    assert rules.fmt_points(Decimal("0.25")) == "0.25"
    assert rules.fmt_points(None) == ""


# --- freezing and versioning ----------------------------------------------------------------------


def test_a_frozen_version_is_edited_as_a_new_version():
    assert rules.edit_decision(is_template=False, frozen=True, is_admin=False).mode == EditMode.new_version
    assert rules.edit_decision(is_template=False, frozen=False, is_admin=False).mode == EditMode.in_place


def test_only_administrators_edit_templates():
    refused = rules.edit_decision(is_template=True, frozen=False, is_admin=False)
    assert refused.mode == EditMode.refused and "复制为新版本" in refused.reason
    assert rules.edit_decision(is_template=True, frozen=False, is_admin=True).mode == EditMode.in_place


def test_a_round_gets_its_own_copy_of_templates_and_shared_versions():
    assert rules.round_needs_copy(is_template=True, used_by_other_round=False, frozen=False)
    assert rules.round_needs_copy(is_template=False, used_by_other_round=True, frozen=False)
    assert rules.round_needs_copy(is_template=False, used_by_other_round=False, frozen=True)
    assert not rules.round_needs_copy(is_template=False, used_by_other_round=False, frozen=False)


def test_criteria_cannot_be_swapped_once_scoring_started():
    assert rules.criteria_change_refusal(scoring_started=True)
    assert rules.criteria_change_refusal(scoring_started=False) is None


# --- Excel rows -----------------------------------------------------------------------------------


def row(
    n: int,
    dim: str = "JB",
    dim_name: str = "基本要求",
    code: str = "",
    title: str = "",
    kind: str = "分值",
    max_points: str = "",
    step: str = "",
    guidance: str = "",
) -> tuple[int, dict[str, str]]:
    return n, {
        "维度编码": dim,
        "维度名称": dim_name,
        "条目编码": code,
        "条目名称": title,
        "类型": kind if code or title else "",
        "满分": max_points,
        "步长": step,
        "评分指引": guidance,
    }


def test_good_rows_become_a_tree_with_totals():
    parsed = rules.parse_criteria_rows(
        [
            row(3, code="JB01", title="企业规模", max_points="60", step="0.5", guidance="看规模"),
            row(4, code="JB-G1", title="无重大事故", kind="一票否决"),
            row(5, dim="SC", dim_name="生产作业", code="SC01", title="在线检测", max_points="40", step="1"),
            row(6, dim="YY", dim_name="运营管理"),
        ]
    )
    assert parsed.problems == []
    assert parsed.ok
    assert [d.draft.code for d in parsed.dimensions] == ["JB", "SC", "YY"]
    assert parsed.total == Decimal("100")
    assert parsed.item_count == 3
    assert parsed.dimensions[0].items[1].draft.kind == "gate"
    assert parsed.dimensions[2].items == []


def test_every_bad_row_and_field_is_reported():
    parsed = rules.parse_criteria_rows(
        [
            row(3, code="JB01", title="企业规模", max_points="十分", step="0.5"),
            row(4, code="JB02", title="", kind="评级", max_points="5"),
            row(5, code="JB01", title="重复编码", max_points="5", step="0.5"),
            row(6, code="JB03", title="步长不整", max_points="5.3", step="0.5"),
            row(7, dim="JB", dim_name="别的名字", code="JB04", title="名称冲突", max_points="1"),
            row(8, code="G1", title="否决带分", kind="否决项", max_points="5"),
            row(9, dim="", dim_name="", code="X1", title="无维度", max_points="1"),
            row(10, dim="JB", code="JB05", title="", kind="", max_points=""),
        ]
    )
    found = {(p.row, p.column) for p in parsed.problems}
    assert (3, "满分") in found
    assert (4, "条目名称") in found and (4, "类型") in found
    assert (5, "条目编码") in found
    assert (6, "满分") in found
    assert (7, "维度名称") in found
    assert (8, "满分") in found
    assert (9, "维度编码") in found and (9, "维度名称") in found
    assert (10, "条目名称") in found and (10, "类型") in found
    assert not parsed.ok
    messages = " ".join(p.message for p in parsed.problems)
    assert "十分" in messages and "第 3 行" in messages and "否决项" in messages
    assert [p.row for p in parsed.problems] == sorted(p.row for p in parsed.problems)


def test_item_code_clashing_with_a_dimension_code_is_reported():
    parsed = rules.parse_criteria_rows([row(2, code="JB", title="与维度同编码", max_points="1")])
    assert [(p.row, p.column) for p in parsed.problems] == [(2, "条目编码")]


def test_same_dimension_name_under_two_codes_is_reported():
    parsed = rules.parse_criteria_rows(
        [
            row(2, dim="JB", code="A1", title="甲", max_points="1"),
            row(3, dim="JC", code="A2", title="乙", max_points="1"),
        ]
    )
    assert [(p.row, p.column) for p in parsed.problems] == [(3, "维度编码")]


def test_empty_and_oversized_sheets_are_refused():
    assert rules.parse_criteria_rows([]).problems[0].message == "表格中没有数据行。"
    many = [row(i, code=f"A{i}", title="条", max_points="1") for i in range(rules.IMPORT_MAX_ROWS + 1)]
    assert "行数过多" in rules.parse_criteria_rows(many).problems[0].message
