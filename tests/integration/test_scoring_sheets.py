"""The expert's score sheet through HTTP: autosave rules, stale saves, submit, return and resubmit, deadline,
blindness and what conflicted experts can reach, audit entries versus the sheet's own history."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from reviewapp.applications.models import FormalStatus
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role, User, UserSession
from reviewapp.errors import ServiceError
from reviewapp.files import StoredFile
from reviewapp.panels import assignment, membership
from reviewapp.panels import service as panels
from reviewapp.panels.models import Conflict, Expert, Panel
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion, Round
from reviewapp.scoring.models import ItemScore, ScoreSheet, SheetVersion
from reviewapp.scoring.rules import read_summary
from tests.conftest import Browser, reread
from tests.factories import make_application, make_criteria_version, make_expert, make_panel, make_pledge, make_round

HX = {"HX-Request": "true"}
VERSION_RE = re.compile(r'id="sheet-version" name="row_version" value="(\d+)"')
OPINION = "该项目智能化改造成效显著，生产作业环节在线检测覆盖全部关键工序，建议推荐。"


@dataclass
class World:
    db: Session
    rnd: Round
    panel: Panel
    apps: list  # type: ignore[type-arg]
    experts: list[Expert]
    users: list[User]
    node: dict[str, int]  # item code -> criteria node id
    login: object
    browsers: dict[int, Browser] = field(default_factory=dict)

    def browser(self, n: int) -> Browser:
        if n not in self.browsers:
            self.browsers[n] = self.login(self.users[n])  # type: ignore[operator]
        return self.browsers[n]

    def sheet(self, n: int, app_index: int = 0) -> ScoreSheet | None:
        reread(self.db)
        return self.db.exec(
            select(ScoreSheet).where(
                ScoreSheet.application_id == self.apps[app_index].id, ScoreSheet.expert_id == self.experts[n].id
            )
        ).first()


@pytest.fixture
def world(db, make_user, login) -> World:  # type: ignore[no-untyped-def]
    version = make_criteria_version(db)
    rnd = make_round(db, criteria_version_id=version.id, scoring_deadline=datetime.now(UTC) + timedelta(days=3))
    users = [make_user(f"zhuanjia{i}", Role.expert, display_name=f"专家{i}") for i in range(3)]
    experts = [make_expert(db, user_id=u.id, name=f"评审专家{i}") for i, u in enumerate(users)]
    panel = make_panel(db, rnd, experts, chair=experts[0])
    apps = [make_application(db, rnd, formal_status=FormalStatus.passed.value, panel_id=panel.id) for _ in range(3)]
    for expert in experts:
        make_pledge(db, rnd, expert)
    nodes = db.exec(select(CriteriaNode).where(CriteriaNode.version_id == version.id)).all()
    return World(db, rnd, panel, apps, experts, users, {n.code: n.id for n in nodes}, login)  # type: ignore[misc]


def save(browser: Browser, app_id: int, name: str, value: str, version: int):  # type: ignore[no-untyped-def]
    response = browser.submit(
        f"/expert/applications/{app_id}/save", {name: value, "row_version": str(version)}, headers=HX
    )
    assert response.status_code == 200, response.text[:300]
    return response


def version_of(response) -> int:  # type: ignore[no-untyped-def]
    match = VERSION_RE.search(response.text)
    assert match, response.text[:500]
    return int(match.group(1))


def fill_complete(w: World, n: int = 0, app_index: int = 0, *, sc01: str = "40") -> int:
    """Score every item of the small criteria tree validly; returns the sheet's version."""
    b, app_id, v = w.browser(n), w.apps[app_index].id, 0
    for name, value in [
        (f"score-{w.node['JB01']}", "8.5"),
        (f"gate-{w.node['JB-G1']}", "pass"),
        (f"score-{w.node['SC01']}", sc01),
        (f"score-{w.node['SC02']}", "30.5"),
        ("opinion", OPINION),
    ]:
        v = version_of(save(b, app_id, name, value, v))
    return v


# --- autosave rules -------------------------------------------------------------------------------


