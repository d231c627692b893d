"""Staff handle reports over HTTP: recording, the verification flow to revocation, refusals, overdue detection with a
fixed date, the reporter's confidential identity, files, the register and its export."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from reviewapp.applications.models import Enterprise
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.casework.models import CaseHandler, CaseStep
from reviewapp.files import StoredFile
from reviewapp.reports.models import Certification, Report, Revocation
from tests.conftest import reread
from tests.factories import formal_ban_check, make_application, make_certification, make_enterprise, make_round

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
NAME, CONTACT = "李举报", "13912345678"


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    """The app's idea of today, fixed and movable: today.set(date(...))."""

    class Today:
        value = date(2026, 11, 2)

        def set(self, value: date) -> None:
            self.value = value

    fixed = Today()
    monkeypatch.setattr("reviewapp.clock.today_beijing", lambda: fixed.value)
    return fixed


ACCOUNTS = {
    "recorder": ("jilu", Role.staff, "登记员"),
    "handler": ("chengban", Role.staff, "承办员"),
    "other": ("pangren", Role.staff, "旁人"),
    "admin": ("guanli", Role.sysadmin, "管理员"),
    "expert": ("zhuanjia", Role.expert, "专家"),
}


@pytest.fixture
def people(make_user, login):  # type: ignore[no-untyped-def]
    """(users, clients): a recording staff member, a handler, another staff member, an admin and an expert,
    each created and signed in when a test first needs them (hashing passwords is slow)."""

    class Users(dict):
        def __missing__(self, key):  # type: ignore[no-untyped-def]
            username, role, name = ACCOUNTS[key]
            self[key] = make_user(username, role, display_name=name)
            return self[key]

    users = Users()

    class Clients(dict):
        def __missing__(self, key):  # type: ignore[no-untyped-def]
            self[key] = login(users[key])
            return self[key]

    return users, Clients()


@pytest.fixture
def cert(db):  # type: ignore[no-untyped-def]
    enterprise = make_enterprise(db, name="青岛海澜电子科技有限公司", credit_code="91370200MA3D2HQW8K")
    return make_certification(db, enterprise, factory_name="海澜电子智能装配工厂")


def record(client, db, *, target: str = "", files=None, **fields) -> Report:  # type: ignore[no-untyped-def]
    data = {
        "channel": "信函",
        "received_on": "2026-11-01",
        "target": target,
        "target_name": "",
        "content": "反映该工厂申报的智能仓储场景实际未建成。",
        "reporter_name": NAME,
        "reporter_contact": CONTACT,
    }
    data.update(fields)
    response = client.submit("/reports", data, files=files, follow_redirects=False)
    assert response.status_code == 303, response.text[-2000:]
    reread(db)
    return db.exec(select(Report).order_by(Report.id.desc())).first()  # type: ignore[attr-defined]


def step(client, db, report_id: int, code: str, *, row_version: int | None = None, files=None, **fields):  # type: ignore[no-untyped-def]
    if row_version is None:
        reread(db)
        row_version = db.get(Report, report_id).row_version
    data = {"code": code, "row_version": str(row_version), **fields}
    return client.submit(f"/reports/{report_id}/steps", data, files=files)


def offered(client, report_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    """The transitions the report page offers this user (one form per transition)."""
    return set(re.findall(r'name="code" value="([a-z_]+)"', client.get(f"/reports/{report_id}").text))


def state_of(db, report_id: int) -> str:  # type: ignore[no-untyped-def]
    reread(db)
    return db.get(Report, report_id).state


def identity_views(db, report_id: int) -> int:  # type: ignore[no-untyped-def]
    reread(db)
    return db.exec(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "report.view_identity", AuditEntry.entity_id == str(report_id))
    ).one()


def start(people, db, report: Report) -> None:  # type: ignore[no-untyped-def]
    users, clients = people
    assert step(clients["recorder"], db, report.id, "accept", note="属于信息真实性问题，予以受理。").status_code == 200
    response = step(
        clients["recorder"],
        db,
        report.id,
        "start",
        handlers=[str(users["handler"].id)],
        reply_deadline="2026-11-12",
        note="请单位书面说明。",
    )
    assert "已办理" in response.text or state_of(db, report.id) == "verifying", response.text[-1500:]


