"""One whole review round in Chromium, every step through the UI, with a screenshot per step (issue 17).

Staff create a round, import the official Excel list, run formal review, import experts and issue their accounts,
build a panel and assign; four experts (one of them the chair) change their one-time passwords, sign the pledge,
declare and score with autosave; the chair returns a sheet, the expert re-scores, the chair finalizes; staff draw a
spot check, run publicity, take an objection to 已办结, publish the final list and download every export.
Screenshots go to test-artifacts/whole-round/.
"""

from __future__ import annotations

import io
import math
import re
import time
import zipfile
from datetime import timedelta

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlmodel import select

from reviewapp.applications.sample_file import OFFICIAL_COLUMNS, official_workbook
from reviewapp.auth.models import Role
from reviewapp.clock import today_beijing
from reviewapp.rounds.models import Round
from reviewapp.rounds.seeds import load_criteria_templates
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import sample_rows

SHOTS = ARTIFACTS / "whole-round"
ROUND = "2026年度先进级智能工厂遴选（全流程）"
PANEL = "装备制造评审组"
NEW_PASSWORD = "Pingshen#2026"
EXTRA = ("统一社会信用代码", "所在地市", "项目名称", "解决方案供应商", "联系人", "联系电话")
EXPERTS = [  # name, last four of the ID number, employer, title; the first is the chair
    ("周国栋", "3011", "山东大学机械工程学院", "教授"),
    ("陈立新", "4522", "山东省机械设计研究院", "正高级工程师"),
    ("刘海燕", "6183", "齐鲁工业大学智能制造研究院", "研究员"),
    ("孙志强", "7294", "山东省工业和信息化研究院", "高级工程师"),
]
OPINION = "申报工厂在生产作业与生产管理环节的数字化建设扎实，数据贯通程度较高，整体达到先进级要求，建议推荐。"


class Steps:
    """Numbered screenshots, one per step, and the time each step took."""

    def __init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):
            old.unlink()
        self.n = 0
        self.started = time.monotonic()
        self.last = self.started

    def shot(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        self.n += 1
        page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"), full_page=True)
        now = time.monotonic()
        print(f"step {self.n:02d} {name}: {now - self.last:.1f}s")
        self.last = now


def new_page(chromium, live_server):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=live_server, viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def accept_next_dialog(page) -> None:  # type: ignore[no-untyped-def]
    page.once("dialog", lambda dialog: dialog.accept())


def fill_sheet(page, share: float) -> None:  # type: ignore[no-untyped-def]
    """Score every item at `share` of its maximum (whole points), pass every gate, write the opinion."""
    inputs = page.locator("input[name^=score-]")
    for i in range(inputs.count()):
        box = inputs.nth(i)
        top = float(box.get_attribute("data-max") or "0")
        box.fill(str(max(1, math.floor(top * share))))
        box.press("Tab")
    for gate in page.locator("fieldset.sheet-item").all():
        gate.get_by_label("通过", exact=True).check()
    for just in page.locator("textarea[name^=just-]:visible").all():
        if not just.input_value():
            just.fill("该项建设成效突出，现场材料与申报内容一致。")
    opinion = page.get_by_role("textbox", name="评审意见")
    opinion.fill(OPINION)
    expect(page.locator("#st-opinion")).to_contain_text("已保存")


def submit_sheet(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="检查并提交").click()
    dialog = page.get_by_role("dialog", name="确认提交评分表")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="确认提交").click()
    expect(page.get_by_text("评分表已提交，现已锁定。")).to_be_visible()


def download(page, click) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    with page.expect_download(timeout=60_000) as info:
        click()
    d = info.value
    return d.suggested_filename, open(d.path(), "rb").read()  # noqa: SIM115


