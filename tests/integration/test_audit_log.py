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


def test_staff_browse_filter_and_export_the_log(staff_client, make_user):
    make_user("filterme", Role.expert, display_name="筛选专家")
    page = staff_client.get("/audit")
    assert page.status_code == 200 and "创建用户 filterme" in page.text
    only_logins = staff_client.get("/audit?action=auth.login")
    assert "创建用户 filterme" not in only_logins.text and "登录" in only_logins.text
    searched = staff_client.get("/audit?q=filterme")
    assert "创建用户 filterme" in searched.text and "staff1姓名（staff1）登录" not in searched.text
    dated = staff_client.get("/audit?date_from=2000-01-01&date_to=2000-01-02")
    assert "没有符合条件的记录" in dated.text
    bad_date = staff_client.get("/audit?date_from=yesterday")
    assert bad_date.status_code == 200 and "日期格式不正确" in bad_date.text

    export = staff_client.get("/audit/export.xlsx?q=filterme")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(export.content)).active
    assert ws["A1"].value == "操作日志"
    header = [c.value for c in ws[2]]
    assert header[:4] == ["序号", "时间（北京时间）", "操作人", "操作"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert len(rows) == 1 and rows[0][3] == "创建用户" and "filterme" in rows[0][6]
    assert ws.freeze_panes == "A3"
