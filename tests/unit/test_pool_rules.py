"""The pool's pure rules: the draw never picks a recused or suspended expert, keeps its conditions, and the same
seed and candidates give the same result; unmeetable conditions say which and by how many."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewapp.pool import rules

TODAY = date(2026, 10, 1)
GROUPS = ("原材料", "电子信息", "装备制造", "消费品")


@st.composite
def pools(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(min_value=0, max_value=60))
    entries = []
    for i in range(1, n + 1):
        entries.append(
            rules.PoolEntry(
                id=i,
                org_name=f"单位{draw(st.integers(min_value=1, max_value=12))}",
                province=draw(st.sampled_from(["山东省", "山东省", "江苏省", "浙江省"])),
                specialties=tuple(draw(st.sets(st.sampled_from(GROUPS), min_size=1, max_size=2))),
                status=draw(st.sampled_from(["在库", "在库", "在库", "暂停", "出库"])),
                suspended_until=draw(st.sampled_from([None, date(2026, 9, 1), date(2027, 1, 1)])),
            )
        )
    return entries


@st.composite
def setups(draw):  # type: ignore[no-untyped-def]
    entries = draw(pools())
    ids = [e.id for e in entries]
    panels = [
        rules.PanelSpec(p, f"第{p}组", tuple(draw(st.sets(st.sampled_from(ids), max_size=8)) if ids else ()))
        for p in range(1, draw(st.integers(min_value=1, max_value=4)) + 1)
    ]
    per = draw(st.integers(min_value=1, max_value=5))
    spec = draw(st.sampled_from(GROUPS))
    cond = rules.Conditions(
        per_panel=per,
        backups=draw(st.integers(min_value=0, max_value=2)),
        specialty_min=((spec, draw(st.integers(min_value=0, max_value=min(2, per)))),),
        max_per_org=draw(st.integers(min_value=0, max_value=2)),
        min_outside=draw(st.integers(min_value=0, max_value=min(2, per))),
        home_province="山东省",
    )
    cond = rules.Conditions(**{**cond.__dict__, "specialty_min": tuple(x for x in cond.specialty_min if x[1])})
    seed = draw(st.text(alphabet="0123456789", min_size=1, max_size=8))
    return entries, panels, cond, seed


@settings(max_examples=100, deadline=None)
@given(setups())
def test_draw_never_picks_recused_or_suspended_and_keeps_the_conditions(setup) -> None:  # type: ignore[no-untyped-def]
    entries, panels, cond, seed = setup
    inp = rules.build_input(entries, panels, cond, today=TODAY)
    result = rules.draw(inp, seed)
    drawable = {e.id for e in entries if rules.is_drawable(e, today=TODAY)}
    by_id = {c.id: c for c in inp.candidates}
    seen: set[int] = set()
    for pd in result.panels:
        panel = next(p for p in panels if p.id == pd.panel_id)
        everyone = [*pd.mains, *pd.backups]
        assert not set(everyone) & set(panel.excluded)  # never a conflicted expert
        assert set(everyone) <= drawable  # never a suspended or retired one
        assert not set(everyone) & seen  # one panel per expert
        seen |= set(everyone)
        assert rules.condition_problems([by_id[i] for i in pd.mains], cond) == []
        assert len(pd.backups) == cond.backups
    if not result.ok:
        assert result.panels == [] and all("差" in p for p in result.problems)


@settings(max_examples=50, deadline=None)
@given(setups())
def test_same_seed_and_candidates_give_the_same_draw_and_verify(setup) -> None:  # type: ignore[no-untyped-def]
    entries, panels, cond, seed = setup
    inp = rules.build_input(entries, panels, cond, today=TODAY)
    first = rules.draw(inp, seed)
    again = rules.draw(rules.DrawInput.from_canonical(inp.canonical()), seed)
    assert first.to_json() == again.to_json() and first.problems == again.problems
    if first.ok:
        text = inp.canonical()
        assert rules.verify(text, rules.sha256_hex(text), seed, first.to_json())[:2] == (True, True)


def test_a_different_seed_or_a_changed_list_is_detected() -> None:
    entries = [rules.PoolEntry(id=i, org_name=f"单位{i}", specialties=("装备制造",)) for i in range(1, 41)]
    inp = rules.build_input(
        entries, [rules.PanelSpec(1, "甲组")], rules.Conditions(per_panel=5, backups=2), today=TODAY
    )
    text = inp.canonical()
    res = rules.draw(inp, "12345")
    others = {rules.draw(inp, str(s)).to_json() for s in range(20)}
    assert len(others) > 1  # the seed matters
    tampered = text.replace('"id":7,', '"id":99,', 1)
    assert rules.verify(tampered, rules.sha256_hex(text), "12345", res.to_json())[0] is False
    assert rules.verify(text, rules.sha256_hex(text), "54321", res.to_json())[1] is False


def test_unmeetable_conditions_name_the_condition_and_the_shortfall() -> None:
    entries = [
        rules.PoolEntry(id=i, org_name="同一单位" if i <= 6 else f"单位{i}", province="山东省", specialties=("消费品",))
        for i in range(1, 9)
    ]
    entries.append(rules.PoolEntry(id=9, org_name="外省单位", province="江苏省", specialties=("电子信息",)))
    cond = rules.Conditions(
        per_panel=5, backups=0, specialty_min=(("电子信息", 2),), min_outside=2, home_province="山东省", max_per_org=2
    )
    res = rules.draw(rules.build_input(entries, [rules.PanelSpec(1, "甲组")], cond, today=TODAY), "1")
    text = "；".join(res.problems)
    assert "「电子信息」专业至少 2 人，可抽仅 1 人，差 1 人" in text
    assert "省外专家至少 2 人，可抽仅 1 人，差 1 人" in text
    assert "同一单位至多 2 人，可抽专家最多凑成 5 人" not in text  # 2 + 1 + 1 + 1 = 5: this one can be met
    res = rules.draw(rules.build_input(entries, [rules.PanelSpec(1, "甲组", (9, 7, 8))], cond, today=TODAY), "1")
    assert not any("回避后可抽专家" in p for p in res.problems)  # six remain: enough heads, wrong mix
    assert any("同一单位至多 2 人，可抽专家最多凑成 2 人，差 3 人" in p for p in res.problems)


def test_next_backup_keeps_the_conditions() -> None:
    cond = rules.Conditions(per_panel=2, backups=2, specialty_min=(("电子信息", 1),))
    a = rules.Candidate(1, "A", False, ("电子信息",))
    b = rules.Candidate(2, "B", False, ("消费品",))
    c = rules.Candidate(3, "C", False, ("消费品",))
    d = rules.Candidate(4, "D", False, ("电子信息",))
    assert rules.next_backup([a, b], a, [c, d], cond) == d  # c would leave no 电子信息 expert
    assert rules.next_backup([a, b], b, [c, d], cond) == c
    assert rules.next_backup([a, b], a, [c], cond) is None


def test_availability_status_and_excluded_organisations() -> None:
    cond = rules.Conditions(per_panel=1, backups=0, excluded_orgs=("排除单位",), review_date=date(2026, 10, 20))
    entries = [
        rules.PoolEntry(1, "排除单位"),
        rules.PoolEntry(2, "甲", availability=((date(2026, 11, 1), date(2026, 11, 30)),)),
        rules.PoolEntry(3, "乙", availability=((date(2026, 10, 1), date(2026, 10, 31)),)),
        rules.PoolEntry(4, "丙", status="暂停", suspended_until=date(2026, 12, 1)),
        rules.PoolEntry(5, "丁", status="暂停", suspended_until=date(2026, 9, 30)),
        rules.PoolEntry(6, "戊", status="出库"),
    ]
    assert [e.id for e in rules.eligible(entries, cond, today=TODAY)] == [3, 5]


def test_evaluation_score_and_suspension() -> None:
    assert rules.evaluation_score([]) is None
    assert str(rules.evaluation_score([(5, 4, 5, 4), (3, 3, 3, 3)])) == "3.75"
    low = rules.evaluation_score([(2, 2, 3, 2)])
    assert rules.suspension_end(score=low, undeclared_conflict=False, today=date(2026, 1, 31), months=1) == date(
        2026, 2, 28
    )
    assert (
        rules.suspension_end(
            score=rules.evaluation_score([(5, 5, 5, 5)]), undeclared_conflict=False, today=TODAY, months=12
        )
        is None
    )
    assert rules.suspension_end(score=None, undeclared_conflict=True, today=TODAY, months=12) == date(2027, 10, 1)


def test_specialty_mix_parsing() -> None:
    assert rules.parse_specialty_mix("装备制造:2，电子信息：1") == ((("装备制造", 2), ("电子信息", 1)), None)
    assert rules.parse_specialty_mix("装备制造两人")[1] is not None


def test_offline_verification_command(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from reviewapp.pool import verify

    entries = [rules.PoolEntry(id=i, org_name=f"单位{i}", specialties=("装备制造",)) for i in range(1, 21)]
    inp = rules.build_input(
        entries, [rules.PanelSpec(1, "甲组", (3,))], rules.Conditions(per_panel=3, backups=1), today=TODAY
    )
    path = tmp_path / "input.json"
    path.write_text(inp.canonical(), encoding="utf-8")
    assert verify.main([str(path), "8848"]) == 0
    out = capsys.readouterr().out
    assert rules.sha256_hex(inp.canonical()) in out and rules.draw(inp, "8848").to_json() in out
