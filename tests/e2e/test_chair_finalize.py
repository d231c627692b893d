"""A panel chair signs in once every sheet is in, reviews the ranking and an application's sheets, moves an
application with a written reason, records the group opinions and recommendations, and finalizes the panel."""

import os
from pathlib import Path

from playwright.sync_api import expect

from reviewapp.applications.models import Enterprise
from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.factories import make_scored_panel

SHOTS = os.environ.get("REVIEWAPP_SCREENSHOTS")  # a folder: save screenshots of the pages for a human look


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_chair_reviews_reorders_with_a_reason_and_finalizes(page, db, make_user):  # type: ignore[no-untyped-def]
    users = [make_user(f"zuzhang{i}" if i == 0 else f"zuyuan{i}", Role.expert) for i in range(5)]
    rnd, panel, apps, experts = make_scored_panel(
        db, totals=[[80, 82, 79, 90, 60], [70, 71, 72, 73, 74], [88, 86, 87, 85, 89]], users=users
    )
    names = [db.get(Enterprise, a.enterprise_id).name for a in apps]

    sign_in(page, "zuzhang0", PASSWORD)
    page.goto(f"/expert/panels/{panel.id}")
    expect(page.get_by_role("heading", name="本组排名")).to_be_visible()
    rows = page.locator("table.ranking-table tbody tr")
    expect(rows.nth(0)).to_contain_text(names[2])
    expect(rows.nth(0)).to_contain_text("87.0")
    expect(rows.nth(1)).to_contain_text("离群")
    shot(page, "chair-ranking")

    # Each expert's scores for one application, side by side.
    rows.nth(1).get_by_role("link", name="各专家评分").click()
    expect(page.get_by_role("heading", name=f"各专家评分：{names[0]}")).to_be_visible()
    expect(page.locator("table.sheets-compare")).to_contain_text(experts[4].name)
    shot(page, "chair-sheets")
    page.go_back()

    # Move the third application to first place: the reason is required.
    third = page.locator(f"#app-{apps[1].id}")
    third.get_by_text("调整名次").click()
    third.get_by_label("调整到第几名").fill("1")
    third.get_by_label("调整理由（必填，印在导出名单上）").fill("现场核查材料更完整，质量追溯覆盖全部工序")
    third.get_by_role("button", name="确认调整").click()
    expect(page.get_by_text("已调整名次")).to_be_visible()
    expect(rows.nth(0)).to_contain_text(names[1])
    expect(rows.nth(0)).to_contain_text("调整理由：现场核查材料更完整")

    # Group opinion and recommendation for each application.
    for app in apps:
        row = page.locator(f"#app-{app.id}")
        row.get_by_text("意见与推荐").click()
        row.get_by_label("推荐", exact=True).check()
        row.get_by_label("专家组意见").fill("生产作业与生产管理环节数字化水平较高，同意推荐。")
        row.get_by_role("button", name="保存").click()
        expect(page.get_by_text("已保存专家组意见")).to_be_visible()
    page.get_by_label("专家组总体意见").fill("本组五位专家独立评分，意见基本一致，推荐以上三个项目。")
    page.get_by_role("button", name="保存总体意见").click()
    expect(page.get_by_text("已保存专家组总体意见")).to_be_visible()
    shot(page, "chair-before-finalize")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="确认定稿").click()
    expect(page.get_by_text("本专家组已定稿，评分表已锁定。")).to_be_visible()
    expect(page.get_by_role("button", name="确认定稿")).to_have_count(0)
    expect(page.locator(".sheet-return")).to_have_count(0)
    expect(rows.nth(0)).to_contain_text(names[1])
    shot(page, "chair-finalized")
