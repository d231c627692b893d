"""Pure application rules: credit codes, industry codes, enumerations, scenario lists, formal-review checks."""

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reviewapp.applications import rules
from reviewapp.applications.rules import Ban, FormalFacts, FormalSettings
from tests.factories import VALID_CREDIT_CODES

TODAY = date(2026, 5, 9)
SETTINGS = FormalSettings()
FULL_SCENARIOS = [
    ("生产计划优化", "生产管理", True), ("车间智能排产", "生产管理", True), ("设备运行监控", "生产作业", True),
    ("在线智能检测", "生产作业", True), ("质量精准追溯", "生产作业", True), ("智能经营决策", "运营管理", True),
    ("数智精益管理", "运营管理", True), ("能源智能管控", "生产管理", True),
]  # fmt: skip


def facts(**overrides) -> FormalFacts:  # type: ignore[no-untyped-def]
    values = dict(
        tier="advanced", credit_code="91370000163044841F", above_designated_size=True, is_branch=False,
        branch_industry="", maturity_level=2, scenarios=FULL_SCENARIOS,
    )  # fmt: skip
    values.update(overrides)
    return FormalFacts(**values)


def failed(checks) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.code: c.reason for c in checks if c.open_failure}


# --- credit codes -----------------------------------------------------------------------------------


def test_known_valid_codes_pass():
    for code in VALID_CREDIT_CODES:
        assert rules.credit_code_problem(code) is None


def test_wrong_check_character_is_rejected_naming_the_expected_one():
    code, problem = rules.check_credit_code("91370000163044841G")
    assert code == "91370000163044841G"
    assert problem is not None and "校验位" in problem and "「F」" in problem


def test_lower_case_and_full_width_are_normalised():
    assert rules.check_credit_code("91370000163044841f") == ("91370000163044841F", None)
    assert rules.check_credit_code("９１３７００００１６３０４４８４１Ｆ") == ("91370000163044841F", None)
    assert rules.check_credit_code(" 9137 0000 1630 4484 1F ") == ("91370000163044841F", None)


def test_wrong_length_and_forbidden_letters():
    assert "18 位" in rules.credit_code_problem("9137000016304484")  # type: ignore[operator]
    assert "「O」" in rules.credit_code_problem("9137000016304484OF")  # type: ignore[operator]


@given(st.text(alphabet=rules.CREDIT_CODE_CHARS, min_size=17, max_size=17))
def test_computed_check_character_always_validates(first17):
    code = "91" + "370100" + first17[8:]
    code = code[:17]
    assert rules.credit_code_problem(code + rules.credit_code_check_char(code)) is None


@given(st.sampled_from(VALID_CREDIT_CODES), st.integers(0, 16), st.sampled_from(rules.CREDIT_CODE_CHARS))
def test_any_single_character_change_is_caught(code, position, char):
    changed = code[:position] + char + code[position + 1 :]
    if changed != code and changed[2:8].isdigit():
        assert rules.credit_code_problem(changed) is not None


# --- industry codes and enumerations ----------------------------------------------------------------

DIVISIONS = {str(d) for d in range(13, 44)}


def test_small_class_must_begin_with_its_middle_class():
    problems = rules.industry_code_problems("341", "3511", known_divisions=DIVISIONS)
    assert problems == [("行业小类", "行业小类「3511」应以其行业中类「341」开头。")]


def test_industry_code_formats_and_known_division():
    assert rules.industry_code_problems("C341", "C3411 锅炉及辅助设备制造", known_divisions=DIVISIONS) == []
    assert rules.industry_code_problems("3411", "", known_divisions=DIVISIONS)[0][0] == "行业中类"
    assert rules.industry_code_problems("", "341", known_divisions=DIVISIONS)[0][0] == "行业小类"
    assert "不在国民经济行业分类目录中" in rules.industry_code_problems("991", "", known_divisions=DIVISIONS)[0][1]


