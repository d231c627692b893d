"""Guidance a staff member relies on: each round page names the next step and what still blocks it, the panel page
counts the sheets still out, and empty lists say what to do first."""

from __future__ import annotations

from reviewapp.applications.models import FormalStatus
from reviewapp.nextsteps import rules
from tests.factories import (
    make_application,
    make_criteria_version,
    make_expert,
    make_panel,
    make_round,
    make_submitted_sheet,
)


def test_round_page_names_the_next_step_and_what_blocks_it(db, staff_client) -> None:  # type: ignore[no-untyped-def]
    rnd = make_round(db)
    page = staff_client.get(f"/rounds/{rnd.id}").text
    assert "下一步" in page and "导入申报" in page and "尚未导入申报名单" in page

    make_application(db, rnd)  # pending formal review
    make_application(db, rnd)
    page = staff_client.get(f"/rounds/{rnd.id}").text
    assert "下一步：" in page and "还有 2 份申报未完成形式审查" in page


def test_round_and_panel_pages_count_the_sheets_still_out(db, staff_client) -> None:  # type: ignore[no-untyped-def]
    rnd = make_round(db, criteria_version_id=make_criteria_version(db).id)
    experts = [make_expert(db) for _ in range(3)]
    panel = make_panel(db, rnd, experts, chair=experts[0])
    apps = [make_application(db, rnd, formal_status=FormalStatus.passed.value, panel_id=panel.id) for _ in range(2)]
    make_submitted_sheet(db, apps[0], experts[0], values={})
    make_submitted_sheet(db, apps[0], experts[1], values={})
    make_submitted_sheet(db, apps[0], experts[2], values={})

    page = staff_client.get(f"/rounds/{rnd.id}/panels/{panel.id}").text
    assert "还有 3 份评分表未提交" in page and "组长" in page

    page = staff_client.get(f"/rounds/{rnd.id}").text
    assert "下一步：" in page and "专家评分" in page
    assert "还有 3 份评分表未提交（未开始 3，草稿 0，退回重评 0）" in page


def test_empty_lists_say_what_to_do(staff_client) -> None:  # type: ignore[no-untyped-def]
    assert "点击右上角「新建批次」" in staff_client.get("/rounds").text
    assert "点击「新增专家」逐个录入" in staff_client.get("/experts").text
    assert "点击「登记举报」录入" in staff_client.get("/reports").text
    # With a filter set, the page says to change the filter rather than to create something.
    filtered = staff_client.get("/rounds?year=2019").text
    assert "可修改或清除上方的筛选条件" in filtered and "新建批次」，选择级别" not in filtered


def test_steps_follow_the_round_in_order() -> None:
    facts = rules.RoundFacts(
        round_id=1, applications=5, passed=5, panels=1, open_panels=("装备制造组",), sheets_returned=1
    )
    steps = rules.round_steps(facts)
    current = rules.next_step(steps)
    assert current is not None and current.title == "专家评分"
    assert current.blockers == ("还有 1 份评分表未提交（未开始 0，草稿 0，退回重评 1）。",)
    done = rules.RoundFacts(round_id=1, applications=5, passed=5, panels=1, published=True, final_published=True)
    assert rules.next_step(rules.round_steps(done)) is None
