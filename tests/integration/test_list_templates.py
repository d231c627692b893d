"""List pages render their pagination links and their htmx table fragments (macros need the request)."""

from reviewapp.audit import Actor, record


def test_audit_log_with_more_than_one_page_renders(staff_client, db):
    for i in range(60):
        record(db, actor=Actor.system(), action="test.entry", entity_type="test", summary=f"第 {i} 条")
    db.commit()
    page = staff_client.get("/audit")
    assert page.status_code == 200
    assert 'rel="next"' in page.text


def test_user_table_fragment_renders_for_htmx(admin_client):
    response = admin_client.get("/admin/users?q=admin", headers={"HX-Request": "true", "HX-Target": "user-table"})
    assert response.status_code == 200
    assert "<html" not in response.text and "admin1" in response.text