def test_a_report_goes_from_registration_to_revocation_and_the_ban(people, db, cert, today):
    users, clients = people
    report = record(
        clients["recorder"], db, target=f"c:{cert.id}", files=[("files", ("来信扫描件.pdf", PDF, "application/pdf"))]
    )
    assert report.number == f"JB-2026-{report.id:05d}" and report.certification_id == cert.id
    assert report.target_name == "青岛海澜电子科技有限公司" and report.state == "registered"
    start(people, db, report)
    assert state_of(db, report.id) == "verifying"
    reread(db)
    assert db.get(Report, report.id).reply_deadline == date(2026, 11, 12)
    assert [h.user_id for h in db.exec(select(CaseHandler))] == [users["handler"].id]

    handler = clients["handler"]
    assert offered(handler, report.id) == {"record_reply"}  # no-reply is not offered before the deadline
    assert "答复期限为 2026-11-12，届满后才能标记逾期未答复" in handler.get(f"/reports/{report.id}").text

    today.set(date(2026, 11, 13))
    page = handler.get(f"/reports/{report.id}")
    assert "答复已逾期（期限 2026-11-12）" in page.text
    assert offered(handler, report.id) == {"record_reply", "mark_overdue"}
    step(handler, db, report.id, "mark_overdue", note="逾期未答复，电话催办未果。")
    assert state_of(db, report.id) == "no_reply"

    assert offered(handler, report.id) == {"conclude_unfounded", "conclude_rectify", "conclude_revoke"}
    step(
        handler,
        db,
        report.id,
        "conclude_revoke",
        reason_category="no_reply",
        revoked_on="2026-11-13",
        note="经核实，该单位未按要求答复举报核实。",
        files=[("files", ("核实报告.pdf", PDF, "application/pdf"))],
    )
    assert state_of(db, report.id) == "revoked"
    reread(db)
    report = db.get(Report, report.id)
    revocation = db.get(Revocation, report.revocation_id)
    assert report.conclusion == "revocation"
    assert revocation.credit_code == "91370200MA3D2HQW8K" and revocation.reason_category == "no_reply"
    assert revocation.revoked_on == date(2026, 11, 13) and revocation.banned_until == date(2029, 11, 13)
    assert db.get(Certification, cert.id).status == "revoked"
    # Formal review refuses a new application through the ban's last day, and accepts it the day after.
    enterprise = db.get(Enterprise, cert.enterprise_id)
    banned = formal_ban_check(db, enterprise, today=date(2029, 11, 13))
    assert not banned["ok"] and "2029年11月13日前不得申报" in banned["reason"]
    assert formal_ban_check(db, enterprise, today=date(2029, 11, 14))["ok"]

    refused = step(handler, db, report.id, "close")
    assert "执行「办结（记录答复举报人情况）」需要填写「答复举报人」" in refused.text
    step(handler, db, report.id, "close", public_reply="2026-11-20 电话告知举报人：已取消该工厂的认定。")
    assert state_of(db, report.id) == "closed"
    reread(db)
    assert db.get(Report, report.id).closed_on == date(2026, 11, 13)

    page = handler.get(f"/reports/{report.id}")
    assert "禁止申报至" in page.text and "2029-11-13" in page.text and "核实报告.pdf" in page.text
    assert [s.code for s in db.exec(select(CaseStep).order_by(CaseStep.seq))] == [
        "accept",
        "start",
        "mark_overdue",
        "conclude_revoke",
        "close",
    ]
    actions = [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.seq))]
    assert "certification.revoke" in actions and "report.conclude_revoke" in actions
    bans = clients["other"].get("/certifications/bans?status=active")
    assert "91370200MA3D2HQW8K" in bans.text and "2029-11-13" in bans.text


