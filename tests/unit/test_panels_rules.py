"""Each conflict-of-interest rule, its switch, and the words it records."""

from datetime import date

import pytest

from reviewapp.panels.models import ConflictRule
from reviewapp.panels.rules import (
    ApplicationFacts,
    CoiSettings,
    Employment,
    ExpertFacts,
    Party,
    Relation,
    conflicts_between,
    employment_cutoff,
    normalise_org_name,
    parse_period,
    rule_declared_relation,
    rule_employment,
    rule_provider,
    rule_same_city,
    rule_same_credit_code,
    same_org,
)

TODAY = date(2026, 6, 15)
APPLICANT = "91370000163044841F"
GROUP = "91110000100010433L"
PROVIDER = "91310000132204065H"
OTHER = "91440300192317458F"


def app(**overrides) -> ApplicationFacts:  # type: ignore[no-untyped-def]
    values = {
        "id": 1,
        "enterprise_name": "山东智造机械有限公司",
        "credit_code": APPLICANT,
        "group_name": "鲁工集团有限公司",
        "group_credit_code": GROUP,
        "city": "济南市",
        "parties": (Party("provider", "上海工业软件有限公司", PROVIDER), Party("consultant", "齐鲁咨询有限公司", "")),
    }
    values.update(overrides)
    return ApplicationFacts(**values)


def expert(**overrides) -> ExpertFacts:  # type: ignore[no-untyped-def]
    values = {"id": 7, "name": "王工", "employer": "某大学", "employer_credit_code": OTHER, "city": "青岛市"}
    values.update(overrides)
    return ExpertFacts(**values)


# --- matching organisations ---


def test_same_org_uses_codes_when_both_sides_have_one_and_names_otherwise():
    assert same_org(APPLICANT, "甲公司", APPLICANT, "乙公司")
    assert not same_org(APPLICANT, "同名公司", OTHER, "同名公司"), "two codes that differ are two organisations"
    assert same_org("", "山东智造机械有限公司", APPLICANT, "山东 智造机械有限公司")
    assert same_org("", "青岛（海尔）有限公司", "", "青岛(海尔)有限公司")
    assert not same_org("", "", "", "")


def test_normalised_names_ignore_width_spaces_and_bracket_style():
    assert normalise_org_name("ＡＢＣ科技（青岛） 有限公司") == normalise_org_name("ABC科技(青岛)有限公司")


# --- same credit code ---


def test_expert_working_at_the_applicant_is_conflicted_with_words():
    finding = rule_same_credit_code(expert(employer="山东智造机械有限公司", employer_credit_code=APPLICANT), app())
    assert finding is not None and finding.rule == ConflictRule.same_credit_code
    assert finding.evidence == "专家所在单位（山东智造机械有限公司）即申报单位（统一社会信用代码相同）"


def test_expert_working_at_the_applicants_group_is_conflicted():
    finding = rule_same_credit_code(expert(employer="鲁工集团有限公司", employer_credit_code=GROUP), app())
    assert finding is not None
    assert "申报单位所属集团（鲁工集团有限公司）" in finding.evidence


def test_employer_without_code_matches_by_exact_name():
    finding = rule_same_credit_code(expert(employer="山东智造机械有限公司", employer_credit_code=""), app())
    assert finding is not None and "单位名称相同" in finding.evidence


def test_unrelated_employer_is_no_conflict():
    assert rule_same_credit_code(expert(), app()) is None
    assert (
        rule_same_credit_code(expert(employer="", employer_credit_code=""), app(group_name="", group_credit_code=""))
        is None
    )


# --- employment within N years ---


def job(start: date | None, end: date | None, code: str = APPLICANT, name: str = "山东智造机械有限公司") -> Employment:
    return Employment(employer=name, credit_code=code, start=start, end=end)


def test_current_employment_reads_like_the_issue_example():
    finding = rule_employment(expert(employments=(job(date(2023, 5, 1), None),)), app(), today=TODAY, years=3)
    assert finding is not None and finding.evidence == "2023-05 起在该企业任职"


def test_employment_ending_exactly_n_years_ago_still_counts_and_one_day_earlier_does_not():
    cutoff = employment_cutoff(TODAY, 3)
    assert cutoff == date(2023, 6, 15)
    inside = rule_employment(expert(employments=(job(date(2015, 1, 1), cutoff),)), app(), today=TODAY, years=3)
    assert inside is not None
    assert inside.evidence == "2015-01 至 2023-06 在该企业任职（离职未满 3 年）"
    outside = rule_employment(
        expert(employments=(job(date(2015, 1, 1), date(2023, 6, 14)),)), app(), today=TODAY, years=3
    )
    assert outside is None


def test_window_length_is_the_rounds_setting():
    history = (job(date(2015, 1, 1), date(2021, 1, 31)),)
    assert rule_employment(expert(employments=history), app(), today=TODAY, years=3) is None
    assert rule_employment(expert(employments=history), app(), today=TODAY, years=6) is not None


def test_leap_day_cutoff_falls_back_to_28_february():
    assert employment_cutoff(date(2028, 2, 29), 3) == date(2025, 2, 28)


def test_employment_at_the_group_and_several_entries_are_all_named():
    history = (
        job(date(2020, 3, 1), date(2024, 12, 31)),
        Employment(employer="鲁工集团有限公司", credit_code=GROUP, start=date(2025, 1, 1), end=None),
    )
    finding = rule_employment(expert(employments=history), app(), today=TODAY, years=3)
    assert finding is not None
    assert (
        finding.evidence
        == "2020-03 至 2024-12 在该企业任职（离职未满 3 年）；2025-01 起在申报单位所属集团（鲁工集团有限公司）任职"
    )


