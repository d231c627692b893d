"""Staff handle objections (异议) over HTTP: registering, acceptance (late and anonymous ones refused), the verification
flow to 已办结, illegal transitions refused, the objector's identity seen only by handlers (and audited), an upheld
objection taking an application off the round's list, the list held open while an objection is, the export."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.errors import ServiceError
from reviewapp.objections.models import Objection
from reviewapp.ranking import recommendations
from tests.conftest import reread
from tests.factories import make_listed_round

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
NAME, CONTACT, ADDRESS = "济南恒信检测技术有限公司", "0531-88886666", "济南市历下区经十路 100 号"
ACTOR = Actor(user_id=None, name="测试")


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    """The app's idea of today, fixed and movable: today.set(date(...))."""

    class Today:
        value = date(2026, 10, 13)

        def set(self, value: date) -> None:
            self.value = value

    fixed = Today()
    monkeypatch.setattr("reviewapp.clock.today_beijing", lambda: fixed.value)
    return fixed


ACCOUNTS = {
    "recorder": ("jilu", Role.staff, "登记员"),
    "handler": ("chengban", Role.staff, "承办员"),
    "other": ("pangren", Role.staff, "旁人"),
    "expert": ("zhuanjia", Role.expert, "专家"),
}


@pytest.fixture
def people(make_user, login):  # type: ignore[no-untyped-def]
    """(users, clients), each created and signed in when a test first needs them."""

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
def listed(db):  # type: ignore[no-untyped-def]
    """A round whose one panel is finalized with three recommended applications, publicized 2026-09-28 for
    5 working days (to 2026-10-09, National Day in between). Returns (round, apps)."""
    rnd, _panel, apps = make_listed_round(
        db, totals=[[92, 90, 91], [85, 86, 84], [78, 80, 79]], publicity_start=date(2026, 9, 28)
    )
    assert len(recommendations.round_list(db, round_id=rnd.id).listed) == 3
    return rnd, apps


def record(client, db, rnd, app, *, files=None, **fields) -> Objection:  # type: ignore[no-untyped-def]
    data = {
        "round_id": str(rnd.id),
        "channel": "信函",
        "received_on": "2026-10-08",
        "objector_kind": "unit",
        "objector_name": NAME,
        "objector_contact": CONTACT,
        "objector_address": ADDRESS,
        "sealed_or_signed": "1",
        "target": str(app.id) if app is not None else "other",
        "target_name": "",
        "content": "该企业申报的智能仓储场景尚未建成投用，与公示材料不符。",
    }
    data.update(fields)
    response = client.submit("/objections", data, files=files, follow_redirects=False)
    assert response.status_code == 303, response.text[-2000:]
    reread(db)
    return db.exec(select(Objection).order_by(Objection.id.desc())).first()  # type: ignore[attr-defined]


def step(client, db, objection_id: int, code: str, *, row_version: int | None = None, files=None, **fields):  # type: ignore[no-untyped-def]
    if row_version is None:
        reread(db)
        row_version = db.get(Objection, objection_id).row_version
    data = {"code": code, "row_version": str(row_version), **fields}
    return client.submit(f"/objections/{objection_id}/steps", data, files=files)


def offered(client, objection_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    return set(re.findall(r'name="code" value="([a-z_]+)"', client.get(f"/objections/{objection_id}").text))


def state_of(db, objection_id: int) -> str:  # type: ignore[no-untyped-def]
    reread(db)
    return db.get(Objection, objection_id).state


def identity_views(db, objection_id: int) -> int:  # type: ignore[no-untyped-def]
    reread(db)
    return db.exec(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "objection.view_identity", AuditEntry.entity_id == str(objection_id))
    ).one()


def take_to_verifying(clients, users, db, objection: Objection) -> None:  # type: ignore[no-untyped-def]
    assert step(clients["recorder"], db, objection.id, "accept", note="符合受理条件，予以受理。").status_code == 200
    response = step(
        clients["recorder"],
        db,
        objection.id,
        "start",
        handlers=[str(users["handler"].id)],
        reply_deadline="2026-10-16",
        note="请企业于期限内书面说明智能仓储场景建设情况。",
    )
    assert "已办理" in response.text, response.text[-1500:]
    assert state_of(db, objection.id) == "verifying"