def test_only_the_handler_takes_handler_steps(people, db, cert, today):
    _users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    start(people, db, report)
    refused = step(clients["other"], db, report.id, "record_reply", replied_on="2026-11-02", note="单位已说明。")
    assert "只有该件的承办人可以执行「登记单位答复」" in refused.text
    assert offered(clients["other"], report.id) == set()
    assert offered(clients["handler"], report.id) == {"record_reply"}
    assert state_of(db, report.id) == "verifying"
    step(clients["handler"], db, report.id, "record_reply", replied_on="2026-11-02", note="单位书面说明仓储系统在建。")
    assert state_of(db, report.id) == "replied"


def test_illegal_and_unknown_transitions_are_refused(people, db, cert, today):
    _users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    response = step(clients["recorder"], db, report.id, "close", public_reply="已办结")
    assert response.status_code == 200
    assert "当前状态为「已登记」，不能执行「办结（记录答复举报人情况）」" in response.text
    assert "未知的办理操作" in step(clients["recorder"], db, report.id, "delete_everything").text
    assert "需要填写「办理意见」" in step(clients["recorder"], db, report.id, "accept").text
    step(clients["recorder"], db, report.id, "accept", note="受理")
    assert "需要填写「承办人」" in step(clients["recorder"], db, report.id, "start", reply_deadline="2026-11-12").text
    assert (
        "应晚于今天"
        in step(
            clients["recorder"],
            db,
            report.id,
            "start",
            handlers=[str(people[0]["handler"].id)],
            reply_deadline="2026-11-02",
        ).text
    )
    assert state_of(db, report.id) == "accepted"
    reread(db)
    assert [s.code for s in db.exec(select(CaseStep))] == ["accept"]


def test_a_stale_row_version_is_refused(people, db, cert, today):
    _users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    stale = report.row_version
    step(clients["recorder"], db, report.id, "accept", row_version=stale, note="受理")
    response = step(
        clients["other"], db, report.id, "refuse", row_version=stale, note="不予受理", public_reply="不予受理"
    )
    assert "该件已被他人办理或修改，请刷新页面查看最新状态后重试" in response.text
    assert state_of(db, report.id) == "accepted"


def test_overdue_reports_are_found_with_a_fixed_date(people, db, cert, today):
    _users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    start(people, db, report)
    today.set(date(2026, 11, 12))
    listing = clients["other"].get("/reports?flag=overdue")
    assert report.number not in listing.text
    today.set(date(2026, 11, 13))
    listing = clients["other"].get("/reports?flag=overdue")
    assert report.number in listing.text and 'class="row-flag"' in listing.text
    assert "有 1 件举报逾期" in clients["other"].get("/reports").text


def test_the_reporters_identity_is_seen_only_by_handlers_and_each_view_is_audited(people, db, cert, today):
    users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    start(people, db, report)

    handler = clients["handler"]
    page = handler.get(f"/reports/{report.id}")
    assert NAME not in page.text and "查看举报人信息" in page.text  # shown only on request
    shown = handler.submit(
        f"/reports/{report.id}/identity", headers={"HX-Request": "true", "HX-Target": "reporter-identity"}
    )
    assert NAME in shown.text and CONTACT in shown.text and "<html" not in shown.text
    assert identity_views(db, report.id) == 1
    handler.submit(f"/reports/{report.id}/identity")
    assert identity_views(db, report.id) == 2
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "report.view_identity")).first()
    assert entry.actor_id == users["handler"].id and NAME not in entry.summary + entry.after_json

    # 三员分立: the system administrator reaches no report at all.
    assert clients["admin"].get(f"/reports/{report.id}").status_code == 403
    assert clients["admin"].submit(f"/reports/{report.id}/identity").status_code == 403
    for who in ("recorder", "other"):
        client = clients[who]
        page = client.get(f"/reports/{report.id}")
        assert NAME not in page.text and CONTACT not in page.text and "（保密）" in page.text
        assert "查看举报人信息" not in page.text
        refused = client.submit(f"/reports/{report.id}/identity")
        assert NAME not in refused.text and "只有该举报的承办人可以查看" in refused.text
    assert identity_views(db, report.id) == 2

    expert = clients["expert"]
    assert expert.get(f"/reports/{report.id}").status_code == 403
    assert expert.submit(f"/reports/{report.id}/identity").status_code == 403
    assert expert.get("/reports").status_code == 403 and expert.get("/certifications").status_code == 403

    # Neither the audit log nor the register export carries the identity.
    audit_page = clients["other"].get("/audit")
    assert NAME not in audit_page.text and CONTACT not in audit_page.text
    export = handler.get("/reports/export.xlsx")
    cells = [
        str(c.value) for row in load_workbook(io.BytesIO(export.content)).active.iter_rows() for c in row if c.value
    ]
    assert report.number in cells and not any(NAME in c or CONTACT in c for c in cells)


