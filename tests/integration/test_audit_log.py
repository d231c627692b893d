"""The audit log: every state change recorded, browsable, exportable, and tamper-evident."""

import io
from itertools import pairwise

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.cli import main


def _verify(settings):
    return CliRunner().invoke(main, ["audit", "verify"], env={"REVIEWAPP_DATABASE_URL": settings.database_url})


def test_state_changes_are_chained_and_verify_passes(admin_client, make_user, settings, db):
    user = make_user("someone", Role.staff)
    admin_client.submit(f"/admin/users/{user.id}/disable")
    admin_client.submit(f"/admin/users/{user.id}/enable")
    entries = db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    actions = [e.action for e in entries]
    assert actions.count("user.create") == 2  # admin1 and someone
    assert {"auth.login", "user.disable", "user.enable"} <= set(actions)
    for prev, entry in pairwise(entries):
        assert entry.prev_hash == prev.hash
    result = _verify(settings)
    assert result.exit_code == 0, result.output
    assert f"共 {len(entries)} 条记录" in result.output


def test_editing_a_past_entry_is_detected_and_named(admin_client, make_user, settings, engine):
    make_user("victim", Role.staff)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET summary = '篡改' WHERE seq = 2"))
    result = _verify(settings)
    assert result.exit_code == 1
    assert "第 2 条记录内容被改动" in result.output


def test_deleting_a_past_or_the_last_entry_is_detected(admin_client, make_user, settings, engine):
    make_user("victim2", Role.staff)
    with engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_entry")).scalar()
        conn.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": last})
    result = _verify(settings)
    assert result.exit_code == 1 and "链尾记录缺失" in result.output
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 1"))
    result = _verify(settings)
    assert result.exit_code == 1 and "第 1 条记录缺失" in result.output


def test_the_audit_administrator_browses_filters_and_exports_everything_and_is_audited(
    auditadmin_client, make_user, db
):
    make_user("filterme", Role.expert, display_name="筛选专家")
    page = auditadmin_client.get("/audit")
    assert page.status_code == 200 and "创建用户 filterme" in page.text
    assert "任何角色都不能删除" in page.text
    only_logins = auditadmin_client.get("/audit?action=auth.login")
    assert "创建用户 filterme" not in only_logins.text and "登录" in only_logins.text
    searched = auditadmin_client.get("/audit?q=filterme")
    assert "创建用户 filterme" in searched.text and "auditor1姓名（auditor1）登录" not in searched.text
    dated = auditadmin_client.get("/audit?date_from=2000-01-01&date_to=2000-01-02")
    assert "没有符合条件的记录" in dated.text
    bad_date = auditadmin_client.get("/audit?date_from=yesterday")
    assert bad_date.status_code == 200 and "日期格式不正确" in bad_date.text

    export = auditadmin_client.get("/audit/export.xlsx?q=filterme&entity_type=user")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(export.content)).active
    assert ws["A1"].value == "操作日志"
    header = [c.value for c in ws[2]]
    assert header[:4] == ["序号", "时间（北京时间）", "操作人", "操作"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert len(rows) == 1 and rows[0][3] == "创建用户" and "filterme" in rows[0][6]
    assert ws.freeze_panes == "A3"

    # Each read and the export are themselves in the chain, with the auditor's name and conditions.
    reads = db.exec(select(AuditEntry).where(AuditEntry.action.in_(["audit.view", "audit.export"]))).all()
    assert [e.action for e in reads].count("audit.view") == 5
    export_entry = next(e for e in reads if e.action == "audit.export")
    assert export_entry.actor_name == "auditor1" and "filterme" in export_entry.summary
    assert "查阅操作日志" in auditadmin_client.get("/audit?action=audit.view").text


def test_staff_see_the_work_without_security_entries(staff_client, make_user, db):
    from reviewapp import audit
    from reviewapp.audit import Actor

    make_user("filterme", Role.expert, display_name="筛选专家")
    audit.record(
        db, actor=Actor.system(), action="round.create", entity_type="round", entity_id=7, summary="创建批次 甲"
    )
    db.commit()
    page = staff_client.get("/audit")
    assert page.status_code == 200 and "创建批次 甲" in page.text
    assert "创建用户 filterme" not in page.text and "登录" not in page.text.split("<tbody>")[1]
    assert "安全记录由审计管理员查阅" in page.text
    assert "创建用户" not in staff_client.get("/audit?action=user.create").text.split("<tbody>")[1]
    rows = list(load_workbook(io.BytesIO(staff_client.get("/audit/export.xlsx").content)).active.iter_rows(min_row=3))
    assert [r[6].value for r in rows] == ["创建批次 甲"]
    assert not db.exec(select(AuditEntry).where(AuditEntry.action.in_(["audit.view", "audit.export"]))).all()


def test_no_role_can_delete_or_change_an_entry(
    staff_client, auditadmin_client, sysadmin_client, secadmin_client, app, db
):
    """There is no route that writes to /audit: every method but GET/HEAD is refused for every role."""
    audit_paths = {path for route in app.routes for path in [route.path] if path.startswith("/audit")}
    methods = {m for route in app.routes if route.path.startswith("/audit") for m in route.methods}
    assert audit_paths == {"/audit", "/audit/export.xlsx"} and methods <= {"GET", "HEAD", "OPTIONS"}
    before = len(db.exec(select(AuditEntry)).all())
    for browser in (staff_client, auditadmin_client, sysadmin_client, secadmin_client):
        for path in ("/audit", "/audit/1", "/audit/1/delete"):
            assert browser.submit(path).status_code in {404, 405}
    db.rollback()
    assert len(db.exec(select(AuditEntry)).all()) == before
