"""Staff record a written objection during publicity in the browser and take it through verification to 已办结;
the upheld objection takes the application off the round's recommendation list."""

from datetime import date

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from reviewapp.ranking import recommendations
from tests.conftest import PASSWORD, reread
from tests.e2e.conftest import sign_in
from tests.factories import make_listed_round

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def open_step(page, code: str):  # type: ignore[no-untyped-def]
    box = page.locator(f"#step-{code}")
    box.locator("summary").click()
    return box


def test_objection_recorded_verified_and_closed(page, make_user, db, monkeypatch):
    monkeypatch.setattr("reviewapp.clock.today_beijing", lambda: date(2026, 10, 9))
    rnd, _panel, apps = make_listed_round(db, totals=[[92, 90, 91], [85, 86, 84]], publicity_start=date(2026, 9, 28))
    target = apps[1]
    make_user("wanggong", Role.staff, display_name="王工")

    sign_in(page, "wanggong", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="异议处理").click()
    page.get_by_role("link", name="登记异议").click()
    with page.expect_response(lambda r: "/objections/new?round_id=" in r.url):
        page.get_by_label("评审批次").select_option(str(rnd.id))  # loads the round's list
    page.get_by_label("公示名单上的项目").select_option(str(target.id))
    page.get_by_label("收到渠道").select_option("信函")
    expect(page.get_by_label("收到日期")).to_have_value("2026-10-09")
    page.get_by_label("异议人类型").select_option(label="单位")
    page.get_by_label("单位名称或姓名").fill("济南恒信检测技术有限公司")
    page.get_by_label("联系方式").fill("0531-88886666")
    page.get_by_label("通讯地址").fill("济南市历下区经十路 100 号")
    page.get_by_label("已核对").check()
    page.get_by_label("异议内容").fill("该企业申报的智能仓储场景尚未建成投用，与公示材料不符。")
    page.get_by_label("异议材料及证据").set_input_files(
        [{"name": "异议书.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="登记").click()

    expect(page.locator("h1").get_by_text("已登记")).to_be_visible()
    expect(page.get_by_text("建议受理")).to_be_visible()
    expect(page.get_by_text("济南恒信检测技术有限公司")).to_have_count(0)  # confidential until a handler looks

    box = open_step(page, "accept")
    box.get_by_label("受理意见").fill("在公示期内以单位名义提出并加盖公章，予以受理。")
    box.get_by_role("button", name="确认受理").click()
    expect(page.get_by_text("已办理：受理。")).to_be_visible()

    box = open_step(page, "start")
    box.get_by_label("王工").check()
    expect(box.get_by_label("企业说明期限")).to_have_value(
        "2026-10-13"
    )  # 3 working days on: Sat 10-10 (make-up day), 10-12, 10-13
    box.get_by_label("办理意见").fill("请企业书面说明智能仓储场景建设情况。")
    box.get_by_role("button", name="确认开始核实（指定承办人、要求企业说明）").click()
    expect(page.locator("h1").get_by_text("核实中")).to_be_visible()

    page.get_by_role("button", name="查看异议人信息").click()
    expect(page.locator("#objector-identity")).to_contain_text("济南恒信检测技术有限公司")

    box = open_step(page, "record_explanation")
    box.get_by_label("企业说明要点").fill("企业称仓储系统仍在调试，尚未投入运行。")
    box.get_by_role("button", name="确认登记企业说明").click()
    expect(page.get_by_text("已办理：登记企业说明。")).to_be_visible()

    box = open_step(page, "onsite_check")
    box.get_by_label("核查人员").fill("王工、李工")
    box.get_by_label("核查情况").fill("现场未见立体仓库投入运行。")
    box.get_by_role("button", name="确认记录现场核查").click()
    expect(page.get_by_text("已办理：记录现场核查。")).to_be_visible()

    box = open_step(page, "conclude")
    box.get_by_label("核实结论").select_option(label="成立")
    box.get_by_label("核实情况（事实与依据）").fill("智能仓储场景未建成，申报材料与实际不符。")
    box.get_by_role("button", name="确认作出核实结论").click()
    expect(page.locator("h1").get_by_text("已有结论")).to_be_visible()

    box = open_step(page, "apply")
    box.get_by_label("处理结果").select_option(label="移出推荐名单")
    box.get_by_label("处理说明（写入推荐名单的说明）").fill("智能仓储场景未建成")
    page.once("dialog", lambda dialog: dialog.accept())
    box.get_by_role("button", name="确认处理（落实到推荐名单）").click()
    expect(page.locator("h1").get_by_text("已处理")).to_be_visible()

    box = open_step(page, "close")
    box.get_by_label("答复异议人").fill("10月14日书面答复异议人：异议成立，该项目已移出推荐名单。")
    box.get_by_role("button", name="确认办结（记录答复异议人情况）").click()
    expect(page.locator("h1").get_by_text("已办结")).to_be_visible()
    expect(page.locator(".timeline-step")).to_have_count(
        7
    )  # accept, start, explanation, check, conclusion, applied, closed

    reread(db)
    view = recommendations.round_list(db, round_id=rnd.id)
    assert [r.application.id for r in view.removed] == [target.id]
    assert view.removed[0].standing.removed_reason.startswith("异议成立：智能仓储场景未建成")

    page.goto(page.url + "/print")
    expect(page.get_by_role("heading", name="异议处理单")).to_be_visible()
    expect(page.get_by_text("承办人（签字）：")).to_be_visible()
