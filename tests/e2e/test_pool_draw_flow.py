"""Staff draw a round's panels from a pool of 60 experts with planted conflicts; one drawn expert declines on
their home page and the backup comes in; staff record the phone calls, print the draw record, write the result
into the panels; the drawn chair finalizes the panel on their page, then staff evaluate an expert and a low score
suspends them."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from sqlmodel import select

from reviewapp.applications.models import Application
from reviewapp.auth.models import Role
from reviewapp.panels.models import Expert, Panel, PanelMember
from reviewapp.pool.models import Draw, DrawPick, PoolProfile
from tests.conftest import PASSWORD, reread
from tests.e2e.conftest import sign_in
from tests.factories import (
    make_application,
    make_criteria_version,
    make_enterprise,
    make_expert,
    make_pledge,
    make_round,
    make_submitted_sheet,
    scored_values,
)

GROUPS = ("原材料", "电子信息", "装备制造", "消费品")


def test_draw_confirm_decline_record_apply_and_evaluate(page, chromium, live_server, db, make_user):  # type: ignore[no-untyped-def]
    make_user("zhangli", Role.staff, display_name="张立")
    make_user("wangjian", Role.staff, display_name="王建（纪检监督）")
    expert_user = make_user("e00042", Role.expert, display_name="被抽中的专家")
    rnd = make_round(db, name="2026年度先进级智能工厂遴选", criteria_version_id=make_criteria_version(db).id)
    panels, enterprises = [], []
    for group in ("装备制造", "电子信息"):
        panel = Panel(round_id=rnd.id, name=f"{group}评审组", industry_group=group)
        db.add(panel)
        db.commit()
        panels.append(panel)
        for n in range(3):
            # fixed credit codes: the frozen list, and so the draw, do not depend on which tests ran before
            code = f"E2E{len(enterprises):015d}"
            ent = make_enterprise(db, credit_code=code, name=f"{group}申报企业{n}有限公司", industry_group=group)
            enterprises.append((ent, panel))
            make_application(db, rnd, ent, panel_id=panel.id, formal_status="passed")
    planted: list[tuple[Expert, Panel]] = []
    for n in range(60):
        if n < 6:  # planted conflicts: the expert works at an applicant of one panel
            ent, panel = enterprises[n]
            e = make_expert(db, name=f"回避专家{n}", employer=ent.name, employer_credit_code=ent.credit_code,
                            specialties_json=json.dumps([panel.industry_group], ensure_ascii=False))  # fmt: skip
            planted.append((e, panel))
        else:
            e = make_expert(db, name=f"库内专家{n:02d}", employer=f"研究院{n}", title="高级工程师",
                            specialties_json=json.dumps([GROUPS[n % 4]], ensure_ascii=False))  # fmt: skip
        db.add(PoolProfile(expert_id=e.id, province="江苏省" if n % 4 == 0 else "山东省"))
    db.commit()

    # --- staff draw ---------------------------------------------------------------------------------------------
    sign_in(page, "zhangli", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="专家抽取").click()
    page.get_by_role("row", name="2026年度先进级智能工厂遴选").get_by_role("link", name="进入").click()
    page.get_by_label("每组抽取人数").fill("5")
    page.get_by_label("每组备选人数").fill("2")
    page.get_by_label("专业构成").fill("装备制造:1，电子信息:1")
    page.get_by_label("同一单位至多（人）").fill("1")
    page.get_by_label("省外专家至少（人）").fill("1")
    page.get_by_label("本省名称").fill("山东省")
    page.get_by_label("监督人").select_option(label="王建（纪检监督）（wangjian）")
    page.get_by_label("随机种子", exact=True).fill("0917")
    page.get_by_label("种子来源").fill("体彩排列3 第2026250期")
    page.get_by_role("button", name="冻结候选名单并抽取").click()
    expect(page.get_by_text("已冻结候选名单")).to_be_visible()
    expect(page.locator("#draw-seed")).to_contain_text("0917")

    reread(db)
    draw = db.exec(select(Draw)).one()
    picks = db.exec(select(DrawPick).order_by(DrawPick.panel_id, DrawPick.position)).all()
    for expert, panel in planted:  # recusal before the draw: no planted conflict is drawn for its panel
        assert not [p for p in picks if p.expert_id == expert.id and p.panel_id == panel.id]
        expect(page.locator(f'table[data-panel="{panel.name}"] tr[data-expert="{expert.name}"]')).to_have_count(0)

    # --- a drawn expert declines on their home page ----------------------------------------------------------------
    first = picks[0]
    decliner = db.get(Expert, first.expert_id)
    decliner.user_id = expert_user.id
    db.add(decliner)
    db.commit()
    other = chromium.new_context(base_url=live_server, locale="zh-CN")
    expert_page = other.new_page()
    sign_in(expert_page, "e00042", PASSWORD)
    invitation = expert_page.locator(".invitation")
    expect(invitation).to_contain_text("您已被随机抽取为「2026年度先进级智能工厂遴选」评审专家")
    invitation.get_by_label("不能参加").check()
    invitation.get_by_label("原因").fill("评审当天在外地出差")
    invitation.get_by_role("button", name="提交").click()
    expect(expert_page.get_by_text("已记录您不能参加")).to_be_visible()
    other.close()

    # --- the backup comes in; staff record the calls ----------------------------------------------------------------
    page.reload()
    table = page.locator(f'table[data-panel="{panels[0].name}"]')
    expect(table.locator(f'tr[data-expert="{decliner.name}"] .status')).to_have_text("不参加")
    expect(table.locator('tr[data-status="pending"]').filter(has_text="（递补）")).to_have_count(1)
    while page.locator("form.call-form").count():
        form = page.locator("form.call-form").first
        form.get_by_label("通话情况").fill("已电话告知，本人同意参加，无回避事项")
        form.get_by_role("button", name="记录").click()
        expect(page.get_by_text("已记录同意参加。")).to_be_visible()
    expect(page.locator('tr[data-status="accepted"]')).to_have_count(10)

    # --- the draw record, printed ----------------------------------------------------------------------------------
    page.get_by_role("link", name="抽取记录表").click()
    expect(page.get_by_role("heading", name="评审专家抽取记录表")).to_be_visible()
    record = page.locator("#record-picks")
    expect(record).to_contain_text("评审当天在外地出差")
    expect(page.get_by_text("监督人（签字）")).to_be_visible()
    expect(page.get_by_role("cell", name="张立 / 王建（纪检监督）")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(record).to_be_visible()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="返回").click()

    # --- into the panels -------------------------------------------------------------------------------------------
    page.get_by_role("button", name="确认名单并写入专家组").click()
    expect(page.get_by_text("抽取结果已写入专家组。")).to_be_visible()
    expect(page.locator("#draw-state")).to_have_text("已写入专家组")
    reread(db)
    members = db.exec(select(PanelMember).where(PanelMember.panel_id == panels[0].id)).all()
    assert len(members) == 5 and decliner.id not in {m.expert_id for m in members}
    page.goto(f"/pool/verify/{draw.id}")
    expect(page.locator("#verify-result")).to_contain_text("抽取结果与记录完全一致")

    # --- the drawn experts score (their sheets as submitted), the chair finalizes on their panel page ------------
    panel_apps = db.exec(select(Application).where(Application.panel_id == panels[0].id)).all()
    for k, app in enumerate(panel_apps):
        for m in members:
            expert = db.get(Expert, m.expert_id)
            make_submitted_sheet(db, app, expert, values=scored_values(80 + k), gates={"JB-G1": "pass"})
    for m in members:
        make_pledge(db, rnd, db.get(Expert, m.expert_id))
    chair_user = make_user("zuzhang", Role.expert, display_name="抽中的组长")
    chair = db.get(Expert, next(m.expert_id for m in members if m.is_chair))
    chair.user_id = chair_user.id
    db.add(chair)
    db.commit()
    chair_context = chromium.new_context(base_url=live_server, locale="zh-CN")
    chair_page = chair_context.new_page()
    sign_in(chair_page, "zuzhang", PASSWORD)
    chair_page.goto(f"/expert/panels/{panels[0].id}")
    for app in panel_apps:
        row = chair_page.locator(f"#app-{app.id}")
        row.get_by_text("意见与推荐").click()
        row.get_by_label("推荐", exact=True).check()
        row.get_by_label("专家组意见").fill("智能制造水平较高，同意推荐。")
        row.get_by_role("button", name="保存").click()
        expect(chair_page.get_by_text("已保存专家组意见")).to_be_visible()
    chair_page.get_by_label("专家组总体意见").fill("本组专家由随机抽取产生，独立评分，推荐以上项目。")
    chair_page.get_by_role("button", name="保存总体意见").click()
    expect(chair_page.get_by_text("已保存专家组总体意见")).to_be_visible()
    chair_page.once("dialog", lambda dialog: dialog.accept())
    chair_page.get_by_role("button", name="确认定稿").click()
    expect(chair_page.get_by_text("本专家组已定稿，评分表已锁定。")).to_be_visible()
    chair_context.close()
    reread(db)
    assert db.get(Panel, panels[0].id).finalized_at is not None

    # --- evaluated -------------------------------------------------------------------------------------------------
    weak = db.get(Expert, next(m.expert_id for m in members if not m.is_chair))
    page.goto("/pool/evaluations")
    page.get_by_role("link", name=panels[0].name).click()
    section = page.locator(f'section[data-expert="{weak.name}"]')
    for label in ("守时守纪", "评审意见质量", "出勤情况"):
        section.get_by_label(label).select_option("2")
    section.get_by_label("如实申报回避").select_option("3")
    section.get_by_label("说明").fill("两次迟到，意见过于简略")
    section.get_by_role("button", name="保存评价").click()
    expect(page.get_by_text("已保存评价。该专家已暂停抽取至")).to_be_visible()
    expect(page.locator(f'section[data-expert="{weak.name}"] .score')).to_have_text("2.25")
    reread(db)
    profile = db.exec(select(PoolProfile).where(PoolProfile.expert_id == weak.id)).one()
    assert profile.status == "暂停" and profile.suspended_until is not None