def test_upheld_objection_takes_the_application_off_the_list_and_the_flow_ends_closed(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    target = apps[1]
    objection = record(clients["recorder"], db, rnd, target, files=[("files", ("异议书.pdf", PDF, "application/pdf"))])
    assert objection.number.startswith("YY-2026-") and objection.state == "registered"

    page = clients["recorder"].get(f"/objections/{objection.id}").text
    assert "建议受理" in page and "收到日期 2026-10-08 在公示期内" in page
    assert offered(clients["recorder"], objection.id) == {"accept", "refuse"}
    assert "异议书.pdf" in page

    take_to_verifying(clients, users, db, objection)
    # Verifying: only the handler records the explanation and the on-site check; no conclusion before either
    # the explanation arrives or its deadline passes.
    assert offered(clients["other"], objection.id) == set()
    handler = clients["handler"]
    assert offered(handler, objection.id) == {"record_explanation", "onsite_check", "note"}
    assert "登记企业说明或期限届满后才能作出结论" in handler.get(f"/objections/{objection.id}").text
    refused = step(handler, db, objection.id, "conclude", conclusion="upheld", findings="……")
    assert "登记企业说明或期限届满后才能作出结论" in refused.text and state_of(db, objection.id) == "verifying"

    response = step(
        handler, db, objection.id, "record_explanation", explained_on="2026-10-13", note="企业称仓储系统仍在调试。"
    )
    assert "已办理：登记企业说明" in response.text
    response = step(
        handler,
        db,
        objection.id,
        "onsite_check",
        checked_on="2026-10-13",
        inspectors="承办员、王工",
        note="现场未见立体仓库投入运行。",
        files=[("files", ("现场照片.pdf", PDF, "application/pdf"))],
    )
    assert "已办理：记录现场核查" in response.text
    assert offered(handler, objection.id) == {"conclude", "record_explanation", "onsite_check", "note"}

    response = step(
        handler, db, objection.id, "conclude", conclusion="upheld", findings="智能仓储场景未建成，申报材料与实际不符。"
    )
    assert state_of(db, objection.id) == "concluded"
    # A conclusion that stands cannot leave the list unchanged.
    response = step(handler, db, objection.id, "apply", outcome="kept", note="保留。")
    assert "处理结果只能是" in response.text and state_of(db, objection.id) == "concluded"
    response = step(handler, db, objection.id, "apply", outcome="removed", note="智能仓储场景未建成")
    assert state_of(db, objection.id) == "handled", response.text[-1500:]

    reread(db)
    view = recommendations.round_list(db, round_id=rnd.id)
    assert [r.application.id for r in view.listed] == [apps[0].id, apps[2].id]
    [removed] = view.removed
    assert removed.application.id == target.id
    assert removed.standing.removed_reason == f"异议成立：智能仓储场景未建成（异议 {objection.number}）"
    assert (
        db.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "objection.list_removed")).one()
        == 1
    )

    response = step(handler, db, objection.id, "close", reply="2026-10-14 电话并书面告知异议人：异议成立，已移出名单。")
    assert state_of(db, objection.id) == "closed"
    page = handler.get(f"/objections/{objection.id}").text
    for label in ("受理", "开始核实", "登记企业说明", "记录现场核查", "作出核实结论", "处理（落实到推荐名单）", "办结"):
        assert label in page
    assert "现场照片.pdf" in page and offered(handler, objection.id) == set()

    printed = handler.get(f"/objections/{objection.id}/print").text
    assert "异议处理单" in printed and "承办人（签字）" in printed and "移出推荐名单" in printed
    assert NAME not in printed and CONTACT not in printed