def test_handlers_change_only_by_a_handler(people, db, cert, today):
    users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    start(people, db, report)
    clients["other"].submit(f"/reports/{report.id}/handlers", {"handlers": [str(users["other"].id)]})
    # 三员分立: the system administrator does no casework (he no longer reaches the report's pages).
    refused = clients["admin"].submit(f"/reports/{report.id}/handlers", {"handlers": [str(users["other"].id)]})
    assert refused.status_code == 403
    reread(db)
    assert [h.user_id for h in db.exec(select(CaseHandler))] == [users["handler"].id]
    clients["handler"].submit(
        f"/reports/{report.id}/handlers", {"handlers": [str(users["other"].id)], "note": "原承办人调岗"}
    )
    reread(db)
    assert [h.user_id for h in db.exec(select(CaseHandler))] == [users["other"].id]
    assert "（保密）" in clients["handler"].get(f"/reports/{report.id}").text
    assert NAME in clients["other"].submit(f"/reports/{report.id}/identity").text


def test_a_report_without_a_certification_cannot_end_in_revocation_until_linked(people, db, cert, today):
    _users, clients = people
    report = record(clients["recorder"], db, target_name="某不知名公司")
    assert report.certification_id is None and report.target_name == "某不知名公司"
    start(people, db, report)
    today.set(date(2026, 11, 13))
    step(clients["handler"], db, report.id, "mark_overdue")
    assert offered(clients["handler"], report.id) == {"conclude_unfounded", "conclude_rectify"}
    assert "不能取消认定" in clients["handler"].get(f"/reports/{report.id}").text
    refused = step(
        clients["handler"],
        db,
        report.id,
        "conclude_revoke",
        reason_category="falsified",
        revoked_on="2026-11-13",
        note="x",
    )
    assert "未关联已认定的智能工厂" in refused.text
    clients["handler"].submit(
        f"/reports/{report.id}/link",
        {"target": f"c:{cert.id}", "row_version": str(db.get(Report, report.id).row_version)},
    )
    reread(db)
    assert db.get(Report, report.id).certification_id == cert.id
    assert "conclude_revoke" in offered(clients["handler"], report.id)


def test_rectification_then_its_verification(people, db, cert, today):
    _users, clients = people
    report = record(clients["recorder"], db, target=f"c:{cert.id}")
    start(people, db, report)
    handler = clients["handler"]
    step(handler, db, report.id, "record_reply", replied_on="2026-11-02", note="单位承认部分场景未上线。")
    step(handler, db, report.id, "conclude_rectify", rectify_deadline="2027-02-01", note="责令三个月内整改。")
    reread(db)
    assert db.get(Report, report.id).conclusion == "rectification"
    assert db.get(Report, report.id).rectify_deadline == date(2027, 2, 1)
    today.set(date(2027, 2, 2))
    assert "整改已逾期（期限 2027-02-01）" in handler.get(f"/reports/{report.id}").text
    step(handler, db, report.id, "rectify_pass", note="现场核验，整改到位。")
    assert state_of(db, report.id) == "rectified"
    reread(db)
    assert db.get(Certification, cert.id).status == "active"


