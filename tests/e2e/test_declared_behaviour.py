"""Behaviour declared in markup (data-confirm, data-print) works under the Content-Security-Policy, which
forbids inline handlers: a dismissed confirmation sends nothing, an accepted one goes ahead."""

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_confirmation_dismissed_keeps_the_account_and_accepted_disables_it(page, make_user):
    make_user("guanli", Role.sysadmin)
    make_user("zhaoliu", Role.staff)
    sign_in(page, "guanli", PASSWORD)
    page.goto("/admin/users?q=zhaoliu")
    row = page.get_by_role("row").filter(has_text="zhaoliu")
    expect(row.get_by_text("正常")).to_be_visible()

    questions: list[str] = []

    def dismiss(dialog):  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.get_by_role("button", name="停用").click()
    page.wait_for_timeout(300)  # a submit, had it gone ahead, would have navigated by now
    assert questions == ["确定停用用户 zhaoliu？其所有登录会话将立即结束。"]
    page.reload()
    expect(page.get_by_role("row").filter(has_text="zhaoliu").get_by_text("正常")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row").filter(has_text="zhaoliu").get_by_role("button", name="停用").click()
    expect(page.get_by_role("row").filter(has_text="zhaoliu").get_by_text("已停用")).to_be_visible()


def test_print_button_prints(page, make_user):
    make_user("guanli2", Role.sysadmin)
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    sign_in(page, "guanli2", PASSWORD)
    page.goto("/admin/users/new")
    page.get_by_label("用户名").fill("sunqi")
    page.get_by_label("姓名").fill("孙七")
    page.get_by_label("角色").select_option(label="工作人员")
    page.get_by_role("button", name="创建").click()
    page.get_by_role("button", name="打印凭据单").click()
    assert page.evaluate("window.__printed") == 1