def test_a_late_objection_is_proposed_for_refusal_and_cannot_be_accepted(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    objection = record(clients["recorder"], db, rnd, apps[0], received_on="2026-10-12")  # after 2026-10-09
    page = clients["recorder"].get(f"/objections/{objection.id}").text
    assert "建议不予受理" in page and "在公示期之后" in page
    assert offered(clients["recorder"], objection.id) == {"refuse"}
    response = step(clients["recorder"], db, objection.id, "accept", note="受理。")
    assert "超出公示期" in response.text or "公示期之后" in response.text
    assert state_of(db, objection.id) == "registered"
    # The refusal form comes filled with the standard reason.
    assert "超出公示期提出的异议不予受理" in page
    step(clients["recorder"], db, objection.id, "refuse", note="超出公示期提出的异议不予受理。", reply="已电话告知。")
    assert state_of(db, objection.id) == "refused"
    assert offered(clients["recorder"], objection.id) == set()


def test_an_anonymous_objection_is_refused_with_the_standard_reason(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    objection = record(
        clients["recorder"],
        db,
        rnd,
        apps[0],
        objector_kind="person",
        objector_name="",
        objector_contact="",
        objector_address="",
        sealed_or_signed="",
    )
    page = clients["recorder"].get(f"/objections/{objection.id}").text
    assert "属匿名异议" in page and "匿名异议不予受理" in page
    assert "accept" not in offered(clients["recorder"], objection.id)
    response = step(clients["recorder"], db, objection.id, "refuse", note="")
    assert "需要填写「办理意见」" in response.text and state_of(db, objection.id) == "registered"
    step(clients["recorder"], db, objection.id, "refuse", note="匿名异议不予受理。")
    assert state_of(db, objection.id) == "refused"


def test_an_objection_against_something_not_on_the_list_is_out_of_scope(people, db, listed, today):
    users, clients = people
    rnd, _apps = listed
    objection = record(clients["recorder"], db, rnd, None, target_name="某某未申报企业")
    page = clients["recorder"].get(f"/objections/{objection.id}").text
    assert "异议对象不在公示名单内，不予受理" in page and "accept" not in offered(clients["recorder"], objection.id)


def test_illegal_transitions_are_refused(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    objection = record(clients["recorder"], db, rnd, apps[0])
    response = step(clients["recorder"], db, objection.id, "close", reply="x")
    assert "当前状态为「已登记」，不能执行「办结（记录答复异议人情况）」" in response.text
    response = step(clients["recorder"], db, objection.id, "no_such_step")
    assert "未知的办理操作" in response.text
    assert state_of(db, objection.id) == "registered"

    take_to_verifying(clients, users, db, objection)
    # Not a handler: refused, state kept.
    today.set(date(2026, 10, 20))  # past the explanation deadline: the conclusion itself would be allowed
    response = step(clients["other"], db, objection.id, "conclude", conclusion="rejected", findings="不成立。")
    assert "只有该件的承办人" in response.text and state_of(db, objection.id) == "verifying"
    response = step(
        clients["other"], db, objection.id, "onsite_check", checked_on="2026-10-20", inspectors="旁人", note="x"
    )
    assert "只有该异议的承办人" in response.text
    # A stale form is refused, never applied.
    reread(db)
    stale = db.get(Objection, objection.id).row_version - 1
    response = step(
        clients["handler"], db, objection.id, "conclude", row_version=stale, conclusion="rejected", findings="不成立。"
    )
    assert "已被他人办理或修改" in response.text and state_of(db, objection.id) == "verifying"
    # The overdue explanation stands out in the register.
    register = clients["other"].get("/objections").text
    assert "企业说明已逾期（期限 2026-10-16）" in register and 'class="row-flag"' in register
    assert objection.number in clients["other"].get("/objections?flag=overdue").text


def test_identity_is_seen_only_by_handlers_and_each_view_is_audited(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    objection = record(clients["recorder"], db, rnd, apps[0])
    # Before handlers are assigned nobody sees it, not even the staff member who recorded it.
    page = clients["recorder"].get(f"/objections/{objection.id}").text
    assert NAME not in page and CONTACT not in page and "（保密）" in page
    assert NAME not in clients["recorder"].submit(f"/objections/{objection.id}/identity").text

    take_to_verifying(clients, users, db, objection)
    assert identity_views(db, objection.id) == 0
    handler_page = clients["handler"].get(f"/objections/{objection.id}").text
    assert NAME not in handler_page and "查看异议人信息" in handler_page
    revealed = clients["handler"].submit(
        f"/objections/{objection.id}/identity", headers={"HX-Request": "true", "HX-Target": "objector-identity"}
    )
    assert NAME in revealed.text and CONTACT in revealed.text and ADDRESS in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    assert identity_views(db, objection.id) == 1

    other = clients["other"].submit(f"/objections/{objection.id}/identity")
    assert NAME not in other.text and "只有该异议的承办人可以查看" in other.text
    assert identity_views(db, objection.id) == 1
    # The audit log, readable by all staff, never carries the identity.
    reread(db)
    for entry in db.exec(select(AuditEntry)):
        assert NAME not in entry.summary + entry.before_json + entry.after_json
    log = clients["other"].get("/audit").text
    assert NAME not in log and CONTACT not in log


def test_the_list_cannot_be_marked_final_while_an_objection_is_open(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    objection = record(clients["recorder"], db, rnd, apps[2])
    reread(db)
    view = recommendations.round_list(db, round_id=rnd.id)
    with pytest.raises(ServiceError, match=f"有 1 件异议尚未办结：{objection.number}"):
        recommendations.mark_list_final(db, actor=ACTOR, round_id=rnd.id, row_version=view.row_version)
    db.rollback()

    step(clients["recorder"], db, objection.id, "refuse", note="经核，异议材料不属于对公示名单的异议。")
    assert state_of(db, objection.id) == "refused"
    view = recommendations.round_list(db, round_id=rnd.id)
    final = recommendations.mark_list_final(db, actor=ACTOR, round_id=rnd.id, row_version=view.row_version)
    db.commit()
    assert final.marked_final_at is not None


def test_the_register_filters_and_exports_without_identities(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    first = record(clients["recorder"], db, rnd, apps[0])
    second = record(
        clients["recorder"],
        db,
        rnd,
        apps[1],
        channel="邮件",
        objector_kind="person",
        objector_name="张某某",
        objector_contact="13800000000",
    )
    client = clients["other"]
    page = client.get("/objections").text
    assert first.number in page and second.number in page and "待受理" in page
    assert NAME not in page and "张某某" not in page
    filtered = client.get("/objections?channel=邮件").text
    assert second.number in filtered and first.number not in filtered
    searched = client.get(f"/objections?q={apps[0].factory_name}").text
    assert first.number in searched

    response = client.get(f"/objections/export.xlsx?round_id={rnd.id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert first.number in text and second.number in text and "异议登记簿" in text
    for secret in (NAME, CONTACT, ADDRESS, "张某某", "13800000000"):
        assert secret not in text


def test_staff_only(people, db, listed, today, client):
    users, clients = people
    rnd, apps = listed
    objection = record(clients["recorder"], db, rnd, apps[0])
    expert = clients["expert"]
    for url in (
        "/objections",
        "/objections/new",
        f"/objections/{objection.id}",
        f"/objections/{objection.id}/print",
        "/objections/export.xlsx",
    ):
        assert expert.get(url).status_code == 403
        anonymous = client.get(url, follow_redirects=False)
        assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    assert expert.submit(f"/objections/{objection.id}/identity").status_code == 403


def test_bad_registration_says_what_and_where(people, db, listed, today):
    users, clients = people
    rnd, apps = listed
    response = clients["recorder"].submit(
        "/objections",
        {
            "round_id": str(rnd.id),
            "channel": "信函",
            "received_on": "2026-10-20",
            "objector_kind": "unit",
            "target": str(apps[0].id),
            "content": "x",
        },
    )
    assert "「收到日期」不能晚于今天" in response.text
    response = clients["recorder"].submit(
        "/objections",
        {
            "round_id": str(rnd.id),
            "channel": "信函",
            "received_on": "2026-10-08",
            "objector_kind": "unit",
            "target": "",
            "content": "",
        },
    )
    assert "「被异议项目」为必填项" in response.text and "「异议内容」为必填项" in response.text
    reread(db)
    assert db.exec(select(func.count()).select_from(Objection)).one() == 0