def test_points_accept_only_values_in_range_and_on_the_step(world):
    b, app_id, jb01 = world.browser(0), world.apps[0].id, world.node["JB01"]
    ok = save(b, app_id, f"score-{jb01}", "7.5", 0)
    assert "已保存" in ok.text and version_of(ok) == 1
    off_step = save(b, app_id, f"score-{jb01}", "7.3", 1)
    assert "保存失败：「企业规模」的得分须为 0.5 分的整数倍。（当前保存的值：7.5）" in off_step.text
    assert version_of(off_step) == 1  # nothing written
    too_big = save(b, app_id, f"score-{jb01}", "10.5", 1)
    assert "的得分应在 0 到 10 分之间" in too_big.text
    negative = save(b, app_id, f"score-{jb01}", "-1", 1)
    assert "的得分应在 0 到 10 分之间" in negative.text
    assert "应填写数字" in save(b, app_id, f"score-{jb01}", "八", 1).text
    full_width = save(b, app_id, f"score-{jb01}", "９．５", 1)  # typed with a Chinese input method
    assert "已保存" in full_width.text and version_of(full_width) == 2
    sheet = world.sheet(0)
    stored = world.db.exec(select(ItemScore).where(ItemScore.sheet_id == sheet.id)).one()
    assert Decimal(str(stored.value)) == Decimal("9.5")
    # A gate takes only pass/fail; a points item refuses gate values and the other way round.
    gate = world.node["JB-G1"]
    assert "请选择「通过」或「不通过」" in save(b, app_id, f"gate-{gate}", "maybe", 2).text
    assert "已保存" in save(b, app_id, f"gate-{gate}", "fail", 2).text
    assert "不是分值项" in save(b, app_id, f"score-{gate}", "1", 3).text
    assert "不是否决项" in save(b, app_id, f"gate-{jb01}", "pass", 3).text


def test_subtotals_and_total_come_back_with_each_save(world):
    b, app_id = world.browser(0), world.apps[0].id
    v = version_of(save(b, app_id, f"score-{world.node['SC01']}", "40", 0))
    response = save(b, app_id, f"score-{world.node['SC02']}", "30.5", v)
    sc_dimension = world.db.get(CriteriaNode, world.node["SC01"]).parent_id
    assert f'<strong id="sub-{sc_dimension}" hx-swap-oob="true">70.5</strong>' in response.text
    assert '<strong id="sheet-total" hx-swap-oob="true">70.5</strong>' in response.text
    response = save(b, app_id, f"score-{world.node['JB01']}", "8", version_of(response))
    assert '<strong id="sheet-total" hx-swap-oob="true">78.5</strong>' in response.text
    page = b.get(f"/expert/applications/{app_id}")
    assert '<strong id="sheet-total">78.5</strong>' in page.text
    assert world.sheet(0).total == Decimal("78.5")


def test_zero_full_marks_and_failed_gate_require_a_justification(world):
    b, app_id = world.browser(0), world.apps[0].id
    jb01, gate = world.node["JB01"], world.node["JB-G1"]
    response = save(b, app_id, f"score-{jb01}", "10", 0)
    assert f'id="need-{jb01}" class="need-flag" data-need="1"' in response.text
    response = save(b, app_id, f"score-{jb01}", "0", version_of(response))
    assert f'id="need-{jb01}" class="need-flag" data-need="1"' in response.text
    response = save(b, app_id, f"gate-{gate}", "fail", version_of(response))
    assert f'id="need-{gate}" class="need-flag" data-need="1"' in response.text
    v = version_of(response)
    for name, value in [
        (f"score-{world.node['SC01']}", "40"),
        (f"score-{world.node['SC02']}", "30"),
        ("opinion", OPINION),
    ]:
        v = version_of(save(b, app_id, name, value, v))
    check = b.get(f"/expert/applications/{app_id}/check", headers=HX)
    assert "还有 2 处需要完成" in check.text
    assert f'href="#f-just-{jb01}"' in check.text and "「JB01 企业规模」给了 0 分，须填写理由。" in check.text
    assert f'href="#f-just-{gate}"' in check.text and "判定为不通过，须填写理由。" in check.text
    refused = b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)}, follow_redirects=True)
    assert "评分表尚未填写完整，不能提交。" in refused.text
    assert world.sheet(0).status == "draft"
    v = version_of(save(b, app_id, f"just-{jb01}", "未提供任何规模佐证材料。", v))
    v = version_of(save(b, app_id, f"just-{gate}", "2025年发生一般环境事故，已通报。", v))
    response = save(b, app_id, f"score-{jb01}", "6", v)
    assert f'id="need-{jb01}" class="need-flag" data-need="0"' in response.text
    check = b.get(f"/expert/applications/{app_id}/check", headers=HX)
    assert "确认提交评分表" in check.text and "有否决项判定为<strong>不通过</strong>" in check.text


def test_opinion_has_a_minimum_length_from_the_round(world):
    world.rnd.opinion_min_length = 50
    world.db.add(world.rnd)
    world.db.commit()
    fill_complete(world)
    check = world.browser(0).get(f"/expert/applications/{world.apps[0].id}/check", headers=HX)
    assert "评审意见至少需要 50 个字" in check.text
    assert 'href="#f-opinion"' in check.text


# --- concurrency ----------------------------------------------------------------------------------


