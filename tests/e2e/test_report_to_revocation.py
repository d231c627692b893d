"""A member of the public files a report in the browser; a staff member verifies it and revokes the certification;
the reporter sees the outcome with the receipt code."""

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.factories import make_certification, make_enterprise

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def open_step(page, code: str):  # type: ignore[no-untyped-def]
    box = page.locator(f"#step-{code}")
    box.locator("summary").click()
    return box


def test_public_report_to_revocation(page, make_user, db):
    enterprise = make_enterprise(db, name="山东华岳重工机械有限公司", credit_code="91370100MA3C4XKD1B")
    make_certification(db, enterprise, factory_name="华岳数字化铸造工厂")
    make_user("wanggong", Role.staff, display_name="王工")

    # The reporter, without an account.
    page.goto("/login")
    page.get_by_role("link", name="我要举报").click()
    page.get_by_label("被举报单位名称").fill("山东华岳重工机械有限公司")
    page.get_by_label("举报内容").fill("该企业申报的数字化铸造工厂中，多个场景的系统并未实际上线运行。")
    page.get_by_label("佐证材料").set_input_files(
        [{"name": "现场照片说明.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("您的姓名（选填，保密）").fill("张举报")
    page.get_by_label("联系方式（选填，保密）").fill("13800000000")
    page.get_by_role("button", name="提交举报").click()
    expect(page.get_by_role("heading", name="举报已提交")).to_be_visible()
    code = page.locator(".receipt-code").inner_text().strip()
    assert len(code.replace(" ", "")) == 20

    page.get_by_role("link", name="举报查询").click()
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".public-state")).to_have_text("已收到，待受理")

    # A staff member takes it from registration to revocation.
    sign_in(page, "wanggong", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="举报核查").click()
    page.get_by_role("link", name="JB-").first.click()
    expect(
        page.get_by_role("link", name="山东华岳重工机械有限公司 华岳数字化铸造工厂（卓越级认定）")
    ).to_be_visible()  # linked by name
    expect(page.get_by_role("link", name="现场照片说明.pdf")).to_be_visible()

    box = open_step(page, "accept")
    box.get_by_label("办理意见").fill("属于智能工厂信息真实性问题，予以受理。")
    box.get_by_role("button", name="确认受理").click()
    expect(page.get_by_text("已办理：受理。")).to_be_visible()

    box = open_step(page, "start")
    box.get_by_label("王工").check()
    expect(box.get_by_label("单位答复期限")).not_to_have_value("")  # 10 working days ahead by default
    box.get_by_label("办理意见").fill("请该单位书面说明场景上线情况。")
    box.get_by_role("button", name="确认开始核实（要求单位答复）").click()
    expect(page.locator("h1").get_by_text("核实中")).to_be_visible()

    page.get_by_role("button", name="查看举报人信息").click()
    expect(page.locator("#reporter-identity")).to_contain_text("张举报")

    box = open_step(page, "record_reply")
    box.get_by_label("办理意见").fill("单位答复：相关系统仍在调试，尚未投入运行。")
    box.get_by_role("button", name="确认登记单位答复").click()
    expect(page.locator("h1").get_by_text("单位已答复")).to_be_visible()

    box = open_step(page, "conclude_revoke")
    box.get_by_label("取消认定理由类别").select_option(label="弄虚作假")
    box.get_by_label("办理意见").fill("经现场核实，申报材料与实际情况严重不符。")
    page.once("dialog", lambda dialog: dialog.accept())
    box.get_by_role("button", name="确认结论：取消认定").click()
    expect(page.locator("h1").get_by_text("已有结论：取消认定")).to_be_visible()
    expect(page.get_by_text("禁止申报至").first).to_be_visible()

    box = open_step(page, "close")
    box.get_by_label("答复举报人").fill("经核实，您反映的问题属实，已依法取消该工厂的智能工厂认定。")
    box.get_by_role("button", name="确认办结（记录答复举报人情况）").click()
    expect(page.locator("h1").get_by_text("已办结")).to_be_visible()

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="认定管理").click()
    page.get_by_role("link", name="取消认定与禁止申报").click()
    expect(page.get_by_text("91370100MA3C4XKD1B")).to_be_visible()
    expect(page.get_by_role("cell", name="禁止申报中")).to_be_visible()

    # The reporter sees the outcome and the reply, nothing internal.
    page.get_by_role("button", name="退出").click()
    page.goto("/public/report/status")
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".public-state")).to_have_text("已办结")
    expect(page.get_by_text("已依法取消该工厂的智能工厂认定")).to_be_visible()
    expect(page.get_by_text("王工")).to_have_count(0)
