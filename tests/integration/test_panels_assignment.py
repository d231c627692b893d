"""Panels, assignment, exclusions and the rules switches through HTTP, as staff use them."""

from datetime import UTC, date, datetime

from sqlmodel import select

from reviewapp.applications.models import Application, ApplicationParty
from reviewapp.audit.models import AuditEntry
from reviewapp.clock import today_beijing
from reviewapp.panels import conflicts, service
from reviewapp.panels.models import Conflict, ExpertEmployment, ExpertRelation, Panel, PanelMember
from tests.conftest import reread
from tests.factories import VALID_CREDIT_CODES, make_application, make_enterprise, make_expert, make_panel, make_round


def chair_ids(db, panel_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return list(db.exec(select(PanelMember.expert_id).where(PanelMember.panel_id == panel_id, PanelMember.is_chair)))  # noqa: E712


def audit_actions(db) -> list[str]:  # type: ignore[no-untyped-def]
    reread(db)
    return list(db.exec(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_panels_are_created_with_members_and_exactly_one_chair(db, staff_client):
    rnd = make_round(db)
    e1, e2, e3 = (make_expert(db, name=n) for n in ("王立新", "周国栋", "唐亮"))
    page = staff_client.get(f"/rounds/{rnd.id}/panels")
    assert page.status_code == 200 and "尚未建立专家组" in page.text
    bad = staff_client.submit(f"/rounds/{rnd.id}/panels", {"name": "", "industry_group": "装备制造"})
    assert bad.status_code == 200 and "请填写专家组名称" in bad.text
    created = staff_client.submit(
        f"/rounds/{rnd.id}/panels", {"name": "装备制造一组", "industry_group": "装备制造"}, follow_redirects=False
    )
    assert created.status_code == 303
    panel = db.exec(select(Panel).where(Panel.round_id == rnd.id)).one()
    url = f"/rounds/{rnd.id}/panels/{panel.id}"
    assert created.headers["location"] == url

    page = staff_client.get(url)
    assert "王立新" in page.text, "experts of the panel's industry are offered"
    staff_client.submit(f"{url}/members", {"expert_id": [str(e1.id), str(e2.id), str(e3.id)]})
    reread(db)
    assert chair_ids(db, panel.id) == [e1.id], "the first member becomes chair"

    staff_client.submit(f"{url}/members/{e2.id}/chair")
    reread(db)
    assert chair_ids(db, panel.id) == [e2.id], "moving the chair leaves exactly one"

    refused = staff_client.submit(f"{url}/members/{e2.id}/remove")
    assert "是组长。请先指定其他成员为组长" in refused.text
    other = make_panel(db, rnd, [], name="装备制造二组")
    refused = staff_client.submit(f"/rounds/{rnd.id}/panels/{other.id}/members", {"expert_id": str(e1.id)})
    assert "已是本批次「装备制造一组」的成员" in refused.text
    staff_client.submit(f"{url}/members/{e3.id}/remove")
    reread(db)
    assert sorted(db.exec(select(PanelMember.expert_id).where(PanelMember.panel_id == panel.id))) == sorted(
        [e1.id, e2.id]
    )
    page = staff_client.get(f"/rounds/{rnd.id}/panels")
    assert "周国栋" in page.text and "成员少于 5 人" in page.text
    assert {"panel.create", "panel.member_add", "panel.chair_set", "panel.member_remove"} <= set(audit_actions(db))

    stale = staff_client.submit(url, {"name": "改名", "industry_group": "装备制造", "row_version": "0"})
    assert "已被他人修改" in stale.text


def conflict_world(db):  # type: ignore[no-untyped-def]
    """Two 装备制造 panels of three and one 电子信息 panel of two; one application conflicts with a member of each
    装备制造 panel, so no panel keeps three free scorers for it."""
    rnd = make_round(db, min_scorers=3)
    a_members = [make_expert(db, name=f"甲组{i}") for i in range(3)]
    b_members = [make_expert(db, name=f"乙组{i}") for i in range(3)]
    c_members = [make_expert(db, name=f"丙组{i}", specialties_json='["电子信息"]') for i in range(2)]
    pa = make_panel(db, rnd, a_members, name="装备制造一组")
    pb = make_panel(db, rnd, b_members, name="装备制造二组")
    make_panel(db, rnd, c_members, name="电子信息组", industry_group="电子信息")
    apps = [make_application(db, rnd, formal_status="passed") for _ in range(5)]
    target = make_enterprise(db, credit_code=VALID_CREDIT_CODES[0], name="山东智造机械有限公司")
    blocked = make_application(db, rnd, target, formal_status="passed")
    db.add(
        ExpertEmployment(
            expert_id=a_members[0].id,
            employer="山东智造机械有限公司",
            credit_code=VALID_CREDIT_CODES[0],
            start=date(2023, 5, 1),
        )
    )
    db.add(
        ExpertRelation(
            expert_id=b_members[1].id, enterprise_name="山东智造机械有限公司", credit_code="", relation="投资入股"
        )
    )
    db.commit()
    electronic = make_application(db, rnd, make_enterprise(db, industry_group="电子信息"), formal_status="passed")
    consumer = make_application(db, rnd, make_enterprise(db, industry_group="消费品"), formal_status="passed")
    pending = make_application(db, rnd)
    return rnd, pa, pb, apps, blocked, electronic, consumer, pending, a_members, b_members


def test_automatic_assignment_balances_and_explains_what_it_cannot_place(db, staff_client):
    rnd, pa, pb, apps, blocked, electronic, consumer, pending, a_members, _b = conflict_world(db)
    response = staff_client.submit(f"/rounds/{rnd.id}/assignment/auto", {"mode": "unassigned"})
    assert response.status_code == 200
    assert "自动分配完成：5 个申报项目已分配（变动 5 个），3 个未能分配" in response.text
    reread(db)
    loads = {pa.id: 0, pb.id: 0}
    for app in apps:
        loads[db.get(Application, app.id).panel_id] += 1
    assert sorted(loads.values()) == [2, 3], "loads within one application of each other"
    for app in (blocked, electronic, consumer, pending):
        assert db.get(Application, app.id).panel_id is None

    text = response.text
    assert (
        "「装备制造」行业的专家组中，回避后可评分专家均不足 3 人：装备制造一组共 3 人，回避后可评分 2 人，须回避：甲组0（近年在申报单位任职）"
        in text
    )
    assert "装备制造二组共 3 人，回避后可评分 2 人，须回避：乙组1（已登记的利害关系）" in text
    assert "「电子信息」行业的专家组中，回避后可评分专家均不足 3 人：电子信息组共 2 人，回避后可评分 2 人" in text
    assert "本批次没有「消费品」行业的专家组，请先建立专家组。" in text
    audit = db.exec(select(AuditEntry).where(AuditEntry.action == "panel.auto_assign")).one()  # read after fresh()
    assert "未能分配 3 项" in audit.summary

    # Run again: nothing moves, nothing new is placed.
    staff_client.submit(f"/rounds/{rnd.id}/assignment/auto", {"mode": "unassigned"})
    reread(db)
    assert sum(1 for a in apps if db.get(Application, a.id).panel_id == pa.id) == loads[pa.id]


def test_assignment_page_shows_eligible_scorers_and_warns_below_minimum(db, staff_client):
    rnd, pa, _pb, _apps, blocked, _e, _c, pending, a_members, _b = conflict_world(db)
    conflicts.recompute_conflicts(db, actor=service.Actor.system(), round_id=rnd.id, today=today_beijing())
    db.commit()
    # By hand, staff may still put the blocked application in panel 1; the page then warns.
    response = staff_client.submit(f"/rounds/{rnd.id}/assignment/{blocked.id}", {"panel_id": str(pa.id)})
    assert response.status_code == 200
    reread(db)
    assert db.get(Application, blocked.id).panel_id == pa.id
    page = staff_client.get(f"/rounds/{rnd.id}/assignment", params={"show": "warning"})
    assert "山东智造机械有限公司" in page.text
    assert "不足 3 人" in page.text and "1 人回避" in page.text
    row = page.text[page.text.index(f'id="app-{blocked.id}"') :]
    assert '<td class="num">2 <span class="tag tag-bad"' in row[:3000]

    refused = staff_client.submit(f"/rounds/{rnd.id}/assignment/{pending.id}", {"panel_id": str(pa.id)})
    assert "只有形式审查通过的申报项目才能分配给专家组" in refused.text
    assert "panel.assign" in audit_actions(db)


def test_exclusion_page_says_which_rule_and_which_record(db, staff_client):
    rnd, _pa, _pb, _apps, blocked, _e, _c, _p, a_members, b_members = conflict_world(db)
    provider_expert = make_expert(
        db, name="供应商专家", employer="上海工业软件有限公司", employer_credit_code=VALID_CREDIT_CODES[2]
    )
    db.add(PanelMember(panel_id=_pa.id, expert_id=provider_expert.id))
    db.add(
        ApplicationParty(
            application_id=blocked.id, role="provider", name="上海工业软件有限公司", credit_code=VALID_CREDIT_CODES[2]
        )
    )
    db.commit()
    staff_client.submit(f"/rounds/{rnd.id}/conflicts/recompute")
    page = staff_client.get(f"/rounds/{rnd.id}/exclusions", params={"application": blocked.id})
    assert page.status_code == 200
    assert "甲组0" in page.text and "近年在申报单位任职" in page.text and "2023-05 起在该企业任职" in page.text
    assert (
        "乙组1" in page.text and "专家登记的利害关系：投资入股，涉及山东智造机械有限公司（未填起止时间）" in page.text
    )
    assert "申报项目的系统解决方案供应商为专家所在单位（上海工业软件有限公司）" in page.text
    only_provider = staff_client.get(f"/rounds/{rnd.id}/exclusions", params={"rule": "provider"})
    assert "供应商专家" in only_provider.text and "甲组0" not in only_provider.text
    assigned_only = staff_client.get(f"/rounds/{rnd.id}/exclusions", params={"only": "assigned"})
    assert "甲组0" not in assigned_only.text, "the blocked application is not assigned to any panel"
    assert "conflict.recompute" in audit_actions(db)


def test_rule_switches_are_per_round_and_recompute(db, staff_client):
    rnd = make_round(db)
    ent = make_enterprise(db, city="济南市")
    member = make_expert(db, name="同城专家", city="济南市")
    make_panel(db, rnd, [member])
    app = make_application(db, rnd, ent, formal_status="passed")
    page = staff_client.get(f"/rounds/{rnd.id}/coi")
    assert page.status_code == 200 and "默认关闭" in page.text
    on = {
        "coi_same_credit_code": "1", "coi_employment": "1", "coi_employment_years": "3", "coi_provider": "1",
        "coi_declared_relation": "1", "coi_same_city": "1", "row_version": str(rnd.row_version),
    }  # fmt: skip
    response = staff_client.submit(f"/rounds/{rnd.id}/coi", on)
    assert "已保存回避规则" in response.text
    reread(db)
    row = db.exec(select(Conflict).where(Conflict.application_id == app.id)).one()
    assert row.rule == "same_city" and row.evidence == "专家与申报单位同在济南市"
    assert "round.coi_settings" in audit_actions(db)

    stale = staff_client.submit(f"/rounds/{rnd.id}/coi", on | {"coi_same_city": ""})
    assert "已被他人修改" in stale.text
    bad = staff_client.submit(f"/rounds/{rnd.id}/coi", on | {"coi_employment_years": "40", "row_version": "2"})
    assert "不能大于 20" in bad.text
    off = staff_client.submit(
        f"/rounds/{rnd.id}/coi", {k: v for k, v in on.items() if k != "coi_same_city"} | {"row_version": "2"}
    )
    assert "已保存回避规则" in off.text
    reread(db)
    assert db.exec(select(Conflict).where(Conflict.application_id == app.id)).all() == []


def test_changes_after_scoring_started_need_a_reason_and_never_drop_a_submitted_score(db, staff_client, monkeypatch):
    rnd = make_round(db, scoring_started_at=datetime(2026, 9, 1, 1, 0, tzinfo=UTC))
    members = [make_expert(db, name=f"成员{i}") for i in range(4)]
    panel = make_panel(db, rnd, members, name="装备制造一组")
    app = make_application(db, rnd, formal_status="passed", panel_id=panel.id)
    url = f"/rounds/{rnd.id}/panels/{panel.id}"
    page = staff_client.get(url)
    assert "调整原因（必填）" in page.text and "开始评分" in page.text

    refused = staff_client.submit(f"{url}/members/{members[3].id}/remove")
    assert "评分已开始，调整专家组须填写调整原因" in refused.text

    # The scoring capability reports submitted sheets through the hook: such a change is refused outright.
    def submitted(session, *, round_id, panel_id, expert_ids, application_ids):  # type: ignore[no-untyped-def]
        return 2 if members[3].id in expert_ids or app.id in application_ids else 0

    monkeypatch.setattr(service, "SUBMITTED_SCORE_COUNTERS", [submitted])
    refused = staff_client.submit(f"{url}/members/{members[3].id}/remove", {"reason": "专家因病无法参加"})
    assert "此调整涉及 2 份已提交的评分表，不能直接调整" in refused.text
    refused = staff_client.submit(f"/rounds/{rnd.id}/assignment/{app.id}", {"panel_id": "", "reason": "改由其他组评审"})
    assert "涉及 2 份已提交的评分表" in refused.text
    reread(db)
    assert len(db.exec(select(PanelMember).where(PanelMember.panel_id == panel.id)).all()) == 4
    assert db.get(Application, app.id).panel_id == panel.id

    done = staff_client.submit(f"{url}/members/{members[2].id}/remove", {"reason": "专家因病无法参加"})
    assert "已移出该成员" in done.text
    reread(db)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "panel.member_remove")).one()
    assert entry.summary == "成员2 移出专家组「装备制造一组」（原因：专家因病无法参加）"

    refused = staff_client.submit(f"/rounds/{rnd.id}/assignment/auto", {"mode": "all", "reason": "重新平衡负载"})
    assert "评分已开始，只能自动分配尚未分配的项目" in refused.text


def test_deleting_a_panel_unassigns_its_applications(db, staff_client):
    rnd = make_round(db)
    panel = make_panel(db, rnd, [make_expert(db)], name="临时组")
    panel_id = panel.id
    app = make_application(db, rnd, formal_status="passed", panel_id=panel_id)
    response = staff_client.submit(f"/rounds/{rnd.id}/panels/{panel_id}/delete")
    assert "已删除专家组「临时组」" in response.text
    reread(db)
    assert db.get(Application, app.id).panel_id is None and db.get(Panel, panel_id) is None
    assert "panel.delete" in audit_actions(db)


def test_panel_pages_are_for_staff(db, make_user, login):
    from reviewapp.auth.models import Role

    rnd = make_round(db)
    browser = login(make_user("zhuanjia", Role.expert))
    for url in (f"/rounds/{rnd.id}/panels", f"/rounds/{rnd.id}/assignment", f"/rounds/{rnd.id}/exclusions", "/panels"):
        assert browser.get(url).status_code == 403, url


def test_index_lists_rounds_with_counts(db, staff_client):
    rnd = make_round(db, name="2026年度先进级智能工厂遴选")
    make_panel(db, rnd, [make_expert(db)])
    page = staff_client.get("/panels")
    assert "2026年度先进级智能工厂遴选" in page.text and f"/rounds/{rnd.id}/assignment" in page.text
