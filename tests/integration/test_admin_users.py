"""The administrator's user pages: list, search, create, disable, re-enable, one-time password."""

import re

from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role, User, UserSession
from tests.conftest import PASSWORD, Browser, csrf_from, reread


def _one_time_password(html: str) -> str:
    match = re.search(r'data-testid="one-time-password">([^<]+)<', html)
    assert match, "no one-time password on the page"
    return match.group(1)


def test_admin_creates_a_user_who_must_change_the_shown_password(admin_client, app, db):
    page = admin_client.submit("/admin/users", {"username": "Wang.Gong", "display_name": "王工", "role": "staff"})
    assert page.status_code == 200
    assert "只显示这一次" in page.text
    password = _one_time_password(page.text)
    user = db.exec(select(User).where(User.username == "wang.gong")).one()
    assert user.role == "staff" and user.must_change_password
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "user.create")).all()[-1]
    assert password not in entry.after_json and "wang.gong" in entry.after_json

    with Browser(app=app, base_url="http://testserver.local") as newcomer:
        login_page = newcomer.get("/login")
        response = newcomer.post(
            "/login",
            data={"username": "wang.gong", "password": password, "_csrf_token": csrf_from(login_page.text)},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/account/password"


def test_create_user_validation_messages(admin_client, make_user):
    make_user("taken", Role.staff)
    duplicate = admin_client.submit("/admin/users", {"username": "taken", "display_name": "某", "role": "staff"})
    assert "已存在" in duplicate.text
    bad_chars = admin_client.submit("/admin/users", {"username": "张三丰", "display_name": "张三丰", "role": "staff"})
    assert "只能包含" in bad_chars.text
    for role in ("root", "secadmin", "auditadmin", "sysadmin"):  # administrator roles are granted, not created here
        bad_role = admin_client.submit("/admin/users", {"username": "okname", "display_name": "某", "role": role})
        assert "取值无效" in bad_role.text
    too_long = admin_client.submit("/admin/users", {"username": "okname", "display_name": "长" * 65, "role": "staff"})
    assert "不能超过 64 个字符" in too_long.text


def test_disable_ends_sessions_and_enable_restores_login(admin_client, make_user, login, db):
    user = make_user("worker", Role.expert)
    worker = login(user)
    assert worker.get("/").status_code == 200
    response = admin_client.submit(f"/admin/users/{user.id}/disable", follow_redirects=False)
    assert response.status_code == 303
    assert db.exec(select(UserSession).where(UserSession.user_id == user.id)).all() == []
    assert worker.get("/", follow_redirects=False).status_code == 303
    listing = admin_client.get("/admin/users?status=disabled")
    assert "worker" in listing.text and "已停用" in listing.text
    admin_client.submit(f"/admin/users/{user.id}/enable")
    assert login(user).get("/").status_code == 200


def test_admin_cannot_disable_themself_or_another_administrator(admin_client, make_user, db):
    me = db.exec(select(User).where(User.username == "admin1")).one()
    auditor = make_user("auditor9", Role.auditadmin)
    for target in (me, auditor):
        page = admin_client.submit(f"/admin/users/{target.id}/disable")
        assert "管理员账号不能在此管理" in page.text
        assert "管理员账号不能在此管理" in admin_client.submit(f"/admin/users/{target.id}/password").text
    reread(db)
    assert db.get(User, me.id).is_active and db.get(User, auditor.id).is_active
    assert "data-testid" not in admin_client.submit(f"/admin/users/{auditor.id}/password").text


def test_one_time_password_replaces_the_old_one_and_ends_sessions(admin_client, make_user, login, app):
    user = make_user("forgetful", Role.staff)
    old = login(user)
    page = admin_client.submit(f"/admin/users/{user.id}/password")
    new_password = _one_time_password(page.text)
    assert old.get("/", follow_redirects=False).status_code == 303
    with Browser(app=app, base_url="http://testserver.local") as b:
        tok = csrf_from(b.get("/login").text)
        refused = b.post("/login", data={"username": "forgetful", "password": PASSWORD, "_csrf_token": tok})
        assert "用户名或密码错误" in refused.text
        ok = b.post(
            "/login",
            data={"username": "forgetful", "password": new_password, "_csrf_token": tok},
            follow_redirects=False,
        )
        assert ok.headers["location"] == "/account/password"


def test_user_list_search_filter_and_pagination(admin_client, make_user):
    for i in range(35):
        make_user(f"expert{i:02d}", Role.expert, display_name=f"专家{i:02d}")
    make_user("staffer", Role.staff, display_name="王工作")
    first = admin_client.get("/admin/users?role=expert")
    assert "共 35 条" in first.text and "staffer" not in first.text
    second = admin_client.get("/admin/users?role=expert&page=2")
    assert "第 2 / 2 页" in second.text
    found = admin_client.get("/admin/users?q=王工")
    assert "staffer" in found.text and "expert01" not in found.text
    fragment = admin_client.get("/admin/users?q=王工", headers={"hx-request": "true", "hx-target": "user-table"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="user-table">')
    assert "staffer" in fragment.text and "<html" not in fragment.text


def test_only_admins_reach_user_pages(staff_client):
    assert staff_client.get("/admin/users").status_code == 403
    assert (
        staff_client.submit("/admin/users", {"username": "x1x", "display_name": "x", "role": "staff"}).status_code
        == 403
    )