HEADERS = {  # how an export's file name ends → (first header cell, leading header cells)
    "推荐汇总表.xlsx": ("推荐顺序", ["推荐顺序", "地市", "企业名称", "工厂名称", "项目名称", "所属行业",
                                    "能力成熟度自评得分", "专家评审得分", "专家组", "专家组意见", "说明"]),
    "名单汇总表.xlsx": ("序号", ["序号", "企业名称", "工厂名称", "能力成熟度自评得分", "工厂级别（基础级、先进级）",
                              "所属行业¹", "企业性质²", "企业类型³", "行业中类⁴", "行业小类⁴",
                              "智能制造典型场景（列举场景名称）"]),
    "海外智能工厂培育名单.xlsx": ("序号", ["序号", "企业名称", "海外智能工厂名称"]),
    "专家原始评分明细.xlsx": ("申报项目编号", ["申报项目编号", "序号", "企业名称", "专家编号", "专家姓名",
                                        "评分项编码", "评分项名称", "得分或结论"]),
    "专家评分汇总表.xlsx": ("排名", ["排名", "序号", "企业名称", "工厂名称"]),
    "建设项目.xlsx": ("评价维度", ["评价维度", "评分项", "分值", "得分", "评分说明"]),  # one application's sheets
}  # fmt: skip


def header_row(data: bytes, first: str) -> list[str]:
    """The header row of the workbook's first sheet: the row (among the first ten) that starts with `first`."""
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    for r in range(1, 11):
        if ws.cell(row=r, column=1).value == first:
            return [str(c.value) for c in ws[r] if c.value is not None]
    raise AssertionError(
        f"no header row starting with {first!r}: {[ws.cell(row=r, column=1).value for r in range(1, 11)]}"
    )


