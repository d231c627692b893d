"""Login, logout, sessions, throttling, CSRF and redirects, driven through HTTP."""

from datetime import timedelta

from sqlmodel import select

from reviewapp.auth.models import LoginAttempt, Role, UserSession
from reviewapp.clock import utcnow
from tests.conftest import PASSWORD, Browser, csrf_from, reread


def _attempt(client: Browser, username: str, password: str, next_url: str = ""):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next_url, "_csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )


def test_unknown_user_and_wrong_password_get_the_same_message(client, make_user):
    make_user("zhangsan", Role.staff)
    unknown = _attempt(client, "nobody", PASSWORD)
    wrong = _attempt(client, "zhangsan", "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 200
    assert "用户名或密码错误。" in unknown.text
    assert "用户名或密码错误。" in wrong.text
    assert unknown.headers["content-type"].startswith("text/html")


def test_disabled_account_gets_the_same_message_as_a_wrong_password(client, make_user, admin_client, db):
    user = make_user("lisi", Role.expert)
    admin_client.submit(f"/admin/users/{user.id}/disable")
    response = _attempt(client, "lisi", PASSWORD)
    assert "用户名或密码错误。" in response.text


def test_login_returns_to_a_same_site_address_only(client, make_user):
    make_user("wangwu", Role.staff)
    ok = _attempt(client, "wangwu", PASSWORD, "/audit?q=x")
    assert ok.status_code == 303 and ok.headers["location"] == "/audit?q=x"
    client.cookies.clear()
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]:
        response = _attempt(client, "wangwu", PASSWORD, evil)
        assert response.headers["location"] == "/", evil
        client.cookies.clear()


def test_five_failures_for_one_account_lock_it_even_with_the_right_password(client, make_user, db):
    make_user("zhaoliu", Role.staff)
    for _ in range(5):
        assert "用户名或密码错误" in _attempt(client, "zhaoliu", "bad-password-x").text
    refused = _attempt(client, "zhaoliu", PASSWORD)
    assert refused.status_code == 200
    assert "登录失败次数过多" in refused.text
    assert refused.cookies.get("reviewapp_session") is None
    # The throttle lives in the database, so every app process sees it.
    assert len(db.exec(select(LoginAttempt).where(LoginAttempt.username == "zhaoliu")).all()) == 5


def test_five_failures_from_one_address_lock_that_address_for_other_accounts(client, make_user):
    make_user("qianqi", Role.staff)
    for i in range(5):
        _attempt(client, f"guess{i}", "whatever-123")
    assert "登录失败次数过多" in _attempt(client, "qianqi", PASSWORD).text


def test_failures_older_than_the_window_do_not_count(client, make_user, db):
    make_user("sunba", Role.staff)
    for _ in range(5):
        db.add(LoginAttempt(username="sunba", client_addr="10.9.9.9", at=utcnow() - timedelta(minutes=16)))
    db.commit()
    assert _attempt(client, "sunba", PASSWORD).status_code == 303


def test_idle_session_expires_and_says_so(login, make_user, db):
    browser = login(make_user("zhoujiu", Role.staff))
    assert browser.get("/").status_code == 200
    for row in db.exec(select(UserSession)).all():
        row.last_seen_at = utcnow() - timedelta(minutes=121)
        db.add(row)
    db.commit()
    response = browser.get("/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/audit")
    assert "expired=1" in response.headers["location"]
    assert "登录已过期" in browser.get(response.headers["location"]).text


def test_logout_ends_the_session_in_the_database(login, make_user, db):
    browser = login(make_user("wushi", Role.staff))
    token = browser.cookies.get("reviewapp_session")
    response = browser.submit("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert db.exec(select(UserSession)).all() == []
    # The old cookie no longer opens anything.
    stale = Browser(app=browser.app, base_url="http://testserver.local")
    with stale:
        stale.cookies.set("reviewapp_session", token)
        assert stale.get("/", follow_redirects=False).status_code == 303


def test_sessions_are_shared_by_app_processes(login, make_user, settings):
    """A session created through one app instance is honoured by another on the same database."""
    from reviewapp.app import create_app

    browser = login(make_user("zhengshiyi", Role.staff))
    other = Browser(app=create_app(settings), base_url="http://testserver.local")
    with other:
        other.cookies.set("reviewapp_session", browser.cookies.get("reviewapp_session"))
        assert "您好" in other.get("/").text


def test_password_change_ends_other_sessions_but_keeps_this_one(login, make_user, db):
    user = make_user("chen", Role.expert)
    first = login(user)
    second = login(user)
    response = second.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a-new-secret-77", "confirm_password": "a-new-secret-77"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert second.get("/", follow_redirects=False).status_code == 200
    assert first.get("/", follow_redirects=False).status_code == 303
    assert len(db.exec(select(UserSession)).all()) == 1


def test_password_rules_are_explained(login, make_user):
    browser = login(make_user("yang", Role.expert))
    cases = {
        "short": "至少需要",
        "yang": "至少需要",
    }
    for new, message in cases.items():
        page = browser.submit(
            "/account/password", {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
        )
        assert page.status_code == 200 and message in page.text
    same_as_username = browser.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "yangyangyang", "confirm_password": "yangyangyang"},
    )
    assert same_as_username.status_code == 200
    wrong_current = browser.submit(
        "/account/password",
        {
            "current_password": "nope-nope-nope",
            "new_password": "fine-password-9",
            "confirm_password": "fine-password-9",
        },
    )
    assert "当前密码不正确" in wrong_current.text
    mismatch = browser.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "fine-password-9", "confirm_password": "fine-password-8"},
    )
    assert "两次输入的新密码不一致" in mismatch.text


