"""Staff open a round in the browser: the rule defaults follow the chosen tier, and the round hub opens."""

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from reviewapp.rounds.seeds import load_criteria_templates
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_tier_defaults_follow_the_tier_and_the_round_is_created(page, make_user, db):
    load_criteria_templates(db)
    db.commit()
    make_user("wanggong", Role.staff, display_name="王工")
    sign_in(page, "wanggong", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="评审批次").click()
    page.get_by_role("link", name="新建批次").click()
    level = page.get_by_label("最低成熟度自评等级")
    expect(level).to_have_value("2")
    page.get_by_label("级别").select_option(label="卓越级")
    expect(level).to_have_value("3")
    page.get_by_label("级别").select_option(label="基础级")
    expect(level).to_have_value("2")
    expect(page.get_by_label("最少场景数")).to_have_value("1")
    expect(page.get_by_role("checkbox", name="运营管理")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="生产作业", exact=True)).to_be_checked()
    page.get_by_label("批次名称").fill("2026年度基础级智能工厂认定")
    page.get_by_label("评分截止日期").fill("2026-08-31")
    page.get_by_label("评分截止时间").fill("17:30")
    page.get_by_role("button", name="创建批次").click()
    expect(page.get_by_role("heading", name="2026年度基础级智能工厂认定")).to_be_visible()
    expect(page.get_by_text("已创建评审批次「2026年度基础级智能工厂认定」。")).to_be_visible()
    expect(page.get_by_text("2026-08-31 17:30")).to_be_visible()
    expect(page.get_by_role("link", name="申报管理")).to_have_attribute("href", "/rounds/1/applications")