def test_a_whole_round_in_the_browser(chromium, live_server, db, make_user):  # type: ignore[no-untyped-def]
    steps = Steps()
    load_criteria_templates(db)
    db.commit()
    make_user("wanggong", Role.staff, display_name="王工")
    today = today_beijing()

    # --- staff: the round -----------------------------------------------------------------------------------
    staff = new_page(chromium, live_server)
    sign_in(staff, "wanggong", PASSWORD)
    staff.get_by_role("navigation", name="主导航").get_by_role("link", name="评审批次").click()
    staff.get_by_role("link", name="新建批次").click()
    staff.get_by_label("批次名称").fill(ROUND)
    staff.get_by_label("级别").select_option(label="先进级")
    template = staff.locator("#f-criteria_version_id option", has_text="【模板】").first.get_attribute("value")
    staff.get_by_label("要素条件").select_option(template)
    staff.get_by_label("评分截止日期").fill((today + timedelta(days=30)).isoformat())
    staff.get_by_label("评分截止时间").fill("17:30")
    staff.get_by_label("每份申报最少评分专家数").fill("3")
    steps.shot(staff, "round-form")
    staff.get_by_role("button", name="创建批次").click()
    expect(staff.get_by_role("heading", name=ROUND)).to_be_visible()
    expect(staff.get_by_text(f"已创建评审批次「{ROUND}」。")).to_be_visible()
    round_url = staff.url
    steps.shot(staff, "round-created")
    db.rollback()
    rnd = db.exec(select(Round).where(Round.name == ROUND)).one()

    # --- staff: import the official list (4 equipment makers) -------------------------------------------------
    rows = [r for r in sample_rows(db, rnd, 16) if r["所属行业"] == "装备制造"][:4]
    for number, row in enumerate(rows, start=1):
        row["序号"] = number
    factories = [r["工厂名称"] for r in rows]
    enterprises = [r["企业名称"] for r in rows]
    workbook = official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA)
    staff.get_by_role("link", name="申报管理").click()
    staff.get_by_role("link", name="导入").first.click()
    staff.get_by_label("表格文件").set_input_files(
        [{"name": "名单汇总表.xlsx", "mimeType": "application/vnd.ms-excel", "buffer": workbook}]
    )
    staff.get_by_role("button", name="上传并检查").click()
    expect(staff.get_by_role("heading", name="导入预览：名单汇总表.xlsx")).to_be_visible()
    expect(staff.get_by_text("检查通过，可以导入")).to_be_visible()
    for factory in factories:
        expect(staff.get_by_text(factory).first).to_be_visible()
    steps.shot(staff, "import-preview")
    staff.get_by_role("button", name="确认导入 4 行").click()
    expect(staff.get_by_text("新增 4 条，更新 0 条，未变 0 条")).to_be_visible()
    steps.shot(staff, "import-done")

    # --- staff: formal review: three pass, one does not -------------------------------------------------------
    staff.goto(round_url)
    staff.get_by_role("link", name="形式审查").first.click()
    for factory in factories[:3]:
        staff.get_by_label(f"选择 {factory}").check()
    staff.get_by_role("button", name="所选确认通过").click()
    expect(staff.get_by_text("已确认 3 条申报形式审查通过。")).to_be_visible()
    staff.get_by_label(f"选择 {factories[3]}").check()
    staff.get_by_label("理由 / 意见").fill("申报材料缺少近三年财务审计报告，经通知未补正。")
    accept_next_dialog(staff)
    staff.get_by_role("button", name="所选确认不通过").click()
    expect(staff.get_by_text("已确认 1 条申报形式审查不通过。")).to_be_visible()
    steps.shot(staff, "formal-review")

    # --- staff: experts from the expert import template, then their accounts ----------------------------------
    staff.goto("/experts/import")
    expect(staff.get_by_role("heading", name="从 Excel 导入专家")).to_be_visible()
    _, blank = download(staff, lambda: staff.get_by_role("link", name="下载导入模板").click())
    wb = load_workbook(io.BytesIO(blank))
    ws = wb.worksheets[0]
    head = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "序号")
    names = [c.value for c in ws[head]]
    for offset, (name, id4, employer, title) in enumerate(EXPERTS):
        values = {"序号": offset + 1, "姓名": name, "身份证号后四位": id4, "工作单位": employer, "职称": title,
                  "专业领域": "装备制造", "所在地市": "济南市", "手机号码": f"1390531{offset:04d}",
                  "电子邮箱": f"expert{offset}@example.cn", "单位统一社会信用代码": None}  # fmt: skip
        for c, column in enumerate(names, start=1):
            ws.cell(row=head + 1 + offset, column=c, value=values.get(column))
    for extra in wb.worksheets[1:]:  # the example rows of the other sheets belong to 张伟, who is not imported
        extra.delete_rows(3, extra.max_row)
    buf = io.BytesIO()
    wb.save(buf)
    staff.locator("input[type=file]").set_input_files(
        [{"name": "评审专家.xlsx", "mimeType": "application/vnd.ms-excel", "buffer": buf.getvalue()}]
    )
    staff.get_by_role("button", name="上传并预览").click()
    steps.shot(staff, "experts-import-preview")
    staff.get_by_role("button", name="确认导入").click()
    expect(staff.get_by_text("导入完成：新增 4 位专家，更新 0 位，0 位无变化。")).to_be_visible()
    for name, *_ in EXPERTS:
        staff.get_by_label(f"选择 {name}").check()
    accept_next_dialog(staff)
    staff.get_by_role("button", name="为勾选的专家创建账号").click()
    expect(staff.get_by_role("heading", name="已为 4 位专家创建账号")).to_be_visible()
    steps.shot(staff, "expert-accounts")
    accounts = {}
    for slip in staff.get_by_test_id("credential-slip").all():
        text = slip.inner_text()
        name = next(n for n, *_ in EXPERTS if n in text)
        username = slip.locator("td.mono").first.inner_text().strip()
        accounts[name] = (username, slip.get_by_test_id("one-time-password").inner_text().strip())
    assert set(accounts) == {n for n, *_ in EXPERTS}

    # --- staff: the panel, its members and chair, the assignment ----------------------------------------------
    staff.goto(round_url)
    staff.locator("a.tile", has_text="专家组").click()
    staff.get_by_label("名称").fill(PANEL)
    staff.get_by_label("所属行业").select_option("装备制造")
    staff.get_by_role("button", name="新建").click()
    expect(staff.get_by_text(f"已新建专家组「{PANEL}」。请添加成员。")).to_be_visible()
    for name, *_ in EXPERTS:
        staff.locator("label.panels-check", has_text=name).locator("input").check()
    staff.get_by_role("button", name="添加所选专家").click()
    expect(staff.get_by_text("已添加 4 位成员。")).to_be_visible()
    chair_name = EXPERTS[0][0]
    members = staff.get_by_role("row").filter(has_text=chair_name)
    accept_next_dialog(staff)
    members.get_by_role("button", name="设为组长").click()
    expect(staff.get_by_text("已指定新的组长。")).to_be_visible()
    steps.shot(staff, "panel")
    staff.goto(round_url.rstrip("/") + "/assignment")
    expect(staff.get_by_role("heading", name=f"{ROUND} · 项目分配")).to_be_visible()
    expect(staff.locator(".panels-summary")).to_contain_text("形式审查通过 3 项")
    expect(staff.locator(".panels-summary")).to_contain_text("未分配 3 项")
    accept_next_dialog(staff)
    staff.get_by_role("button", name="自动分配").click()
    expect(staff.get_by_text("自动分配完成：3 个申报项目已分配（变动 3 个）。")).to_be_visible()
    expect(staff.locator(".panels-summary")).to_contain_text("未分配 0 项")
    steps.shot(staff, "assignment")

    # --- experts: first sign-in, pledge, declaration, scoring -------------------------------------------------
    pages = {}
    for index, (name, *_rest) in enumerate(EXPERTS):
        page = pages[name] = new_page(chromium, live_server)
        username, one_time = accounts[name]
        sign_in(page, username, one_time)
        expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
        page.get_by_label("当前密码").fill(one_time)
        page.get_by_label(re.compile(r"^新密码")).fill(NEW_PASSWORD)
        page.get_by_label("确认新密码").fill(NEW_PASSWORD)
        page.get_by_role("button", name="保存新密码").click()
        page.goto("/expert/rounds")
        card = page.get_by_role("region", name=ROUND)
        expect(card).to_contain_text("未签署承诺")
        card.get_by_role("link", name="阅读并签署承诺").click()
        expect(page.get_by_role("heading", name="保密与公正承诺")).to_be_visible()
        page.get_by_label("本人已阅读并承诺遵守以上内容").check()
        page.get_by_role("button", name="签署承诺").click()
        expect(page.get_by_role("heading", name="回避声明")).to_be_visible()
        for enterprise in enterprises[:3]:
            expect(page.get_by_role("cell", name=enterprise, exact=True)).to_be_visible()
        page.get_by_label("本人已逐一核对以上企业，如实声明").check()
        page.get_by_role("button", name="提交回避声明").click()
        expect(page.get_by_text("回避声明已提交：您确认与本组申报企业均无利害关系。")).to_be_visible()
        card = page.get_by_role("region", name=ROUND)
        expect(card).to_contain_text("共 3 项 未开始 3 草稿 0 退回重评 0 已提交 0")
        if index == 0:
            steps.shot(page, "expert-declared")

        page.goto("/expert/rounds")  # the home's summary of the round links to its list
        page.get_by_role("region", name=ROUND).get_by_role("link", name="进入评审列表").click()
        for number, factory in enumerate(factories[:3]):
            row = page.get_by_role("row").filter(has_text=factory)
            expect(row.get_by_text("未开始")).to_be_visible()
            row.get_by_role("link", name="开始评分").click()
            expect(page.get_by_role("heading", name="专家评分表")).to_be_visible()
            fill_sheet(page, 0.9 - 0.1 * number - 0.02 * index)
            total = page.locator("#sheet-total").inner_text()
            if index == 0 and number == 0:
                first_score = page.locator("input[name^=score-]").first.input_value()
                steps.shot(page, "sheet-autosaved")
                page.reload()  # every value was saved as it was typed
                expect(page.locator("input[name^=score-]").first).to_have_value(first_score)
                expect(page.get_by_role("textbox", name="评审意见")).to_have_value(OPINION)
                expect(page.locator("#sheet-total")).to_have_text(total)
                steps.shot(page, "sheet-reloaded")
            submit_sheet(page)
            page.get_by_role("link", name=f"返回{ROUND}评审列表").click()
            expect(page.get_by_role("row").filter(has_text=factory).get_by_text("已提交")).to_be_visible()
        if index == 0:
            steps.shot(page, "expert-all-submitted")

    # --- the chair returns one sheet, the expert re-scores, the chair finalizes -------------------------------
    chair = pages[chair_name]
    chair.goto("/expert/rounds")
    chair.get_by_role("link", name=f"组长工作台：{PANEL}").click()
    expect(chair.get_by_role("heading", name="本组排名")).to_be_visible()
    rows_ = chair.locator("table.ranking-table tbody tr")
    expect(rows_).to_have_count(3)
    steps.shot(chair, "chair-ranking")
    expect(chair.locator(".panels-summary")).to_contain_text("已提交 12 草稿 0 退回重评 0 未开始 0")
    chair.get_by_text("各评分表状态").click()
    heads = chair.locator("table.sheet-matrix thead th").all_inner_texts()
    column = next(i for i, h in enumerate(heads) if h.startswith(EXPERTS[1][0]))
    cell = chair.locator("table.sheet-matrix tbody tr", has_text=enterprises[0]).locator("td").nth(column)
    cell.get_by_role("link", name="退回重评").click()
    expect(chair.get_by_role("heading", name="退回评分表")).to_be_visible()
    expect(chair.get_by_text(EXPERTS[1][0])).to_be_visible()
    chair.get_by_label("退回原因").fill("请复核「企业规模」一项的评分依据。")
    chair.get_by_role("button", name="确认退回").click()
    expect(chair.get_by_text("已退回该评分表，专家将看到退回原因并重新评分。")).to_be_visible()
    steps.shot(chair, "chair-returned")

    expect(cell).to_contain_text("请复核「企业规模」一项的评分依据。")
    page = pages[EXPERTS[1][0]]
    page.goto("/expert/rounds")
    card = page.get_by_role("region", name=ROUND)
    expect(card).to_contain_text("共 3 项 未开始 0 草稿 0 退回重评 1 已提交 2")
    card.get_by_role("link", name="处理退回重评（1）").click()  # the list filtered to the returned sheet
    expect(page.get_by_text("退回原因：请复核「企业规模」一项的评分依据。")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the returned sheet
    back = page.get_by_role("row").filter(has_text=factories[0])
    back.get_by_role("link", name="重新评分").click()
    expect(page.get_by_text("请复核「企业规模」一项的评分依据。")).to_be_visible()
    steps.shot(page, "expert-sheet-returned")
    first = page.locator("input[name^=score-]").first
    first.fill(str(max(1, int(float(first.input_value())) - 1)))
    first.press("Tab")
    expect(page.locator(f"#st-{first.get_attribute('name')}")).to_contain_text("已保存")
    submit_sheet(page)

    chair.reload()
    for i in range(3):
        row = rows_.nth(i)
        row.get_by_text("意见与推荐").click()
        row.get_by_label("推荐", exact=True).check()
        row.get_by_label("专家组意见").fill("生产作业与生产管理环节数字化水平较高，同意推荐。")
        row.get_by_role("button", name="保存").click()
        expect(chair.get_by_text("已保存专家组意见")).to_be_visible()
    chair.get_by_label("专家组总体意见").fill("本组四位专家独立评分，意见基本一致，推荐以上三个项目。")
    chair.get_by_role("button", name="保存总体意见").click()
    expect(chair.get_by_text("已保存专家组总体意见")).to_be_visible()
    accept_next_dialog(chair)
    chair.get_by_role("button", name="确认定稿").click()
    expect(chair.get_by_text("本专家组已定稿，评分表已锁定。")).to_be_visible()
    steps.shot(chair, "chair-finalized")

    # --- staff: spot check, publicity, objection, final list ------------------------------------------------
    staff.goto(round_url)
    staff.locator("a.tile", has_text="现场抽查").click()
    staff.get_by_label("抽取数量").fill("1")
    staff.get_by_label("随机种子").fill("20261206")
    staff.get_by_role("button", name="随机抽取").click()
    expect(staff.get_by_text("已随机抽取 1 个项目（随机种子 20261206）")).to_be_visible()
    check = staff.locator("tr.spot-detail details").first
    check.locator("summary").click()
    check.get_by_label("抽查人员").fill("王检查、李核实")
    check.get_by_label("抽查结论").select_option(label="通过")
    check.get_by_label("抽查情况").fill("现场核查申报场景均已建成运行，与申报材料一致。")
    check.get_by_role("button", name="登记结论").click()
    expect(staff.get_by_text("已登记现场抽查结论。")).to_be_visible()
    steps.shot(staff, "spot-check")

    start = today - timedelta(days=21)  # a period that has run out, so the list can be made final today
    staff.get_by_role("link", name="公示", exact=True).click()
    staff.get_by_label("公示开始日期").fill(start.isoformat())
    staff.get_by_label("受理异议的单位").fill("省工业和信息化厅装备工业处")
    staff.get_by_label("联系地址").fill("济南市历下区省府前街1号")
    staff.get_by_label("联系电话").fill("0531-86000000")
    staff.get_by_role("button", name="保存公示设置").click()
    expect(staff.get_by_text("已保存公示设置。")).to_be_visible()
    accept_next_dialog(staff)
    staff.get_by_role("button", name="发布公示").click()
    expect(staff.get_by_text("已发布公示，公众可在公示页面查看。")).to_be_visible()
    steps.shot(staff, "publicity-published")

    staff.get_by_role("navigation", name="主导航").get_by_role("link", name="异议处理").click()
    staff.get_by_role("link", name="登记异议").click()
    with staff.expect_response(lambda r: "/objections/new?round_id=" in r.url):
        staff.get_by_label("评审批次").select_option(str(rnd.id))
    target = staff.get_by_label("公示名单上的项目").locator("option", has_text=enterprises[2])
    staff.get_by_label("公示名单上的项目").select_option(target.get_attribute("value"))
    staff.get_by_label("收到渠道").select_option("信函")
    staff.get_by_label("收到日期").fill((start + timedelta(days=1)).isoformat())
    staff.get_by_label("异议人类型").select_option(label="单位")
    staff.get_by_label("单位名称或姓名").fill("济南恒信检测技术有限公司")
    staff.get_by_label("联系方式").fill("0531-88886666")
    staff.get_by_label("通讯地址").fill("济南市历下区经十路 100 号")
    staff.get_by_label("已核对").check()
    staff.get_by_label("异议内容").fill("该企业申报的智能仓储场景尚未建成投用，与公示材料不符。")
    staff.get_by_role("button", name="登记").click()
    expect(staff.locator("h1").get_by_text("已登记")).to_be_visible()

    def step(code: str):  # type: ignore[no-untyped-def]
        box = staff.locator(f"#step-{code}")
        box.locator("summary").click()
        return box

    box = step("accept")
    box.get_by_label("受理意见").fill("在公示期内以单位名义提出并加盖公章，予以受理。")
    box.get_by_role("button", name="确认受理").click()
    expect(staff.get_by_text("已办理：受理。")).to_be_visible()
    box = step("start")
    box.get_by_label("王工").check()
    box.get_by_label("办理意见").fill("请企业书面说明智能仓储场景建设情况。")
    box.get_by_role("button", name="确认开始核实（指定承办人、要求企业说明）").click()
    expect(staff.locator("h1").get_by_text("核实中")).to_be_visible()
    box = step("record_explanation")
    box.get_by_label("企业说明要点").fill("企业提供了仓储系统验收报告和运行记录。")
    box.get_by_role("button", name="确认登记企业说明").click()
    expect(staff.get_by_text("已办理：登记企业说明。")).to_be_visible()
    box = step("conclude")
    box.get_by_label("核实结论").select_option(label="不成立")
    box.get_by_label("核实情况（事实与依据）").fill("智能仓储场景已于申报前建成投用，异议所述与事实不符。")
    box.get_by_role("button", name="确认作出核实结论").click()
    expect(staff.locator("h1").get_by_text("已有结论")).to_be_visible()
    steps.shot(staff, "objection-concluded")
    box = step("apply")
    box.get_by_label("处理结果").select_option(label="保留在名单上")
    box.get_by_label("处理说明（写入推荐名单的说明）").fill("异议不成立，维持公示名单。")
    accept_next_dialog(staff)  # asked only when the list changes; harmless otherwise
    box.get_by_role("button", name="确认处理（落实到推荐名单）").click()
    expect(staff.locator("h1").get_by_text("已处理")).to_be_visible()
    box = step("close")
    box.get_by_label("答复异议人").fill("书面答复异议人：经核实异议不成立，维持公示名单。")
    box.get_by_role("button", name="确认办结（记录答复异议人情况）").click()
    expect(staff.locator("h1").get_by_text("已办结")).to_be_visible()
    steps.shot(staff, "objection-closed")

    staff.goto(round_url.rstrip("/") + "/publicity")
    accept_next_dialog(staff)
    staff.get_by_role("button", name="推荐名单定稿").click()
    expect(staff.get_by_text("推荐名单已定稿。")).to_be_visible()
    accept_next_dialog(staff)
    staff.get_by_role("button", name="发布最终名单").click()
    expect(staff.get_by_text("已发布最终名单，并为名单上的项目建立了认定记录。")).to_be_visible()
    expect(staff.locator("#final")).to_contain_text("最终名单已发布")
    expect(staff.locator("#final")).to_contain_text("3 个项目已建立认定记录")
    steps.shot(staff, "final-list")

    # --- staff: every export, opened -------------------------------------------------------------------------
    staff.goto(round_url)
    staff.locator("a.tile", has_text="导出").click()
    expect(staff.get_by_role("heading", name=f"导出：{ROUND}")).to_be_visible()
    expect(staff.locator(".exports-table").first).to_contain_text("推荐名单 3 个项目")
    steps.shot(staff, "exports")
    links = staff.locator("main a[href*='/exports/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    seen = {}
    for href in hrefs:
        name, data = download(
            staff, lambda h=href: staff.locator(f"main a[href='{h}']").first.click(no_wait_after=True)
        )
        seen[href] = (name, data)
    staff.get_by_label("申报项目").select_option(index=1)
    name, data = download(staff, lambda: staff.get_by_role("button", name="下载专家评分表").click())
    seen["sheets"] = (name, data)
    assert len(seen) == 9, list(seen)
    opened = []
    for name, data in seen.values():
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                inner = [n for n in z.namelist() if n.endswith(".xlsx")]
                assert inner, f"{name} holds no workbook"
                opened += [(n, z.read(n)) for n in inner]
                for n in z.namelist():
                    if n.endswith(".pdf"):
                        assert z.read(n).startswith(b"%PDF"), n
        else:
            opened.append((name, data))
    kinds = set()
    for name, data in opened:
        kind = next(k for k in HEADERS if name.endswith(k))
        kinds.add(kind)
        first, expected = HEADERS[kind]
        header = header_row(data, first)
        assert header[: len(expected)] == expected, (name, header)
        if kind == "推荐汇总表.xlsx":
            ws = load_workbook(io.BytesIO(data)).worksheets[0]
            listed = [row[2] for row in ws.iter_rows(values_only=True) if isinstance(row[0], int)]
            assert sorted(listed) == sorted(enterprises[:3]), listed
        if kind == "专家评分汇总表.xlsx":
            assert sorted(header[4:8]) == sorted(n for n, *_ in EXPERTS), header
    assert kinds == set(HEADERS), kinds
    name, pdf = download(staff, lambda: staff.locator("main a[href$='/documents/recommendations.pdf']").first.click())
    assert pdf.startswith(b"%PDF"), name
    print(f"whole round: {time.monotonic() - steps.started:.1f}s")