def test_enumerated_values_and_their_common_spellings():
    assert rules.normalise_choice("民营", rules.ENUMERATIONS["企业性质"]) == "民营企业"
    assert rules.normalise_choice("央企", rules.ENUMERATIONS["企业性质"]) == "中央企业"
    assert rules.normalise_choice("大 型", rules.ENUMERATIONS["企业类型"]) == "大型企业"
    assert rules.normalise_choice("装备制造业", rules.ENUMERATIONS["所属行业"]) == "装备制造"
    assert rules.normalise_choice("个体户", rules.ENUMERATIONS["企业性质"]) is None
    assert rules.parse_tier("先进级") == "advanced" and rules.parse_tier("基础") == "basic"
    assert rules.parse_tier("高级") is None
    assert rules.parse_yes_no("是") is True and rules.parse_yes_no("否") is False and rules.parse_yes_no("也许") is None


def test_maturity_level_from_text_and_from_score():
    assert [rules.parse_maturity_level(t) for t in ("二级", "3级", "L4", "规范级", "一级（规划级）", "x")] == [
        2,
        3,
        4,
        2,
        1,
        None,
    ]
    bands = [rules.LevelBand(1, 0.8, 1.8), rules.LevelBand(2, 1.8, 2.8), rules.LevelBand(5, 4.8, 5.0)]
    assert rules.level_for_score(Decimal("1.8"), bands) == 2
    assert rules.level_for_score(Decimal("1.79"), bands) == 1
    assert rules.level_for_score(Decimal("5.0"), bands) == 5
    assert rules.parse_score("2.35分") == Decimal("2.35") and rules.parse_score("良好") is None


def test_scenario_lists_split_on_every_separator_office_use():
    text = "1.生产计划优化、车间智能排产，设备运行监控;在线智能检测；质量精准追溯\n智能经营决策\r\n①数智精益管理②能源智能管控"
    assert rules.split_scenarios(text) == [
        "生产计划优化", "车间智能排产", "设备运行监控", "在线智能检测", "质量精准追溯", "智能经营决策", "数智精益管理",
        "能源智能管控",
    ]  # fmt: skip
    assert rules.split_scenarios("生产计划优化、生产计划优化") == ["生产计划优化"]


def test_parties_with_codes_in_brackets_or_in_their_own_column():
    assert rules.parse_parties("甲科技有限公司（91370000163044841F）、乙软件有限公司") == [
        ("甲科技有限公司", "91370000163044841F"), ("乙软件有限公司", ""),
    ]  # fmt: skip
    assert rules.parse_parties("甲科技有限公司", "91110000100010433L") == [("甲科技有限公司", "91110000100010433L")]


# --- formal review -----------------------------------------------------------------------------------


def test_clean_advanced_application_passes_every_check():
    checks = rules.formal_checks(facts(), SETTINGS, today=TODAY)
    assert failed(checks) == {}
    assert {c.code for c in checks} == {
        "above_size", "legal_person", "maturity", "scenarios", "catalogue", "accident", "dishonesty", "revocation_ban",
    }  # fmt: skip


def test_not_above_designated_size_fails():
    assert "above_size" in failed(rules.formal_checks(facts(above_designated_size=False), SETTINGS, today=TODAY))


def test_branch_allowed_only_in_the_rounds_branch_industries():
    ok = rules.formal_checks(facts(is_branch=True, branch_industry="有色金属"), SETTINGS, today=TODAY)
    assert "legal_person" not in failed(ok)
    bad = failed(rules.formal_checks(facts(is_branch=True, branch_industry="化工"), SETTINGS, today=TODAY))
    assert "石油石化、有色金属" in bad["legal_person"]


def test_maturity_below_round_minimum_or_missing_fails():
    assert (
        "低于本批次要求的二级"
        in failed(rules.formal_checks(facts(maturity_level=1), SETTINGS, today=TODAY))["maturity"]
    )
    assert "未提供" in failed(rules.formal_checks(facts(maturity_level=None), SETTINGS, today=TODAY))["maturity"]
    strict = FormalSettings(min_maturity_level=3)
    assert "maturity" in failed(rules.formal_checks(facts(maturity_level=2), strict, today=TODAY))


