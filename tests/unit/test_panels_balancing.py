"""Assignment properties: no conflicted member ever counts as a scorer, loads are as even as the options allow,
and the indexed conflict finder agrees with comparing every pair."""

import itertools
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewapp.panels.rules import (
    ApplicationFacts,
    AppSlot,
    CoiSettings,
    Employment,
    ExpertFacts,
    PanelSlot,
    Party,
    Relation,
    balance,
    conflicts_between,
    eligible_scorers,
    explain_unplaceable,
    find_conflicts,
    plan_assignment,
)

TODAY = date(2026, 6, 15)
GROUPS = ["装备制造", "电子信息"]

# A small world of organisations so that random experts and applications collide often.
ORGS = [("甲机械有限公司", "91370000163044841F"), ("乙电子有限公司", "91110000100010433L"), ("丙集团有限公司", "91310000132204065H"),
        ("丁软件有限公司", ""), ("戊咨询有限公司", "")]  # fmt: skip
CITIES = ["济南市", "青岛市", ""]

org = st.sampled_from(ORGS)
maybe_date = st.one_of(st.none(), st.dates(min_value=date(2015, 1, 1), max_value=date(2027, 12, 31)))


@st.composite
def experts(draw, ident: int) -> ExpertFacts:  # type: ignore[no-untyped-def]
    name, code = draw(org)
    drop_code = draw(st.booleans())
    jobs = tuple(
        Employment(employer=n, credit_code=c, start=draw(maybe_date), end=draw(maybe_date))
        for n, c in draw(st.lists(org, max_size=3))
    )
    relations = tuple(
        Relation(enterprise_name=n, credit_code=c, relation="其他", since=draw(maybe_date), until=draw(maybe_date))
        for n, c in draw(st.lists(org, max_size=2))
    )
    return ExpertFacts(
        id=ident, name=f"专家{ident}", employer=name, employer_credit_code="" if drop_code else code,
        city=draw(st.sampled_from(CITIES)), employments=jobs, relations=relations,
    )  # fmt: skip


@st.composite
def applications(draw, ident: int) -> ApplicationFacts:  # type: ignore[no-untyped-def]
    name, code = draw(org)
    group = draw(st.one_of(st.none(), org))
    parties = tuple(
        Party(role=draw(st.sampled_from(["provider", "consultant"])), name=n, credit_code=c)
        for n, c in draw(st.lists(org, max_size=2))
    )
    return ApplicationFacts(
        id=ident, enterprise_name=name, credit_code=code, group_name=group[0] if group else "",
        group_credit_code=group[1] if group else "", city=draw(st.sampled_from(CITIES)), parties=parties,
    )  # fmt: skip


coi_settings = st.builds(
    CoiSettings,
    same_credit_code=st.booleans(),
    employment=st.booleans(),
    employment_years=st.integers(0, 5),
    provider=st.booleans(),
    declared_relation=st.booleans(),
    same_city=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), rules_on=coi_settings)
def test_indexed_finder_agrees_with_every_pair(data, rules_on):
    exps = [data.draw(experts(i)) for i in range(1, data.draw(st.integers(1, 5)) + 1)]
    apps = [data.draw(applications(100 + i)) for i in range(data.draw(st.integers(1, 5)))]
    found = find_conflicts(exps, apps, settings=rules_on, today=TODAY)
    expected = {}
    for e, a in itertools.product(exps, apps):
        findings = conflicts_between(e, a, settings=rules_on, today=TODAY)
        if findings:
            expected[(e.id, a.id)] = findings
    assert found == expected


@settings(max_examples=300, deadline=None)
@given(data=st.data(), rules_on=coi_settings)
def test_one_expert_finder_agrees_with_every_pair(data, rules_on):
    """find_conflicts' path for one expert (an expert's own pages) indexes the expert instead of the applications."""
    expert = data.draw(experts(1))
    apps = [data.draw(applications(100 + i)) for i in range(data.draw(st.integers(0, 8)))]
    expected = {}
    for a in apps:
        findings = conflicts_between(expert, a, settings=rules_on, today=TODAY)
        if findings:
            expected[(expert.id, a.id)] = findings
    assert find_conflicts([expert], apps, settings=rules_on, today=TODAY) == expected
    assert find_conflicts(iter([expert]), iter(apps), settings=rules_on, today=TODAY) == expected