def test_a_save_from_a_stale_tab_is_refused_and_shows_the_current_values(world):
    tab_a = world.browser(0)
    tab_b = world.login(world.users[0])  # the same expert on a second device
    app_id, sc01 = world.apps[0].id, world.node["SC01"]
    assert version_of(save(tab_a, app_id, f"score-{sc01}", "41", 0)) == 1
    # Device B loaded the sheet before A's save: it still holds version 0.
    stale = save(tab_b, app_id, f"score-{sc01}", "12", 0)
    assert "此评分表已在其他窗口或设备上修改过，您这次的修改未保存。" in stale.text
    assert 'id="sheet-form" class="sheet-form" data-autosave hx-swap-oob="true"' in stale.text  # whole form refreshed
    assert f'name="score-{sc01}"' in stale.text and 'value="41"' in stale.text  # the current value
    assert "未保存：您输入的「12」" in stale.text
    assert version_of(stale) == 1  # the refreshed form carries the current version
    sheet = world.sheet(0)
    assert sheet.row_version == 1
    assert world.db.exec(select(ItemScore.value).where(ItemScore.sheet_id == sheet.id)).one() == Decimal(41)
    # Having seen the current values, device B can go on.
    assert "已保存" in save(tab_b, app_id, f"score-{sc01}", "12", 1).text


def test_a_first_save_from_two_devices_creates_one_sheet(world):
    tab_a, tab_b = world.browser(0), world.login(world.users[0])
    app_id = world.apps[0].id
    save(tab_a, app_id, "opinion", "甲设备写的意见", 0)
    stale = save(tab_b, app_id, "opinion", "乙设备写的意见", 0)
    assert "您这次的修改未保存" in stale.text and "甲设备写的意见" in stale.text
    reread(world.db)
    sheets = world.db.exec(select(ScoreSheet).where(ScoreSheet.application_id == app_id)).all()
    assert len(sheets) == 1 and sheets[0].opinion == "甲设备写的意见"


def test_saves_in_sequence_from_one_tab_never_conflict_and_unchanged_values_write_nothing(world):
    b, app_id, sc02 = world.browser(0), world.apps[0].id, world.node["SC02"]
    v = 0
    for n in range(1, 21):
        response = save(b, app_id, f"score-{sc02}", str(n), v)
        assert "已保存" in response.text
        v = version_of(response)
    assert v == 20
    again = save(b, app_id, f"score-{sc02}", "20", v)
    assert "已保存" in again.text and version_of(again) == 20
    assert len(world.db.exec(select(SheetVersion).where(SheetVersion.sheet_id == world.sheet(0).id)).all()) == 20


# --- submit, lock, return, resubmit ---------------------------------------------------------------


def test_submit_checks_then_locks_the_sheet_and_a_double_submit_is_harmless(world):
    b, app_id = world.browser(0), world.apps[0].id
    assert "评分表尚未填写" in b.submit(f"/expert/applications/{app_id}/submit", {"row_version": "0"}).text
    v = fill_complete(world)
    check = b.get(f"/expert/applications/{app_id}/check", params={"row_version": v}, headers=HX)
    assert (
        '<dialog class="confirm-dialog" data-show-modal' in check.text and "总分 <strong>79</strong> 分" in check.text
    )
    assert f'name="row_version" value="{v}"' in check.text
    first = b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)}, follow_redirects=False)
    assert first.status_code == 303
    second = b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)}, follow_redirects=True)
    assert "评分表此前已提交，无须重复提交。" in second.text
    sheet = world.sheet(0)
    assert sheet.status == "submitted" and sheet.total == Decimal(79)
    # What the rankings read instead of the items: the subtotals add up to the total, every gate is recorded.
    subtotals, gates = read_summary(sheet.summary_json)
    assert sum(v for _code, v in subtotals) == Decimal(79) and gates and all(g in ("pass", "fail") for _c, g in gates)
    audits = world.db.exec(select(AuditEntry).where(AuditEntry.action == "scoring.submit")).all()
    assert len(audits) == 1
    kinds = world.db.exec(
        select(SheetVersion.kind).where(SheetVersion.sheet_id == sheet.id, SheetVersion.kind != "save")
    ).all()
    assert kinds == ["submit"]
    # Locked: the page is read-only and saves are refused without writing.
    page = b.get(f"/expert/applications/{app_id}")
    assert "评分表已提交，不能再修改" in page.text and 'name="score-' not in page.text
    refused = save(b, app_id, f"score-{world.node['SC01']}", "10", sheet.row_version)
    assert "保存失败：评分表已提交，不能再修改" in refused.text
    assert world.sheet(0).row_version == sheet.row_version