# --- provider or consultant ---


def test_experts_unit_as_solution_provider():
    e = expert(employer="上海工业软件有限公司", employer_credit_code=PROVIDER)
    finding = rule_provider(e, app(), today=TODAY)
    assert finding is not None and finding.rule == ConflictRule.provider
    assert finding.evidence == "申报项目的系统解决方案供应商为专家所在单位（上海工业软件有限公司）"


def test_consultant_without_code_matches_by_name():
    e = expert(employer="齐鲁咨询有限公司", employer_credit_code=OTHER)
    finding = rule_provider(e, app(), today=TODAY)
    assert finding is not None
    assert finding.evidence == "申报项目的咨询服务机构为专家所在单位（齐鲁咨询有限公司）"


def test_current_second_job_counts_but_a_past_employer_does_not():
    current = Employment(employer="上海工业软件有限公司", credit_code=PROVIDER, start=date(2024, 1, 1), end=None)
    past = Employment(
        employer="上海工业软件有限公司", credit_code=PROVIDER, start=date(2010, 1, 1), end=date(2025, 1, 1)
    )
    assert rule_provider(expert(employments=(current,)), app(), today=TODAY) is not None
    assert rule_provider(expert(employments=(past,)), app(), today=TODAY) is None


# --- declared relations ---


def test_active_declared_relation_names_kind_enterprise_and_period():
    rel = Relation(
        enterprise_name="山东智造机械有限公司", relation="投资入股", credit_code=APPLICANT, since=date(2021, 3, 1)
    )
    finding = rule_declared_relation(expert(relations=(rel,)), app(), today=TODAY)
    assert finding is not None and finding.rule == ConflictRule.declared_relation
    assert finding.evidence == "专家登记的利害关系：投资入股，涉及山东智造机械有限公司（2021-03-01 起）"


@pytest.mark.parametrize(
    ("since", "until", "active"),
    [
        (None, None, True),
        (date(2026, 6, 15), None, True),
        (date(2026, 6, 16), None, False),  # starts tomorrow
        (date(2020, 1, 1), date(2026, 6, 15), True),  # ends today
        (date(2020, 1, 1), date(2026, 6, 14), False),  # ended yesterday
    ],
)
def test_only_relations_active_today_count(since, until, active):
    rel = Relation(enterprise_name="鲁工集团有限公司", relation="法律纠纷", credit_code=GROUP, since=since, until=until)
    assert (rule_declared_relation(expert(relations=(rel,)), app(), today=TODAY) is not None) is active


# --- same city ---


def test_same_city_words_and_no_match_on_empty_city():
    finding = rule_same_city(expert(city="济南市"), app())
    assert finding is not None and finding.evidence == "专家与申报单位同在济南市"
    assert rule_same_city(expert(city=""), app(city="")) is None


# --- switches ---


def everything_expert() -> ExpertFacts:
    return expert(
        employer="山东智造机械有限公司",
        employer_credit_code=APPLICANT,
        city="济南市",
        employments=(job(date(2019, 1, 1), None),),
        relations=(Relation(enterprise_name="山东智造机械有限公司", relation="其他", credit_code=APPLICANT),),
    )


def test_default_settings_apply_every_rule_but_same_city():
    rules = {f.rule for f in conflicts_between(everything_expert(), app(), settings=CoiSettings(), today=TODAY)}
    assert rules == {ConflictRule.same_credit_code, ConflictRule.employment, ConflictRule.declared_relation}
    provider_expert = expert(employer="上海工业软件有限公司", employer_credit_code=PROVIDER, city="济南市")
    assert {f.rule for f in conflicts_between(provider_expert, app(), settings=CoiSettings(), today=TODAY)} == {
        ConflictRule.provider
    }


@pytest.mark.parametrize(
    ("switch", "rule"),
    [
        ("same_credit_code", ConflictRule.same_credit_code),
        ("employment", ConflictRule.employment),
        ("declared_relation", ConflictRule.declared_relation),
    ],
)
def test_switching_a_rule_off_removes_only_its_findings(switch, rule):
    settings = CoiSettings(**{switch: False})
    rules = {f.rule for f in conflicts_between(everything_expert(), app(), settings=settings, today=TODAY)}
    assert rule not in rules
    assert len(rules) == 2


def test_provider_and_same_city_switches():
    e = expert(employer="上海工业软件有限公司", employer_credit_code=PROVIDER, city="济南市")
    assert conflicts_between(e, app(), settings=CoiSettings(provider=False), today=TODAY) == []
    on = conflicts_between(e, app(), settings=CoiSettings(provider=False, same_city=True), today=TODAY)
    assert [f.rule for f in on] == [ConflictRule.same_city]


# --- dates as offices write them ---


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2023-05", date(2023, 5, 1), date(2023, 5, 31)),
        ("2023年5月", date(2023, 5, 1), date(2023, 5, 31)),
        ("2024.2", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023/05/12", date(2023, 5, 12), date(2023, 5, 12)),
        ("2021-06-30 00:00:00", date(2021, 6, 30), date(2021, 6, 30)),
    ],
)
def test_parse_period(text, start, end):
    assert parse_period(text) == start
    assert parse_period(text, end_of_month=True) == end


@pytest.mark.parametrize("text", ["2023-13", "去年", "23-05", ""])
def test_parse_period_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        parse_period(text)