def test_staff_add_notes_with_files_and_download_only_this_reports_files(people, db, cert, today):
    _users, clients = people
    report = record(
        clients["recorder"], db, target=f"c:{cert.id}", files=[("files", ("来信.pdf", PDF, "application/pdf"))]
    )
    other = record(clients["recorder"], db, target=f"c:{cert.id}")
    start(people, db, report)
    handler = clients["handler"]
    assert "只有该举报的承办人" in handler.submit(f"/reports/{other.id}/notes", {"note": "不是我的"}).text
    handler.submit(
        f"/reports/{report.id}/notes",
        {"note": "电话催办。"},
        files=[("files", ("通话记录.pdf", PDF, "application/pdf"))],
    )
    reread(db)
    note = db.exec(select(CaseStep).where(CaseStep.code == "note")).one()
    assert note.note == "电话催办。" and note.from_state == note.to_state == "verifying"
    files = {f.filename: f for f in db.exec(select(StoredFile))}
    evidence = clients["other"].get(f"/reports/{report.id}/files/{files['来信.pdf'].id}")
    assert (
        evidence.status_code == 200
        and evidence.content == PDF
        and evidence.headers["content-type"] == "application/pdf"
    )
    assert clients["other"].get(f"/reports/{report.id}/files/{files['通话记录.pdf'].id}").content == PDF
    assert clients["other"].get(f"/reports/{other.id}/files/{files['来信.pdf'].id}").status_code == 404
    refused = handler.submit(
        f"/reports/{report.id}/notes", {"note": "附件"}, files=[("files", ("a.exe", b"MZ", "application/octet-stream"))]
    )
    assert "类型不允许上传" in refused.text


def test_reports_against_an_application_and_the_target_search(people, db, today):
    _users, clients = people
    rnd = make_round(db)
    enterprise = make_enterprise(db, name="潍坊北辰食品股份有限公司")
    application = make_application(db, rnd, enterprise, factory_name="北辰食品数字化灌装工厂")
    found = clients["recorder"].get("/reports/targets?q=北辰", headers={"HX-Request": "true"})
    assert f'value="a:{application.id}"' in found.text and "北辰食品数字化灌装工厂（申报）" in found.text
    report = record(clients["recorder"], db, target=f"a:{application.id}", channel="电话")
    assert report.application_id == application.id and report.target_name == "潍坊北辰食品股份有限公司"
    form = clients["recorder"].get(f"/reports/new?target=a:{application.id}")
    assert "北辰食品数字化灌装工厂（申报）" in form.text


def test_the_register_searches_filters_and_pages(people, db, cert, today):
    _users, clients = people
    for i in range(32):
        db.add(
            Report(
                number=f"JB-2026-{i + 1:05d}",
                channel="邮件" if i % 2 else "电话",
                received_on=date(2026, 10, 1),
                target_name=f"测试企业{i}",
                content="内容",
                state="registered",
            )
        )
    db.commit()
    page = clients["other"].get("/reports")
    assert "共 32 条" in page.text and 'rel="next"' in page.text
    assert "共 16 条" in clients["other"].get("/reports?channel=邮件").text
    found = clients["other"].get("/reports?q=测试企业7", headers={"HX-Request": "true", "HX-Target": "report-table"})
    assert "<html" not in found.text and "JB-2026-00008" in found.text and "JB-2026-00009" not in found.text
    assert "没有符合条件的记录" in clients["other"].get("/reports?mine=1").text


def test_staff_form_refusals_keep_what_was_typed(people, db, today):
    _users, clients = people
    response = clients["recorder"].submit(
        "/reports", {"channel": "信函", "received_on": "2026-11-01", "content": "没有对象的举报内容"}
    )
    assert response.status_code == 200 and "请选择被举报的认定或申报，或填写被举报单位名称" in response.text
    assert "没有对象的举报内容" in response.text
    response = clients["recorder"].submit(
        "/reports", {"channel": "信函", "received_on": "2026-12-01", "target_name": "某公司", "content": "内容"}
    )
    assert "「收到日期」不能晚于今天" in response.text
    reread(db)
    assert db.exec(select(func.count()).select_from(Report)).one() == 0
