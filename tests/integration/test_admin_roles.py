"""三员分立 and the security policy, through HTTP: each administrator does his own job and is refused the others'
(a Chinese 403 page); the policy the security administrator saves takes effect at once; admin actions and the
audit administrator's reads are audited; the old `admin` accounts become system administrators."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text, update
from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role, SecurityPolicy, User, UserSession
from reviewapp.cli import main
from reviewapp.clock import utcnow
from reviewapp.db import create_db_engine, migrate
from reviewapp.settings import Settings
from tests.conftest import PASSWORD, Browser, csrf_from, reread

# Each role's own pages (GET) and one of its writes.
OWN_PAGES = {
    "sysadmin": ["/admin/users", "/admin/users/new"],
    "secadmin": ["/admin/roles", "/admin/policy"],
    "auditadmin": ["/audit", "/audit/export.xlsx"],
    "staff": ["/rounds", "/applications", "/audit", "/audit/export.xlsx"],
}
ALL_PAGES = sorted({p for pages in OWN_PAGES.values() for p in pages})

POLICY = {
    "password_min_length": "10",
    "password_min_classes": "2",
    "password_expiry_days": "0",
    "password_history": "5",
    "lockout_failures": "5",
    "lockout_minutes": "15",
    "idle_minutes": "120",
    "admin_networks": "",
}


@pytest.fixture
def browsers(sysadmin_client, secadmin_client, auditadmin_client, staff_client):
    return {
        "sysadmin": sysadmin_client,
        "secadmin": secadmin_client,
        "auditadmin": auditadmin_client,
        "staff": staff_client,
    }


def set_policy(secadmin_client, **changes):
    data = {**POLICY, **{k: str(v) for k, v in changes.items()}}
    response = secadmin_client.submit("/admin/policy", data, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "安全策略已保存" in secadmin_client.get("/admin/policy").text


def test_each_role_reaches_its_own_pages_and_is_refused_the_others(browsers):
    for role, browser in browsers.items():
        for path in ALL_PAGES:
            response = browser.get(path)
            if path in OWN_PAGES[role]:
                assert response.status_code == 200, (role, path)
            else:
                assert response.status_code == 403, (role, path)
                assert "无权访问" in response.text and "您没有权限访问此页面" in response.text


def test_each_role_is_refused_the_others_writes(browsers, make_user, db):
    target = make_user("target", Role.staff)
    writes = {
        "sysadmin": [("/admin/users", {"username": "newone", "display_name": "新", "role": "staff"})],
        "secadmin": [(f"/admin/roles/{target.id}", {"role": "secadmin"}), ("/admin/policy", POLICY)],
        "sysadmin_reset": [(f"/admin/users/{target.id}/password", {})],
        "sysadmin_disable": [(f"/admin/users/{target.id}/disable", {})],
    }
    for role, browser in browsers.items():
        for owner, items in writes.items():
            if owner.startswith(role):
                continue
            for path, data in items:
                assert browser.submit(path, data).status_code == 403, (role, path)
    reread(db)
    assert db.get(User, target.id).role == "staff" and db.get(User, target.id).is_active
    assert db.exec(select(User).where(User.username == "newone")).first() is None


def test_administrators_get_no_reviewing_pages_and_see_only_their_nav(browsers):
    for role, browser in browsers.items():
        home = browser.get("/")
        nav = home.text.split("</nav>")[0]
        assert ("/admin/users" in nav) == (role == "sysadmin")
        assert ("/admin/policy" in nav and "/admin/roles" in nav) == (role == "secadmin")
        assert ('href="/audit"' in nav) == (role in {"auditadmin", "staff"})
        assert ('href="/rounds"' in nav) == (role == "staff")
        if role != "staff":
            assert "三员分立" in home.text and "评审批次进展" not in home.text
    for path in ("/rounds", "/applications", "/experts", "/panels", "/ranking", "/reports", "/objections"):
        for role in ("sysadmin", "secadmin", "auditadmin"):
            assert browsers[role].get(path).status_code == 403, (role, path)


def test_the_security_administrator_grants_roles_one_per_account_and_it_is_audited(
    secadmin_client, make_user, login, db
):
    worker = make_user("worker", Role.staff)
    worker_browser = login(worker)
    response = secadmin_client.submit(f"/admin/roles/{worker.id}", {"role": "auditadmin"}, follow_redirects=False)
    assert response.status_code == 303
    reread(db)
    assert db.get(User, worker.id).role == "auditadmin"
    assert db.exec(select(UserSession).where(UserSession.user_id == worker.id)).all() == []
    assert worker_browser.get("/", follow_redirects=False).status_code == 303  # signed out by the grant
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "user.grant_role")).one()
    assert entry.actor_name == "secadmin1" and "审计管理员" in entry.summary and '"staff"' in entry.before_json
    # A second administrator role replaces the first: the account never holds two.
    secadmin_client.submit(f"/admin/roles/{worker.id}", {"role": "sysadmin"})
    reread(db)
    assert db.get(User, worker.id).role == "sysadmin"
    me = db.exec(select(User).where(User.username == "secadmin1")).one()
    page = secadmin_client.submit(f"/admin/roles/{me.id}", {"role": "staff"})
    assert "不能修改自己的角色" in page.text
    bad = secadmin_client.submit(f"/admin/roles/{worker.id}", {"role": "root"})
    assert "取值无效" in bad.text
    reread(db)
    assert db.get(User, me.id).role == "secadmin" and db.get(User, worker.id).role == "sysadmin"


def test_policy_changes_are_audited_and_validated(secadmin_client, db):
    page = secadmin_client.submit("/admin/policy", {**POLICY, "password_min_length": "4"})
    assert "不能小于 8" in page.text
    page = secadmin_client.submit("/admin/policy", {**POLICY, "admin_networks": "10.0.0.0/8\nnot-a-network"})
    assert "地址范围格式不正确：not-a-network" in page.text
    assert db.get(SecurityPolicy, 1) is None
    secadmin_client.submit("/admin/policy", {**POLICY, "password_min_length": "14", "single_session": "1"})
    reread(db)
    policy = db.get(SecurityPolicy, 1)
    assert policy.password_min_length == 14 and policy.single_session and policy.updated_by == "secadmin1"
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "policy.update")).one()
    assert "密码最短长度" in entry.summary and '"password_min_length":10' in entry.before_json
    assert '"password_min_length":14' in entry.after_json
    assert "任何角色都不能删除" in secadmin_client.get("/admin/policy").text


def _change(browser, current, new):
    return browser.submit(
        "/account/password", {"current_password": current, "new_password": new, "confirm_password": new}
    )


def test_a_weak_password_is_refused_under_the_policy(secadmin_client, make_user, login):
    set_policy(secadmin_client, password_min_length=12, password_min_classes=3)
    browser = login(make_user("weakling", Role.staff))
    assert "至少 12 个字符" in browser.get("/account/password").text
    short = _change(browser, PASSWORD, "Ab1-short")
    assert "密码至少需要 12 个字符" in short.text
    plain = _change(browser, PASSWORD, "alllowercaseletters")
    assert "至少包含 3 类字符" in plain.text
    ok = _change(browser, PASSWORD, "Three-Classes-2026")
    assert ok.status_code == 200 and "密码已修改" in ok.text


def test_the_last_passwords_cannot_be_reused(secadmin_client, make_user, login):
    set_policy(secadmin_client, password_history=3)
    browser = login(make_user("reuser", Role.staff))
    assert "密码已修改" in _change(browser, PASSWORD, "second-Password-2").text
    assert "密码已修改" in _change(browser, "second-Password-2", "third-Password-3").text
    refused = _change(browser, "third-Password-3", PASSWORD)
    assert "不能与最近 3 次使用过的密码相同" in refused.text
    set_policy(secadmin_client, password_history=0)
    assert "密码已修改" in _change(browser, "third-Password-3", PASSWORD).text


def test_lockout_after_failures_counts_across_app_processes(secadmin_client, make_user, app, settings, db):
    from reviewapp.app import create_app

    set_policy(secadmin_client, lockout_failures=3, lockout_minutes=7)
    make_user("target", Role.staff)
    other_process = create_app(settings)  # a second app on the same database, as a second worker would be
    for application in (app, other_process, app):
        with Browser(app=application, base_url="http://testserver.local") as b:
            token = csrf_from(b.get("/login").text)
            wrong = b.post("/login", data={"username": "target", "password": "wrong-one-9", "_csrf_token": token})
            assert "用户名或密码错误" in wrong.text
    with Browser(app=other_process, base_url="http://testserver.local") as b:
        token = csrf_from(b.get("/login").text)
        locked = b.post("/login", data={"username": "target", "password": PASSWORD, "_csrf_token": token})
        assert "登录失败次数过多" in locked.text and "7 分钟" in locked.text
    # Once the lockout has passed the right password works again.
    reread(db)
    db.exec(text("UPDATE login_attempt SET at = :t"), params={"t": utcnow() - timedelta(minutes=8)})
    db.commit()
    with Browser(app=app, base_url="http://testserver.local") as b:
        token = csrf_from(b.get("/login").text)
        ok = b.post(
            "/login", data={"username": "target", "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
        )
        assert ok.status_code == 303


def test_an_expired_password_must_be_changed_before_anything_else(secadmin_client, make_user, login, db):
    set_policy(secadmin_client, password_expiry_days=30)
    user = make_user("oldtimer", Role.staff)
    db.exec(update(User).where(User.id == user.id).values(password_changed_at=utcnow() - timedelta(days=31)))
    db.commit()
    browser = login(user)
    assert browser.get("/rounds", follow_redirects=False).headers["location"] == "/account/password"
    page = browser.get("/account/password")
    assert "密码已超过有效期" in page.text
    assert "密码已修改" in _change(browser, PASSWORD, "a-Fresh-password-7").text
    assert browser.get("/rounds").status_code == 200
    reread(db)
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "auth.password_expired")).one()


def test_an_idle_session_is_logged_out_by_the_policy_timeout(secadmin_client, staff_client, db):
    set_policy(secadmin_client, idle_minutes=10)
    assert staff_client.get("/rounds").status_code == 200
    staff = db.exec(select(User).where(User.username == "staff1")).one()
    db.exec(
        update(UserSession).where(UserSession.user_id == staff.id).values(last_seen_at=utcnow() - timedelta(minutes=11))
    )
    db.commit()
    response = staff_client.get("/rounds", follow_redirects=False)
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    reread(db)
    assert db.exec(select(UserSession).where(UserSession.user_id == staff.id)).all() == []


def test_one_session_per_account_when_the_policy_says_so(secadmin_client, make_user, login):
    user = make_user("single", Role.staff)
    first = login(user)
    second = login(user)
    assert first.get("/rounds").status_code == 200  # several sessions allowed by default
    set_policy(secadmin_client, single_session=1)
    third = login(user)
    assert third.get("/rounds").status_code == 200
    for earlier in (first, second):
        assert earlier.get("/rounds", follow_redirects=False).status_code == 303


def test_admin_pages_answer_only_from_the_allowed_addresses(secadmin_client, make_user, settings, login):
    from reviewapp.app import create_app

    make_user("boss", Role.sysadmin)
    staff = login(make_user("worker2", Role.staff))
    # A range without the security administrator's own address is refused: it would lock him out.
    mistaken = secadmin_client.submit("/admin/policy", {**POLICY, "admin_networks": "10.20.0.0/16"})
    assert "不包含您当前的地址" in mistaken.text
    behind_proxy = create_app(replace(settings, trust_proxy_headers=True))
    inside, outside = {"x-forwarded-for": "10.20.3.4"}, {"x-forwarded-for": "192.168.1.9"}
    with Browser(app=behind_proxy, base_url="http://testserver.local") as b:
        token = csrf_from(b.get("/login").text)
        b.post("/login", data={"username": "secadmin1", "password": PASSWORD, "_csrf_token": token}, headers=inside)
        saved = b.submit("/admin/policy", {**POLICY, "admin_networks": "10.20.0.0/16"}, headers=inside)
        assert "安全策略已保存" in saved.text
        refused = b.get("/admin/policy", headers=outside)
        assert refused.status_code == 403 and "不在管理页面允许访问的地址范围内" in refused.text
    # Other administrators too; staff pages are not administrator pages.
    assert secadmin_client.get("/admin/roles").status_code == 403
    assert staff.get("/rounds").status_code == 200
    with Browser(app=behind_proxy, base_url="http://testserver.local") as b:
        token = csrf_from(b.get("/login").text)
        b.post("/login", data={"username": "boss", "password": PASSWORD, "_csrf_token": token})
        assert b.get("/admin/users", headers=inside).status_code == 200
        assert b.get("/admin/users", headers=outside).status_code == 403


def test_cli_creates_the_first_administrators_and_maps_the_old_admin_role(settings, db):
    env = {"REVIEWAPP_DATABASE_URL": settings.database_url, "REVIEWAPP_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()
    for name, role in (("sec", "secadmin"), ("aud", "auditadmin")):
        result = runner.invoke(
            main, ["user", "create", name, "--role", role, "--name", "某"], input="Good-pass-2026\n", env=env
        )
        assert result.exit_code == 0, result.output
    old = runner.invoke(
        main, ["user", "create", "old", "--role", "admin", "--name", "旧"], input="Good-pass-2026\n", env=env
    )
    assert old.exit_code == 0 and "按系统管理员（sysadmin）创建" in old.output
    reread(db)
    roles = {u.username: u.role for u in db.exec(select(User))}
    assert roles == {"sec": "secadmin", "aud": "auditadmin", "old": "sysadmin"}
    actors = {e.actor_name for e in db.exec(select(AuditEntry).where(AuditEntry.action == "user.create"))}
    assert actors == {"命令行"}


def test_migration_turns_old_admins_into_system_administrators_with_a_note(tmp_path: Path):
    settings = Settings(
        mode="dev", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'old.db'}", secret_key="t" * 40
    )
    migrate(settings, "0010_spot_checks")
    engine = create_db_engine(settings)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_account (username, display_name, role, password_hash, must_change_password, "
                "is_active, created_at) VALUES ('chief', '老管理员', 'admin', 'x', false, true, '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    env = {"REVIEWAPP_DATABASE_URL": settings.database_url, "REVIEWAPP_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "已全部转为系统管理员（sysadmin）" in result.output
    assert "--role secadmin" in result.output and "--role auditadmin" in result.output
    engine = create_db_engine(settings)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM user_account WHERE username = 'chief'")).scalar() == "sysadmin"
    engine.dispose()


def test_generated_one_time_passwords_meet_a_stricter_policy(secadmin_client, sysadmin_client):
    set_policy(secadmin_client, password_min_length=20, password_min_classes=3)
    page = sysadmin_client.submit("/admin/users", {"username": "newbie", "display_name": "新人", "role": "expert"})
    assert "只显示这一次" in page.text
    password = page.text.split('data-testid="one-time-password">')[1].split("<")[0]
    assert len(password) >= 20
