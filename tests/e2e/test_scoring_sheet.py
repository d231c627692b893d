"""An expert signs in, scores a whole sheet with autosave (keyboard only), reloads and finds every value, submits
through the confirmation dialog, and can no longer edit."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from reviewapp.applications.models import FormalStatus
from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.factories import make_application, make_criteria_version, make_expert, make_panel, make_pledge, make_round

OPINION = "生产作业环节在线检测与设备监控建设扎实，数据贯通程度较高，建议推荐。"


def test_expert_scores_a_full_sheet_reloads_submits_and_cannot_edit(page, db, make_user):
    version = make_criteria_version(db)
    rnd = make_round(db, criteria_version_id=version.id, scoring_deadline=datetime.now(UTC) + timedelta(days=2))
    user = make_user("lizhuanjia", Role.expert, display_name="李专家")
    expert = make_expert(db, user_id=user.id, name="李建国")
    panel = make_panel(db, rnd, [expert])
    app = make_application(
        db,
        rnd,
        formal_status=FormalStatus.passed.value,
        panel_id=panel.id,
        scenarios=[("生产作业", "在线智能检测"), ("生产管理", "车间智能排产")],
    )
    make_pledge(db, rnd, expert)

    sign_in(page, "lizhuanjia", PASSWORD)
    expect(page.get_by_role("heading", name="我的评审")).to_be_visible()
    page.get_by_role("link", name="进入评审列表（全部 1 项）").click()  # the home summarises, the list lists
    row = page.get_by_role("row").filter(has_text=app.factory_name)
    expect(row.get_by_text("未开始")).to_be_visible()
    row.get_by_role("link", name="开始评分").click()
    expect(page.get_by_role("heading", name="专家评分表")).to_be_visible()

    # Keyboard only: type, Tab to the next field; each field shows its own save state.
    jb01 = page.get_by_label("JB01 企业规模")
    jb01.focus()
    page.keyboard.type("10")  # full marks: a justification becomes required and appears
    page.keyboard.press("Tab")
    justification = page.locator("textarea[name^=just-]").first
    expect(justification).to_be_focused()
    expect(page.locator(f"#st-{jb01.get_attribute('name')}")).to_contain_text("已保存")
    page.keyboard.type("规模以上企业，营业收入与产能均居行业前列。")
    expect(page.locator(f"#st-{justification.get_attribute('name')}")).to_contain_text("已保存")

    page.get_by_label("通过", exact=True).check()
    expect(page.locator("[id^=st-gate-]")).to_contain_text("已保存")

    sc01 = page.get_by_label("SC01 在线智能检测")
    sc01.fill("40.5")  # off the step of 1: refused, nothing stored
    sc01.press("Enter")  # Enter saves the field and submits nothing
    expect(page.locator(f"#st-{sc01.get_attribute('name')}")).to_contain_text(
        "保存失败：「在线智能检测」的得分须为 1 分的整数倍"
    )
    expect(sc01).to_have_attribute("aria-invalid", "true")
    sc01.fill("40")
    sc01.press("Tab")
    expect(page.locator(f"#st-{sc01.get_attribute('name')}")).to_contain_text("已保存")
    sc02 = page.get_by_label("SC02 设备运行监控")
    sc02.fill("30.5")
    sc02.press("Tab")
    expect(page.locator("#sheet-total")).to_have_text("80.5")
    page.get_by_role("textbox", name="评审意见").fill(OPINION)
    expect(page.locator("#st-opinion")).to_contain_text("已保存")

    # Reload: every value is there.
    page.reload()
    expect(page.get_by_label("JB01 企业规模")).to_have_value("10")
    expect(page.get_by_label("SC01 在线智能检测")).to_have_value("40")
    expect(page.get_by_label("SC02 设备运行监控")).to_have_value("30.5")
    expect(page.get_by_label("通过", exact=True)).to_be_checked()
    expect(page.get_by_role("textbox", name="评审意见")).to_have_value(OPINION)
    expect(page.locator("textarea[name^=just-]").first).to_have_value("规模以上企业，营业收入与产能均居行业前列。")
    expect(page.locator("#sheet-total")).to_have_text("80.5")

    # Submit: the check passes, a dialog asks for confirmation.
    page.get_by_role("button", name="检查并提交").click()
    dialog = page.get_by_role("dialog", name="确认提交评分表")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("总分 80.5 分")
    dialog.get_by_role("button", name="确认提交").click()
    expect(page.get_by_text("评分表已提交，现已锁定。")).to_be_visible()
    expect(page.get_by_text("已提交", exact=True)).to_be_visible()

    # Locked: no inputs any more, the values are shown read-only.
    expect(page.locator("input[name^=score-]")).to_have_count(0)
    expect(page.locator("textarea[name=opinion]")).to_have_count(0)
    expect(page.get_by_role("cell", name="80.5")).to_be_visible()
    page.goto(f"/expert/rounds/{rnd.id}")
    expect(page.get_by_role("row").filter(has_text=app.factory_name).get_by_text("已提交")).to_be_visible()