def test_submit_from_a_stale_check_is_refused(world):
    b, app_id = world.browser(0), world.apps[0].id
    v = fill_complete(world)
    save(b, app_id, f"score-{world.node['SC01']}", "45", v)  # changed after the check showed version v
    response = b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)}, follow_redirects=True)
    assert "评分表在您检查之后又有修改" in response.text
    assert world.sheet(0).status == "draft"


def test_chair_returns_a_sheet_and_the_expert_resubmits_every_version_kept(world):
    expert_b, chair = world.browser(1), world.browser(0)
    app_id = world.apps[0].id
    v = fill_complete(world, 1)
    expert_b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)})
    sheet = world.sheet(1)
    # The chair's page lists statuses, and returning needs a reason.
    page = chair.get(f"/expert/panels/{world.panel.id}")
    assert page.status_code == 200 and "已提交" in page.text
    form_url = f"/expert/panels/{world.panel.id}/sheets/{sheet.id}/return"
    assert f'href="{form_url}"' in page.text  # each submitted cell links to its return form
    form = chair.get(form_url)
    assert form.status_code == 200 and "退回原因（必填）" in form.text and f'action="{form_url}"' in form.text
    expert_name = world.db.get(Expert, sheet.expert_id).name
    assert expert_name in form.text
    assert expert_b.get(form_url).status_code == 404  # a member who is not the chair
    short = chair.submit(
        f"/expert/panels/{world.panel.id}/sheets/{sheet.id}/return", {"reason": "重评"}, follow_redirects=True
    )
    assert "请填写退回原因（至少 4 个字）。" in short.text
    reason = "SC01 评分明显偏高，请结合检测覆盖率重新评分"
    done = chair.submit(
        f"/expert/panels/{world.panel.id}/sheets/{sheet.id}/return", {"reason": reason}, follow_redirects=True
    )
    assert "已退回该评分表" in done.text
    returned = world.sheet(1)
    assert returned.status == "returned" and returned.returned_reason == reason
    home = expert_b.get("/expert/rounds").text  # the round's summary points at the returned sheet
    assert "处理退回重评（1）" in home and f'href="/expert/rounds/{world.rnd.id}?status=returned"' in home
    listed = expert_b.get(f"/expert/rounds/{world.rnd.id}?status=returned").text
    assert "退回重评" in listed and f"退回原因：{reason}" in listed
    sheet_page = expert_b.get(f"/expert/applications/{app_id}")
    assert reason in sheet_page.text and 'name="score-' in sheet_page.text  # editable again
    v = version_of(save(expert_b, app_id, f"score-{world.node['SC01']}", "35", returned.row_version))
    expert_b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)})
    final = world.sheet(1)
    assert final.status == "submitted" and final.total == Decimal(74)
    kinds = world.db.exec(
        select(SheetVersion.kind).where(SheetVersion.sheet_id == final.id).order_by(SheetVersion.version)
    ).all()
    assert kinds == ["save"] * 5 + ["submit", "return", "save", "resubmit"]
    entries = {e.action: e for e in world.db.exec(select(AuditEntry).where(AuditEntry.action.like("scoring.%"))).all()}
    assert set(entries) == {"scoring.submit", "scoring.return", "scoring.resubmit"}
    returned_audit = entries["scoring.return"]
    assert reason in returned_audit.summary
    assert json.loads(returned_audit.before_json)["total"] == "79"  # the returned content in full
    resubmitted = entries["scoring.resubmit"]
    assert json.loads(resubmitted.before_json)["total"] == "79" and json.loads(resubmitted.after_json)["total"] == "74"
    items = {i["code"]: i for i in json.loads(resubmitted.after_json)["items"]}
    assert items["SC01"]["value"] == "35" and items["JB-G1"]["gate"] == "pass"
    assert json.loads(resubmitted.after_json)["opinion"] == OPINION


def test_only_the_chair_of_that_panel_may_return_and_not_after_finalization(world, db, make_user):
    v = fill_complete(world, 1)
    world.browser(1).submit(f"/expert/applications/{world.apps[0].id}/submit", {"row_version": str(v)})
    sheet = world.sheet(1)
    url = f"/expert/panels/{world.panel.id}/sheets/{sheet.id}/return"
    member = world.browser(2)
    assert member.get(f"/expert/panels/{world.panel.id}").status_code == 404
    assert member.submit(url, {"reason": "我想退回这份评分表"}).status_code == 404
    # The chair of another panel cannot reach this panel's sheets either.
    reread(db)
    other_user = make_user("other_chair", Role.expert)
    other = make_expert(db, user_id=other_user.id)
    other_panel = make_panel(db, world.rnd, [other])
    make_pledge(db, world.rnd, other)
    outsider = world.login(other_user)
    assert (
        outsider.submit(
            f"/expert/panels/{other_panel.id}/sheets/{sheet.id}/return", {"reason": "跨组退回评分表"}
        ).status_code
        == 404
    )
    assert outsider.submit(url, {"reason": "跨组退回评分表"}).status_code == 404
    assert world.sheet(1).status == "submitted"
    reread(db)
    panel = db.get(Panel, world.panel.id)
    panel.finalized_at = datetime.now(UTC)
    db.add(panel)
    db.commit()
    refused = world.browser(0).submit(url, {"reason": "定稿后再退回一次"}, follow_redirects=True)
    assert "本专家组已定稿，不能退回评分表。" in refused.text
    assert world.sheet(1).status == "submitted"


