from reviewapp.auth.models import Role


def test_admin_signs_in_and_sees_users(make_user, login):
    admin = login(make_user("boss", Role.sysadmin))
    page = admin.get("/admin/users")
    assert page.status_code == 200
    assert "boss" in page.text


def test_csrf_missing_gives_chinese_403(admin_client):
    response = admin_client.post("/admin/users/1/disable", data={})
    assert response.status_code == 403
    assert "安全校验" in response.text
