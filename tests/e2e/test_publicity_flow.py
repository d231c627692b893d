"""Staff draw a spot-check sample in the browser, record a failed check that removes an application, set up and
publish the publicity notice; the public page (no login) shows the list without the removed application."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from reviewapp.ranking import recommendations
from tests.conftest import PASSWORD, reread
from tests.e2e.conftest import sign_in
from tests.integration.test_publicity import finalized_round

SHOTS = os.environ.get("REVIEWAPP_SHOTS")  # a directory: save screenshots of the pages for a look by eye


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_spot_check_and_publicity_in_the_browser(page, make_user, db):  # type: ignore[no-untyped-def]
    rnd, _panel, apps, _experts = finalized_round(db)
    reread(db)
    names = {r.application.id: r.enterprise.name for r in recommendations.round_list(db, round_id=rnd.id).listed}
    make_user("wanggong", Role.staff, display_name="王工")
    sign_in(page, "wanggong", PASSWORD)

    page.goto(f"/rounds/{rnd.id}")
    page.get_by_role("link", name="现场抽查").first.click()
    page.get_by_label("抽取数量").fill("2")
    page.get_by_label("随机种子").fill("20260915")
    page.get_by_role("button", name="随机抽取").click()
    expect(page.get_by_text("已随机抽取 2 个项目（随机种子 20260915）")).to_be_visible()
    shot(page, "spot-checks")

    first = page.locator("tr.spot-detail details").first
    first.locator("summary").click()
    first.get_by_label("抽查人员").fill("王检查、李核实")
    first.get_by_label("抽查结论").select_option(label="存在问题-移出名单")
    first.get_by_label("抽查情况").fill("申报的在线智能检测场景未建成，产线仍为人工目检。")
    first.get_by_label("移出理由或整改要求").fill("申报场景与现场不符")
    page.once("dialog", lambda d: d.accept())
    first.get_by_role("button", name="登记结论").click()
    expect(page.get_by_text("已登记现场抽查结论。")).to_be_visible()
    expect(page.locator(".spot-table").get_by_text("已移出")).to_be_visible()
    shot(page, "spot-checks-recorded")
    reread(db)
    removed = recommendations.round_list(db, round_id=rnd.id).removed[0].application.id

    page.get_by_role("link", name="公示", exact=True).click()
    page.get_by_label("公示开始日期").fill("2026-09-28")
    page.get_by_label("受理异议的单位").fill("省工业和信息化厅装备工业处")
    page.get_by_label("联系地址").fill("济南市历下区省府前街1号")
    page.get_by_label("联系电话").fill("0531-86000000")
    page.get_by_role("button", name="保存公示设置").click()
    expect(page.get_by_text("2026年9月28日至2026年10月9日").first).to_be_visible()
    shot(page, "publicity-setup")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="发布公示").click()
    expect(page.get_by_text("已发布公示，公众可在公示页面查看。")).to_be_visible()
    shot(page, "publicity-published")

    page.context.clear_cookies()  # the public, without an account
    page.goto("/login")
    page.get_by_role("link", name="公示公告").click()
    page.get_by_role("link", name=f"关于{rnd.name}拟认定名单的公示").click()
    expect(page.get_by_role("heading", name=f"关于{rnd.name}拟认定名单的公示")).to_be_visible()
    table = page.locator(".publicity-table")
    for app_id, name in names.items():
        if app_id == removed:
            expect(table.get_by_role("cell", name=name, exact=True)).to_have_count(0)
        else:
            expect(table.get_by_role("cell", name=name, exact=True)).to_be_visible()
    shot(page, "public-notice")
    page.emulate_media(media="print")
    shot(page, "public-notice-print")