def test_staff_reopen_a_submitted_sheet_with_a_reason_audited(world, staff_client):
    v = fill_complete(world, 2)
    world.browser(2).submit(f"/expert/applications/{world.apps[0].id}/submit", {"row_version": str(v)})
    sheet = world.sheet(2)
    progress = staff_client.get(f"/rounds/{world.rnd.id}/scoring")
    assert progress.status_code == 200 and '<span class="tag tag-ok">已提交</span>' in progress.text
    form_url = f"/rounds/{world.rnd.id}/scoring/sheets/{sheet.id}/reopen"
    assert f'href="{form_url}"' in progress.text  # each submitted cell links to its reopen form
    form = staff_client.get(form_url)
    assert form.status_code == 200 and "重新开放原因（必填）" in form.text and f'action="{form_url}"' in form.text
    assert staff_client.get(f"/rounds/{world.rnd.id + 1}/scoring/sheets/{sheet.id}/reopen").status_code == 404
    response = staff_client.submit(
        f"/rounds/{world.rnd.id}/scoring/sheets/{sheet.id}/reopen",
        {"reason": "专家申请更正笔误"},
        follow_redirects=True,
    )
    assert "已重新开放该评分表" in response.text
    assert world.sheet(2).status == "returned"
    entry = world.db.exec(select(AuditEntry).where(AuditEntry.action == "scoring.reopen")).one()
    assert "专家申请更正笔误" in entry.summary and json.loads(entry.before_json)["opinion"] == OPINION
    assert world.browser(2).get(f"/expert/rounds/{world.rnd.id}").text.count("专家申请更正笔误") == 1
    # Experts cannot use the staff action.
    assert (
        world.browser(0)
        .submit(f"/rounds/{world.rnd.id}/scoring/sheets/{sheet.id}/reopen", {"reason": "试一试"})
        .status_code
        == 403
    )


# --- deadline -------------------------------------------------------------------------------------


def test_after_the_deadline_sheets_are_read_only_until_staff_extend_it(world, staff_client):
    b, app_id = world.browser(0), world.apps[0].id
    v = fill_complete(world)
    reread(world.db)
    world.rnd.scoring_deadline = datetime.now(UTC) - timedelta(minutes=1)
    world.db.add(world.rnd)
    world.db.commit()
    refused = save(b, app_id, f"score-{world.node['SC01']}", "20", v)
    assert "保存失败：评分已截止，评分表只能查看，不能再修改。" in refused.text
    submit = b.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)}, follow_redirects=True)
    assert "评分已截止" in submit.text
    assert world.sheet(0).status == "draft" and world.sheet(0).row_version == v
    page = b.get(f"/expert/applications/{app_id}")
    assert 'name="score-' not in page.text and "评分已截止" in page.text
    assert "已截止" in b.get("/expert/rounds").text
    # Staff extend the deadline (a reason is required); the old and new values are audited.
    form = {"deadline_date": "2031-06-30", "deadline_time": "17:30", "reason": "延期"}
    assert "请填写调整原因" in staff_client.submit(f"/rounds/{world.rnd.id}/scoring/deadline", form).text
    form["reason"] = "部分专家出差，延长三天"
    done = staff_client.submit(f"/rounds/{world.rnd.id}/scoring/deadline", form, follow_redirects=True)
    assert "已调整评分截止时间" in done.text and "2031-06-30 17:30" in done.text
    reread(world.db)
    entry = world.db.exec(select(AuditEntry).where(AuditEntry.action == "scoring.deadline")).one()
    assert json.loads(entry.after_json) == {
        "scoring_deadline": "2031-06-30T09:30:00+00:00",
        "reason": "部分专家出差，延长三天",
    }
    assert json.loads(entry.before_json)["scoring_deadline"] is not None
    assert "调整为 2031-06-30 17:30" in entry.summary
    assert "已保存" in save(b, app_id, f"score-{world.node['SC01']}", "20", v).text
    # An expert cannot move the deadline.
    assert b.submit(f"/rounds/{world.rnd.id}/scoring/deadline", form).status_code == 403


# --- blind, visibility, pledge --------------------------------------------------------------------


