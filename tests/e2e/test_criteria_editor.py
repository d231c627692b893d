"""Staff edit a criteria tree in the browser: htmx swaps the tree in place and the running totals follow."""

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.factories import make_criteria_version


def test_add_edit_and_delete_items_with_running_totals(page, make_user, db):
    make_user("wanggong", Role.staff, display_name="王工")
    version = make_criteria_version(db, name="山东省先进级要素条件")
    sign_in(page, "wanggong", PASSWORD)
    page.goto(f"/criteria/{version.id}")
    total = page.locator("#criteria-total")
    expect(total).to_have_text("100")

    page.get_by_role("link", name="＋ 在「生产作业」下添加条目").click()
    form = page.locator("form.node-form")
    form.get_by_label("编码").fill("SC03")
    form.get_by_label("名称").fill("质量精准追溯")
    form.get_by_label("满分（分）").fill("7.5")
    form.get_by_label("步长（分）").fill("2")
    form.get_by_role("button", name="保存").click()
    # Not a multiple of the step: the form stays open with the message, nothing saved.
    expect(form.get_by_text("应为「步长」（2）的整数倍")).to_be_visible()
    expect(total).to_have_text("100")
    form.get_by_label("步长（分）").fill("0.5")
    form.get_by_role("button", name="保存").click()
    expect(total).to_have_text("107.5")
    expect(page.locator('[data-dimension-total="SC"]')).to_have_text("97.5")
    expect(page.get_by_text("不是 100 分")).to_be_visible()
    assert page.url.endswith(f"/criteria/{version.id}")  # swapped in place, no page load

    row = page.locator("tr", has_text="设备运行监控")
    row.get_by_role("link", name="编辑").click()
    page.locator("form.node-form").get_by_label("满分（分）").fill("32.5")
    page.locator("form.node-form").get_by_role("button", name="保存").click()
    expect(total).to_have_text("100")
    expect(page.get_by_text("不是 100 分")).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="质量精准追溯").get_by_role("button", name="删除").click()
    expect(total).to_have_text("92.5")
    expect(page.get_by_text("质量精准追溯")).to_have_count(0)