def test_password_equal_to_username_is_refused(login, make_user):
    browser = login(make_user("longusername", Role.expert))
    page = browser.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "longusername", "confirm_password": "longusername"},
    )
    assert "密码不能与用户名相同" in page.text


def test_one_time_password_must_be_changed_before_anything_else(login, make_user):
    user = make_user("temp", Role.staff, must_change=True)
    browser = login(user)
    home = browser.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/account/password"
    page = browser.get("/account/password")
    assert "一次性密码" in page.text
    browser.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "my-own-secret-1", "confirm_password": "my-own-secret-1"},
    )
    assert browser.get("/", follow_redirects=False).status_code == 200


def test_missing_or_forged_csrf_token_gets_the_chinese_403_page(login, make_user):
    browser = login(make_user("csrfuser", Role.sysadmin))
    missing = browser.post("/admin/users/1/disable", data={})
    forged = browser.post("/admin/users/1/disable", data={"_csrf_token": "forged" * 10})
    for response in (missing, forged):
        assert response.status_code == 403
        assert "安全校验" in response.text
        assert response.headers["content-type"].startswith("text/html")


def test_htmx_requests_send_the_token_in_a_header(login, make_user):
    browser = login(make_user("hxuser", Role.sysadmin))
    token = browser.csrf()
    response = browser.post("/logout", headers={"x-csrftoken": token, "hx-request": "true"}, follow_redirects=False)
    assert response.status_code == 303


def test_htmx_request_of_an_anonymous_visitor_redirects_the_whole_page(client):
    response = client.get("/audit", headers={"hx-request": "true"}, follow_redirects=False)
    assert response.headers.get("hx-redirect", "").startswith("/login?next=/audit")


def test_forbidden_page_is_chinese_403(login, make_user):
    expert = login(make_user("expertx", Role.expert))
    for url in ["/admin/users", "/audit"]:
        response = expert.get(url)
        assert response.status_code == 403
        assert "无权访问" in response.text


def test_over_long_and_malformed_fields_get_messages_not_500(client, make_user):
    make_user("normal", Role.staff)
    long_name = _attempt(client, "x" * 5000, PASSWORD)
    assert long_name.status_code == 200 and "不能超过" in long_name.text
    token = client.csrf()
    odd = client.post(
        "/login",
        content=b"\xff\xfe=%%%",
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )
    assert odd.status_code < 500
    empty = client.post("/login", data={"_csrf_token": token})
    assert empty.status_code == 200 and "为必填项" in empty.text


def test_password_is_rehashed_when_parameters_change(make_user, login, db):
    from argon2 import PasswordHasher

    from reviewapp.auth.models import User

    user = make_user("rehash", Role.staff)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    row = db.get(User, user.id)
    row.password_hash = weak
    db.add(row)
    db.commit()
    login(user)
    reread(db)
    assert db.get(User, user.id).password_hash != weak
    assert "m=65536" in db.get(User, user.id).password_hash


def test_other_writers_are_not_blocked_while_a_password_is_checked(client, make_user, settings, engine, monkeypatch):
    """Hashing takes most of a second: a login must not hold a write lock meanwhile (on SQLite the database's
    single write lock, on PostgreSQL the account's row), or a morning's burst of logins queues up until requests
    fail with "database is locked" or wait on each other."""
    import sqlite3

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from reviewapp.auth import service

    url = make_url(settings.database_url)
    make_user("sunqi", Role.staff)
    seen: list[str] = []
    real_verify = service.verify_password

    def write_now() -> None:
        if url.get_backend_name() == "sqlite":
            other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # raises "database is locked" at once if the login holds the lock
                other.execute("ROLLBACK")
            finally:
                other.close()
        else:
            with engine.connect() as conn:  # fails after 200 ms if the login holds the account's row
                conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
                conn.execute(text("UPDATE user_account SET display_name = display_name WHERE username = 'sunqi'"))
                conn.rollback()

    def verify_while_another_writer_writes(password_hash, password):  # type: ignore[no-untyped-def]
        write_now()
        seen.append("free")
        return real_verify(password_hash, password)

    monkeypatch.setattr(service, "verify_password", verify_while_another_writer_writes)
    assert _attempt(client, "sunqi", PASSWORD).status_code == 303
    assert "用户名或密码错误" in _attempt(client, "sunqi", "bad-password-x").text
    assert seen == ["free", "free"]