def test_an_expert_never_sees_another_experts_scores(world):
    """Expert 1 scores with distinctive values; nothing expert 0 (the chair) can open shows them."""
    mine, theirs = world.browser(0), world.browser(1)
    app_id = world.apps[0].id
    secret_opinion = "独一无二的评审意见文字XYZ，仅属于第二位专家。"
    v = 0
    for name, value in [
        (f"score-{world.node['SC02']}", "37.5"),
        (f"just-{world.node['SC02']}", "保密理由ABC"),
        ("opinion", secret_opinion),
    ]:
        v = version_of(save(theirs, app_id, name, value, v))
    v = fill_complete(world, 1, sc01="47")
    theirs.submit(f"/expert/applications/{app_id}/submit", {"row_version": str(v)})
    other_sheet = world.sheet(1)
    pages = [
        mine.get("/expert/rounds"),
        mine.get(f"/expert/rounds/{world.rnd.id}"),
        mine.get(f"/expert/applications/{app_id}"),
        mine.get(f"/expert/applications/{app_id}/print"),
        mine.get(f"/expert/applications/{app_id}/check", headers=HX),
        mine.get(f"/expert/panels/{world.panel.id}"),  # the chair's page: statuses only
        save(mine, app_id, f"score-{world.node['SC01']}", "3", 0),
        save(mine, app_id, "opinion", "我的意见", 99),  # a stale save re-renders the whole form
    ]
    secrets = ["保密理由ABC", secret_opinion]
    for number in ("37.5", "47", "30.5"):  # as a value, a cell or a total would show it
        secrets += [f'value="{number}"', f">{number}<", f"{number} 分"]
    for response in pages:
        assert response.status_code == 200
        for secret in secrets:
            assert secret not in response.text, (secret, response.url)
    # There is no address for another expert's sheet: sheet ids are never accepted from an expert's browser.
    assert 'value="37.5"' not in mine.get(f"/expert/applications/{app_id}?sheet={other_sheet.id}").text


def test_conflicted_unassigned_and_unpassed_applications_do_not_exist_for_the_expert(world, db, settings):
    conflicted, ok = world.apps[1], world.apps[0]
    db.add(
        Conflict(
            round_id=world.rnd.id,
            expert_id=world.experts[0].id,
            application_id=conflicted.id,
            rule="declaration",
            evidence="专家本人声明存在利害关系",
        )
    )
    unassigned = make_application(db, world.rnd, formal_status=FormalStatus.passed.value)
    pending = make_application(db, world.rnd, panel_id=world.panel.id)  # formal review not passed
    for app in (conflicted, ok):
        key = f"k{app.id:02d}" + "0" * 20
        path = settings.upload_dir / key[:2] / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 application material")
        db.add(
            StoredFile(
                owner_type="application",
                owner_id=app.id,
                filename="申报书.pdf",
                storage_key=key,
                content_type="application/pdf",
                size=29,
                sha256="0" * 64,
            )
        )
    db.commit()
    b = world.browser(0)
    home = b.get(f"/expert/rounds/{world.rnd.id}").text
    assert world.db.get(type(ok), ok.id).factory_name in home
    for app in (conflicted, unassigned, pending):
        assert app.factory_name not in home
        assert b.get(f"/expert/applications/{app.id}").status_code == 404
        assert b.get(f"/expert/applications/{app.id}/print").status_code == 404
        assert b.get(f"/expert/applications/{app.id}/check", headers=HX).status_code == 404
        assert (
            b.submit(
                f"/expert/applications/{app.id}/save", {"opinion": "x", "row_version": "0"}, headers=HX
            ).status_code
            == 404
        )
        assert b.submit(f"/expert/applications/{app.id}/submit", {"row_version": "0"}).status_code == 404
    files = {f.owner_id: f.id for f in db.exec(select(StoredFile)).all()}
    assert b.get(f"/applications/{conflicted.id}/attachments/{files[conflicted.id]}").status_code == 404
    # A file of another application is not reachable through a visible one either.
    assert b.get(f"/applications/{ok.id}/attachments/{files[conflicted.id]}").status_code == 404
    download = b.get(f"/applications/{ok.id}/attachments/{files[ok.id]}")
    assert b.get(f"/applications/{ok.id}").status_code == 403  # the staff page of the application stays closed
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert "no-store" in download.headers["cache-control"]
    # The other experts still see the conflicted application.
    assert world.browser(1).get(f"/expert/applications/{conflicted.id}").status_code == 200
    # Nothing was written for the refused saves.
    reread(world.db)
    assert world.db.exec(select(ScoreSheet)).all() == []


