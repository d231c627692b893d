"""The public report form over HTTP: receipt code, status lookup, adding information, rate limits, file checks."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import func, select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.casework.models import CaseStep
from reviewapp.files import StoredFile
from reviewapp.reports.models import Report
from reviewapp.reports.whistleblowing.service import take_step
from tests.conftest import Browser, reread
from tests.factories import make_certification, make_enterprise

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
CODE_RE = re.compile(r'class="receipt-code mono" aria-label="查询码">([0-9 ]+)</p>')
CONTENT = "该工厂申报的智能仓储场景并未建成，仓库仍以人工台账管理。"


def file_report(client: Browser, *, files=None, **fields):  # type: ignore[no-untyped-def]
    client.get("/public/report")
    data = {
        "target_name": "山东华岳重工机械有限公司",
        "content": CONTENT,
        "reporter_name": "张举报",
        "reporter_contact": "13800000000",
    }
    data.update(fields)
    return client.submit("/public/report", data, files=files)


def receipt_code(html: str) -> str:
    match = CODE_RE.search(html)
    assert match, "no receipt code on the page"
    return match.group(1)


def lookup(client: Browser, code: str):  # type: ignore[no-untyped-def]
    return client.submit("/public/report/status", {"code": code})


def test_the_form_is_public_and_the_login_page_links_to_it(client):
    page = client.get("/login")
    assert 'href="/public/report"' in page.text and "我要举报" in page.text
    assert 'href="/public/report/status"' in page.text and "举报查询" in page.text
    form = client.get("/public/report")
    assert form.status_code == 200 and "被举报单位名称" in form.text and 'name="_csrf_token"' in form.text


def test_submitting_gives_a_20_digit_code_and_stores_only_its_hash(client, db):
    response = file_report(client, files=[("files", ("现场照片说明.pdf", PDF, "application/pdf"))])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    code = receipt_code(response.text)
    digits = code.replace(" ", "")
    assert len(digits) == 20 and digits.isdigit()
    reread(db)
    report = db.exec(select(Report)).one()
    assert report.source == "public" and report.channel == "网上" and report.state == "registered"
    assert report.receipt_hash and digits not in report.receipt_hash
    assert report.reporter_name == "张举报"
    stored = db.exec(select(StoredFile).where(StoredFile.owner_type == "report")).one()
    assert stored.filename == "现场照片说明.pdf" and stored.content_type == "application/pdf"
    # The audit log is read by every staff member: neither the code nor the identity is in it.
    for entry in db.exec(select(AuditEntry)):
        blob = entry.summary + entry.before_json + entry.after_json
        assert digits not in blob and "张举报" not in blob and "13800000000" not in blob


def test_a_public_report_naming_a_certified_enterprise_is_linked_to_it(client, db):
    enterprise = make_enterprise(db, name="山东华岳重工机械有限公司")
    cert = make_certification(db, enterprise)
    file_report(client)
    reread(db)
    assert db.exec(select(Report)).one().certification_id == cert.id


def test_the_code_shows_the_status_and_public_replies_only(client, db, make_user):
    staff = make_user("chuli", display_name="处理人甲")
    code = receipt_code(file_report(client).text)
    reread(db)
    report = db.exec(select(Report)).one()
    actor = Actor(staff.id, staff.username)
    take_step(
        db,
        actor=actor,
        settings=client.app.state.settings,
        report_id=report.id,
        code="refuse",
        row_version=1,
        note="内部意见：线索不具体，无法核实。",
        values={"public_reply": "您反映的问题缺少具体事实，不予受理。"},
        uploads=[],
        today=date(2026, 11, 20),
    )
    db.commit()
    page = lookup(client, code)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "不予受理" in page.text
    assert "您反映的问题缺少具体事实，不予受理。" in page.text
    # Never internal notes, handlers or the reporter's own identity.
    assert "内部意见" not in page.text and "处理人甲" not in page.text and "chuli" not in page.text
    assert "张举报" not in page.text and "13800000000" not in page.text
    # A closed (refused) report takes no more material.
    assert "补充情况或材料" not in page.text


def test_codes_are_accepted_with_spaces_and_dashes(client):
    code = receipt_code(file_report(client).text)
    page = lookup(client, "-".join(code.split(" ")))
    assert "已收到，待受理" in page.text


def test_a_wrong_code_reveals_nothing(client, db):
    code = receipt_code(file_report(client).text)
    digits = code.replace(" ", "")
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    answers = [lookup(client, c) for c in (wrong, "1234", "不是数字", "")]
    for answer in answers:
        assert answer.status_code == 200
        assert "未找到与该查询码对应的举报" in answer.text
        assert "山东华岳重工" not in answer.text and "已收到" not in answer.text

    # A malformed code and a well-formed unknown one get the same page.
    def strip(html):
        return re.sub(r'value="[^"]*"', "", html)

    assert strip(answers[0].text) == strip(answers[1].text)


def test_the_reporter_adds_information_and_files_with_the_code(client, db):
    code = receipt_code(file_report(client).text)
    response = client.submit(
        "/public/report/supplement",
        {"code": code, "content": "补充：仓库位于厂区东侧，可现场查看。"},
        files=[("files", ("补充材料.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 200
    assert "已收到您补充的内容" in response.text and "已补充 1 次" in response.text
    reread(db)
    step = db.exec(select(CaseStep).where(CaseStep.code == "supplement")).one()
    assert step.note == "补充：仓库位于厂区东侧，可现场查看。" and step.actor_name == "举报人" and step.actor_id is None
    files = db.exec(
        select(StoredFile).where(StoredFile.owner_type == "case_step", StoredFile.owner_id == step.id)
    ).all()
    assert [f.filename for f in files] == ["补充材料.pdf"]


def test_adding_information_with_a_wrong_code_changes_nothing(client, db):
    file_report(client)
    response = client.submit("/public/report/supplement", {"code": "1" * 20, "content": "伪造的补充"})
    assert "未找到与该查询码对应的举报" in response.text
    reread(db)
    assert db.exec(select(func.count()).select_from(CaseStep)).one() == 0


def test_files_of_the_wrong_type_or_too_large_are_refused(client, db, settings):
    response = file_report(client, files=[("files", ("病毒.exe", b"MZ\x90\x00", "application/octet-stream"))])
    assert "类型不允许上传" in response.text and "举报已提交" not in response.text
    response = file_report(client, files=[("files", ("伪装.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))])
    assert "内容与扩展名 .pdf 不符" in response.text
    too_big = PDF + b"0" * (10 * 1024 * 1024)
    response = file_report(client, files=[("files", ("大文件.pdf", too_big, "application/pdf"))])
    assert "超过 10 MB" in response.text
    # The form comes back filled in, and nothing was stored.
    assert CONTENT in response.text
    reread(db)
    assert db.exec(select(func.count()).select_from(Report)).one() == 0
    assert db.exec(select(func.count()).select_from(StoredFile)).one() == 0


def test_too_many_files_are_refused(client, db):
    files = [("files", (f"材料{i}.pdf", PDF, "application/pdf")) for i in range(6)]
    assert "一次最多上传 5 个文件" in file_report(client, files=files).text


def test_the_public_form_needs_its_csrf_token(client, db):
    client.get("/public/report")
    response = client.post("/public/report", data={"target_name": "某公司", "content": CONTENT})
    assert response.status_code == 403
    reread(db)
    assert db.exec(select(func.count()).select_from(Report)).one() == 0


@pytest.fixture
def limited_client(settings):  # type: ignore[no-untyped-def]
    from reviewapp.app import create_app

    with Browser(
        app=create_app(settings.with_(public_report_limit=2, public_lookup_limit=3)), base_url="http://testserver.local"
    ) as c:
        yield c


def test_submissions_are_rate_limited_per_address_in_the_database(limited_client, db):
    assert "举报已提交" in file_report(limited_client).text
    assert "举报已提交" in file_report(limited_client).text
    third = file_report(limited_client)
    assert third.status_code == 429
    assert "提交过于频繁：同一网络地址每小时最多提交 2 件举报" in third.text
    assert CONTENT in third.text  # what was typed is not lost
    reread(db)
    assert db.exec(select(func.count()).select_from(Report)).one() == 2


def test_lookups_are_rate_limited_too(limited_client, db):
    code = receipt_code(file_report(limited_client).text)
    for _ in range(3):
        assert lookup(limited_client, "9" * 20).status_code == 200
    refused = lookup(limited_client, code)  # even the right code, once the limit is reached
    assert refused.status_code == 429 and "查询过于频繁" in refused.text and "已收到" not in refused.text


def test_another_app_process_sees_the_same_count(settings, db):
    from reviewapp.app import create_app

    limited = settings.with_(public_report_limit=1)
    with Browser(app=create_app(limited), base_url="http://testserver.local") as first:
        assert "举报已提交" in file_report(first).text
    with Browser(app=create_app(limited), base_url="http://testserver.local") as second:
        assert file_report(second).status_code == 429