def test_advanced_needs_enough_scenarios_covering_required_stages():
    few = failed(rules.formal_checks(facts(scenarios=FULL_SCENARIOS[:5]), SETTINGS, today=TODAY))["scenarios"]
    assert "5 个" in few and "运营管理" in few
    no_ops = [s for s in FULL_SCENARIOS if s[1] != "运营管理"] + [("柔性产线快速换产", "生产作业", True)] * 2
    assert (
        "未覆盖环节：运营管理"
        in failed(rules.formal_checks(facts(scenarios=no_ops), SETTINGS, today=TODAY))["scenarios"]
    )
    basic = rules.formal_checks(facts(tier="basic", scenarios=FULL_SCENARIOS[:2]), SETTINGS, today=TODAY)
    assert "scenarios" not in {c.code for c in basic}


def test_unknown_scenario_names_fail_and_do_not_count():
    scenarios = FULL_SCENARIOS[:7] + [("智能仓储机器人集群调度", "", False)]
    bad = failed(rules.formal_checks(facts(scenarios=scenarios), SETTINGS, today=TODAY))
    assert "智能仓储机器人集群调度" in bad["catalogue"]
    assert "7 个" in bad["scenarios"]


def test_excellent_needs_an_active_advanced_certification():
    without = failed(rules.formal_checks(facts(tier="excellent", maturity_level=3), SETTINGS, today=TODAY))
    assert "advanced_cert" in without
    expired = rules.formal_checks(
        facts(tier="excellent", advanced_certified_until=[date(2026, 1, 1)]), SETTINGS, today=TODAY
    )
    assert "advanced_cert" in failed(expired)
    valid = rules.formal_checks(
        facts(tier="excellent", advanced_certified_until=[date(2027, 1, 1)]), SETTINGS, today=TODAY
    )
    assert "advanced_cert" not in failed(valid)


def test_accident_and_serious_dishonesty_fail():
    bad = failed(rules.formal_checks(facts(major_accident=True, serious_dishonesty=True), SETTINGS, today=TODAY))
    assert {"accident", "dishonesty"} <= set(bad)


def test_revocation_ban_fails_with_the_ban_date_until_it_ends():
    ban = Ban(banned_until=date(2027, 3, 1), revoked_on=date(2024, 3, 1), reason="发生环境事故")
    bad = failed(rules.formal_checks(facts(bans=[ban]), SETTINGS, today=TODAY))["revocation_ban"]
    assert "2027年3月1日前不得申报" in bad and "发生环境事故" in bad
    on_last_day = rules.formal_checks(facts(bans=[ban]), SETTINGS, today=date(2027, 3, 1))
    assert "revocation_ban" in failed(on_last_day)
    after = rules.formal_checks(facts(bans=[ban]), SETTINGS, today=date(2027, 3, 2))
    assert "revocation_ban" not in failed(after)


def test_missing_credit_code_cannot_be_cleared_of_a_ban():
    assert (
        "缺少统一社会信用代码"
        in failed(rules.formal_checks(facts(credit_code=None), SETTINGS, today=TODAY))["revocation_ban"]
    )


def test_overrides_clear_a_failure_and_decisions_follow_open_failures():
    checks = rules.formal_checks(facts(above_designated_size=False), SETTINGS, today=TODAY)
    assert not rules.decide(checks, passed=True, note="").allowed
    assert rules.failed_codes(checks) == ",above_size,"
    waived = rules.apply_overrides(checks, {"above_size": "统计局已确认2025年纳入规上统计"})
    assert rules.failed_codes(waived) == ""
    assert rules.decide(waived, passed=True, note="").allowed
    clean = rules.formal_checks(facts(), SETTINGS, today=TODAY)
    assert not rules.decide(clean, passed=False, note="").allowed
    assert rules.decide(clean, passed=False, note="申报材料不齐全").allowed