def test_a_conflict_recorded_after_scoring_began_blocks_further_saves(world, db):
    b, app_id = world.browser(0), world.apps[0].id
    v = version_of(save(b, app_id, "opinion", "先写一部分意见", 0))
    reread(db)
    db.add(
        Conflict(
            round_id=world.rnd.id,
            expert_id=world.experts[0].id,
            application_id=app_id,
            rule="declaration",
            evidence="专家本人声明存在利害关系",
        )
    )
    db.commit()
    assert (
        b.submit(
            f"/expert/applications/{app_id}/save", {"opinion": "再写", "row_version": str(v)}, headers=HX
        ).status_code
        == 404
    )


def test_without_the_pledge_the_expert_is_sent_to_sign_it(world, db):
    pledge = panels.get_pledge(db, expert_id=world.experts[2].id, round_id=world.rnd.id)
    db.delete(pledge)
    db.commit()
    b, app_id = world.browser(2), world.apps[0].id
    page = b.get(f"/expert/applications/{app_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/expert/rounds/{world.rnd.id}/pledge"
    saved = b.submit(f"/expert/applications/{app_id}/save", {"opinion": "x", "row_version": "0"}, headers=HX)
    assert saved.status_code == 200 and saved.headers["hx-redirect"] == f"/expert/rounds/{world.rnd.id}/pledge"
    home = b.get("/expert/rounds").text
    assert "未签署承诺" in home and world.apps[0].factory_name not in home
    reread(world.db)
    assert world.db.exec(select(ScoreSheet)).all() == []


def test_an_expert_account_without_an_expert_profile_gets_a_chinese_404(make_user, login):
    browser = login(make_user("lonely", Role.expert))
    response = browser.get("/expert/applications/1")
    assert response.status_code == 404 and "尚未关联专家信息" in response.text


def test_autosave_checks_the_session_and_role_itself_like_the_guards(world, db, make_user, login, client):
    """The autosave reads the session in its own query (not through the middleware): every access rule holds."""
    app_id, field = world.apps[0].id, f"score-{world.node['JB01']}"
    form = {field: "8", "row_version": "0"}
    # Anonymous: sent to the login page (the whole page, as htmx asked), nothing written.
    anonymous = client.submit(f"/expert/applications/{app_id}/save", form, headers=HX)
    assert anonymous.status_code == 200 and anonymous.headers["hx-redirect"].startswith("/login?next=")
    # A forged or unknown session cookie is anonymous too.
    forged = Browser(app=client.app, base_url="http://testserver.local")
    forged.cookies.set("reviewapp_session", "not-a-session")
    response = forged.submit(f"/expert/applications/{app_id}/save", form, headers=HX)
    assert response.headers["hx-redirect"].startswith("/login?next=")
    # Staff are not experts: the Chinese 403 page.
    staff = login(make_user("gongzuo", Role.staff))
    refused = staff.submit(f"/expert/applications/{app_id}/save", form, headers=HX)
    assert refused.status_code == 403 and "无权访问" in refused.text
    # A pending one-time password: nothing but changing it.
    once = make_user("yicixing", Role.expert, must_change=True)
    pending = login(once).submit(f"/expert/applications/{app_id}/save", form, headers=HX)
    assert pending.headers["hx-redirect"] == "/account/password"
    # No CSRF token: refused before anything else.
    b = world.browser(0)
    no_token = b.post(f"/expert/applications/{app_id}/save", data=form, headers=HX)
    assert no_token.status_code == 403
    assert world.sheet(0) is None
    # An idle session ends, and says so; a disabled account's session ends at once.
    assert version_of(save(b, app_id, field, "8", 0)) == 1
    reread(db)
    for row in db.exec(select(UserSession).where(UserSession.user_id == world.users[0].id)).all():
        row.last_seen_at = datetime.now(UTC) - timedelta(minutes=121)
        db.add(row)
    db.commit()
    expired = b.submit(f"/expert/applications/{app_id}/save", {field: "9", "row_version": "1"}, headers=HX)
    assert "expired=1" in expired.headers["hx-redirect"]
    reread(db)
    assert db.exec(select(UserSession).where(UserSession.user_id == world.users[0].id)).all() == []
    other = world.browser(1)
    assert version_of(save(other, app_id, field, "7", 0)) == 1
    reread(db)
    user = db.get(User, world.users[1].id)
    user.is_active = False
    db.add(user)
    db.commit()
    disabled = other.submit(f"/expert/applications/{app_id}/save", {field: "6", "row_version": "1"}, headers=HX)
    assert disabled.headers["hx-redirect"].startswith("/login?next=")
    values = {s.expert_id: s.row_version for s in (world.sheet(0), world.sheet(1))}
    assert values == {world.experts[0].id: 1, world.experts[1].id: 1}


def test_autosave_touches_a_session_at_most_once_a_minute(world, db):
    b, app_id, field = world.browser(0), world.apps[0].id, f"score-{world.node['JB01']}"
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    for row in db.exec(select(UserSession).where(UserSession.user_id == world.users[0].id)).all():
        row.last_seen_at = earlier
        db.add(row)
    db.commit()
    assert version_of(save(b, app_id, field, "8", 0)) == 1
    reread(db)
    (row,) = db.exec(select(UserSession).where(UserSession.user_id == world.users[0].id)).all()
    assert row.last_seen_at > earlier + timedelta(minutes=4)


# --- the home page, history, guards ---------------------------------------------------------------


def test_expert_home_shows_rounds_panels_statuses_counts_and_time_left(world):
    b = world.browser(0)
    fill_complete(world, 0, 0)
    b.submit(f"/expert/applications/{world.apps[0].id}/submit", {"row_version": str(world.sheet(0).row_version)})
    save(b, world.apps[1].id, "opinion", "草稿", 0)
    home = b.get("/")  # the expert's home page summarises each round and links to its list
    assert home.status_code == 200 and f'href="/expert/rounds/{world.rnd.id}"' in home.text
    text = b.get("/expert/rounds").text
    assert world.rnd.name in text and world.panel.name in text and "（组长）" in text
    assert f'href="/expert/panels/{world.panel.id}"' in text
    assert "剩余 2 天" in text and "北京时间" in text
    assert re.search(
        r"未开始</a> <strong>1</strong>.*草稿</a> <strong>1</strong>.*已提交 <strong>1</strong>", text, re.S
    )
    assert "还有 <strong>2</strong> 项待评分" in text and f'href="/expert/rounds/{world.rnd.id}?status=todo"' in text
    assert "/expert/applications/" not in text  # the applications are on the round's list
    listed = b.get(f"/expert/rounds/{world.rnd.id}").text
    assert f'href="/expert/applications/{world.apps[2].id}"' in listed
    assert re.search(r"未开始 <strong>1</strong>.*草稿 <strong>1</strong>.*已提交 <strong>1</strong>", listed, re.S)
    for label in ("已提交", "草稿", "未开始"):
        assert f">{label}</span>" in listed


def test_autosaves_go_to_the_sheet_history_not_the_audit_log_and_scoring_start_freezes_the_criteria(world):
    world.browser(0)  # signed in (auth.login is audited)
    reread(world.db)
    before = len(world.db.exec(select(AuditEntry)).all())
    v = fill_complete(world)
    reread(world.db)
    entries = world.db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries[before:]] == ["round.scoring_started", "criteria.freeze"]
    versions = world.db.exec(select(SheetVersion).where(SheetVersion.sheet_id == world.sheet(0).id)).all()
    assert len(versions) == v == 5 and all(ver.kind == "save" for ver in versions)
    assert json.loads(versions[0].change_json) == {"field": f"score-{world.node['JB01']}", "value": "8.5"}
    assert world.db.get(Round, world.rnd.id).scoring_started_at is not None
    assert world.db.get(CriteriaVersion, world.rnd.criteria_version_id).frozen_at is not None


