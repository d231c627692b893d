"""A user signs in, sees the home page with the navigation of their role, and signs out."""

from playwright.sync_api import expect

from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_staff_signs_in_sees_home_and_signs_out(page, make_user):
    make_user("wanggong", Role.staff, display_name="王工")
    page.goto("/")
    assert "/login" in page.url
    sign_in(page, "wanggong", PASSWORD)
    expect(page.get_by_role("heading", name="您好，王工")).to_be_visible()
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="操作日志")).to_be_visible()
    expect(nav.get_by_role("link", name="用户管理")).to_have_count(0)
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_text("您已安全退出。")).to_be_visible()
    page.goto("/audit")
    assert "/login" in page.url


def test_wrong_password_shows_chinese_message(page, make_user):
    make_user("lisi", Role.expert)
    sign_in(page, "lisi", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