@st.composite
def worlds(draw):  # type: ignore[no-untyped-def]
    """Panels of two industry groups, applications, and random conflicts between members and applications."""
    n_panels = draw(st.integers(1, 4))
    panels, next_expert = [], 1
    for p in range(n_panels):
        size = draw(st.integers(0, 7))
        panels.append(PanelSlot(id=p + 1, name=f"第{p + 1}组", industry_group=draw(st.sampled_from(GROUPS)),
                                member_ids=frozenset(range(next_expert, next_expert + size))))  # fmt: skip
        next_expert += size
    all_experts = list(range(1, next_expert))
    apps = [
        AppSlot(id=100 + i, industry_group=draw(st.sampled_from([*GROUPS, ""])))
        for i in range(draw(st.integers(0, 14)))
    ]
    conflicts = {}
    for a in apps:
        conflicted = draw(st.sets(st.sampled_from(all_experts), max_size=4)) if all_experts else set()
        conflicts[a.id] = {e: "近年在申报单位任职" for e in conflicted}
    min_scorers = draw(st.integers(1, 5))
    return panels, apps, conflicts, min_scorers


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_no_placement_counts_a_conflicted_member_and_every_placeable_application_is_placed(world):
    panels, apps, conflicts, min_scorers = world
    plan = plan_assignment(apps, panels, conflicts, min_scorers=min_scorers)
    by_id = {p.id: p for p in panels}
    assert set(plan.placements) | set(plan.unplaced) == {a.id for a in apps}
    assert not set(plan.placements) & set(plan.unplaced)
    for a in apps:
        if a.id in plan.placements:
            panel = by_id[plan.placements[a.id]]
            assert panel.industry_group == a.industry_group
            free = panel.member_ids - set(conflicts[a.id])
            assert len(free) >= min_scorers, "a placement must not rely on a conflicted member"
            assert eligible_scorers(panel.member_ids, conflicts[a.id]) == len(free)
        else:
            # Unplaced only when truly no panel of its group has enough conflict-free members; and it says why.
            assert (
                all(
                    p.industry_group != a.industry_group or len(p.member_ids - set(conflicts[a.id])) < min_scorers
                    for p in panels
                )
                or not a.industry_group
            )
            assert plan.unplaced[a.id]


@st.composite
def option_sets(draw):  # type: ignore[no-untyped-def]
    panel_ids = list(range(1, draw(st.integers(1, 3)) + 1))
    options = {
        a: draw(st.lists(st.sampled_from(panel_ids), min_size=1, unique=True)) for a in range(draw(st.integers(0, 7)))
    }
    base = {p: draw(st.integers(0, 2)) for p in panel_ids}
    return panel_ids, options, base


@settings(max_examples=300, deadline=None)
@given(option_sets())
def test_balance_is_optimal_against_brute_force(case):
    panel_ids, options, base = case
    result = balance(options, panel_ids=panel_ids, base_load=base)
    assert set(result) == set(options)
    assert all(result[a] in options[a] for a in options)

    def loads(assign):  # type: ignore[no-untyped-def]
        out = dict(base)
        for p in assign.values():
            out[p] += 1
        return out

    got = loads(result)
    best_max = best_squares = None
    apps = sorted(options)
    for combo in itertools.product(*(options[a] for a in apps)):
        load = loads(dict(zip(apps, combo, strict=True)))
        best_max = min(best_max if best_max is not None else 10**9, max(load.values()))
        best_squares = min(best_squares if best_squares is not None else 10**9, sum(v * v for v in load.values()))
    assert max(got.values()) == best_max
    assert sum(v * v for v in got.values()) == best_squares


@settings(max_examples=200, deadline=None)
@given(n_apps=st.integers(0, 60), n_panels=st.integers(1, 8), base=st.lists(st.integers(0, 3), max_size=8))
def test_loads_within_one_when_every_panel_may_take_every_application(n_apps, n_panels, base):
    panel_ids = list(range(1, n_panels + 1))
    base_load = {p: (base[i] if i < len(base) else 0) for i, p in enumerate(panel_ids)}
    result = balance({a: panel_ids for a in range(n_apps)}, panel_ids=panel_ids, base_load=base_load)
    load = dict(base_load)
    for p in result.values():
        load[p] += 1
    # Fixed loads may already differ by more than one; then new applications go to the lightest panels only.
    if n_apps >= sum(max(base_load.values()) - v for v in base_load.values()):
        assert max(load.values()) - min(load.values()) <= 1
    else:
        assert max(load.values()) == max(base_load.values())


def test_explanations_name_the_cause_in_chinese():
    panels = [PanelSlot(1, "装备制造一组", "装备制造", frozenset({1, 2, 3, 4, 5}))]
    names = {1: "张三", 2: "李四"}
    conflicted = {1: "近年在申报单位任职", 2: "评前回避声明"}
    text = explain_unplaceable(AppSlot(9, "装备制造"), panels, conflicted, min_scorers=5, expert_names=names)
    assert text == (
        "「装备制造」行业的专家组中，回避后可评分专家均不足 5 人：装备制造一组共 5 人，回避后可评分 3 人，"
        "须回避：张三（近年在申报单位任职）、李四（评前回避声明）。"
    )
    assert explain_unplaceable(AppSlot(9, "消费品"), panels, {}, min_scorers=5, expert_names=names) == (
        "本批次没有「消费品」行业的专家组，请先建立专家组。"
    )
    assert explain_unplaceable(AppSlot(9, ""), panels, {}, min_scorers=5, expert_names=names) == (
        "申报单位未填写所属行业，无法匹配专家组。"
    )