def test_a_panel_change_may_not_drop_a_submitted_sheet(world, db):
    v = fill_complete(world, 2)
    world.browser(2).submit(f"/expert/applications/{world.apps[0].id}/submit", {"row_version": str(v)})
    reread(db)
    from reviewapp.audit import Actor

    with pytest.raises(ServiceError, match="涉及 1 份已提交的评分表"):
        membership.remove_member(
            db, actor=Actor.system(), panel_id=world.panel.id, expert_id=world.experts[2].id, reason="该专家临时有事"
        )
    db.rollback()
    with pytest.raises(ServiceError, match="涉及 1 份已提交的评分表"):
        assignment.assign_application(
            db,
            actor=Actor.system(),
            application_id=world.apps[0].id,
            panel_id=None,
            today=datetime.now(UTC).date(),
            reason="调整到其他组",
        )
    db.rollback()
    # Applications without submitted sheets can still move (with a reason, scoring having started).
    assignment.assign_application(
        db,
        actor=Actor.system(),
        application_id=world.apps[2].id,
        panel_id=None,
        today=datetime.now(UTC).date(),
        reason="调整到其他组",
    )


def test_the_print_view_is_a_full_sheet_with_a_signature_line(world):
    b, app_id = world.browser(0), world.apps[0].id
    fill_complete(world)
    page = b.get(f"/expert/applications/{app_id}/print").text
    assert "专家评分表" in page and world.apps[0].factory_name in page
    for text in (
        "企业规模",
        "8.5",
        "在线智能检测",
        "40",
        "通过",
        "总分（满分 100 分）",
        "79",
        OPINION,
        "评审专家：评审专家0",
        "专家签字",
        "尚未提交",
    ):
        assert text in page, text


def test_healthz_is_public_and_plain(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok"
