"""IDOR (issue 12): changing ids in URLs and forms never reaches another expert's sheet, a conflicted application,
another panel's chair page or decisions, or a reporter's / objector's identity (only the case's handlers see it).

The world is the authorization matrix's (the demo round, panel A chaired by expert1, a member of A, the chair of
another panel B, an expert on no panel)."""

from __future__ import annotations

from sqlmodel import select

from reviewapp.applications.models import Application
from reviewapp.auth.models import Role, User
from reviewapp.casework.models import CaseHandler
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember
from reviewapp.ranking.models import PanelDecision
from reviewapp.reports.models import Report
from reviewapp.scoring.models import ScoreSheet
from tests.integration.test_authorization_matrix import _world

HX = {"HX-Request": "true"}
PASSWORD = "correct-horse-42"
PASSWORDS = {"staff": "staff-demo-2026"}


def _expert_of(db, username: str) -> Expert:  # type: ignore[no-untyped-def]
    user = db.exec(select(User).where(User.username == username)).one()
    return db.exec(select(Expert).where(Expert.user_id == user.id)).one()


def _refused(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code in {403, 404}


def test_ids_in_urls_and_forms_reach_nothing_of_others(db, settings, make_user, login, client):  # type: ignore[no-untyped-def]
    ids, case_ids, logins = _world(db, settings, make_user)
    b = {who: login(*cred) for who, cred in logins.items() if who in {"member", "chair", "chair_other", "outsider"}}
    app_a = ids["application_id"]
    panel_a = ids["panel_id"]
    chair_b = _expert_of(db, logins["chair_other"][0])
    panel_b = db.exec(select(PanelMember.panel_id).where(PanelMember.expert_id == chair_b.id)).one()
    app_b = db.exec(select(Application.id).where(Application.panel_id == panel_b)).first()
    if app_b is None:  # the demo put nothing on B: move an application of another panel there
        moved = db.exec(
            select(Application).where(Application.panel_id != panel_a, Application.round_id == ids["round_id"])
        ).first()
        db.commit()  # a fresh snapshot to write from (SQLite refuses writes from a stale one)
        moved.panel_id = panel_b
        db.add(moved)
        db.commit()
        app_b = moved.id
    assert app_b, "the demo round assigns applications to panel B too"
    sheet_b = db.exec(select(ScoreSheet.id).where(ScoreSheet.panel_id == panel_b)).first()
    if sheet_b is None:  # B's chair has not opened a sheet yet in the demo: one of theirs, as opening it makes
        db.commit()  # a fresh snapshot to write from (SQLite refuses writes from a stale one)
        any_sheet = db.exec(select(ScoreSheet)).first()
        row = ScoreSheet(
            round_id=ids["round_id"],
            panel_id=panel_b,
            application_id=app_b,
            expert_id=chair_b.id,
            criteria_version_id=any_sheet.criteria_version_id,
        )
        db.add(row)
        db.commit()
        sheet_b = row.id

    # Another panel's applications and sheets, whatever ids the URL or the form carry.
    for who in ("chair_other", "outsider"):
        browser = b[who]
        assert _refused(browser.get(f"/expert/applications/{app_a}", follow_redirects=False)), who
        assert _refused(browser.get(f"/expert/applications/{app_a}/print", follow_redirects=False)), who
        saved = browser.submit(
            f"/expert/applications/{app_a}/save", {"opinion": "越权写入", "row_version": "1"}, headers=HX
        )
        assert _refused(saved), who
        assert _refused(browser.submit(f"/expert/applications/{app_a}/submit", {"row_version": "1"})), who
    db.rollback()
    assert not db.exec(select(ScoreSheet).where(ScoreSheet.opinion == "越权写入")).first()

    # A form naming another expert's sheet or another expert does not redirect the save to it.
    member = b["member"]
    page = member.get(f"/expert/applications/{app_a}", follow_redirects=False)
    assert page.status_code == 200
    member.submit(
        f"/expert/applications/{app_a}/save",
        {"opinion": "本人意见", "expert_id": str(ids["expert_id"] + 1), "sheet_id": str(sheet_b)},
        headers=HX,
    )
    db.rollback()
    assert db.get(ScoreSheet, sheet_b).opinion != "本人意见"

    # Another panel's chair page and decisions: the chair of A reaches nothing of B, also through A's own path.
    # (Panel B may already hold decisions or be finalized in the demo: what matters is that nothing changes.)
    chair = b["chair"]
    db.rollback()

    def decisions_of_b() -> list[tuple[object, ...]]:
        rows = db.exec(select(PanelDecision).where(PanelDecision.application_id == app_b))
        return [(d.id, d.row_version, d.updated_at) for d in rows]

    decisions_before = decisions_of_b()
    finalized_before = db.get(Panel, panel_b).finalized_by
    assert _refused(chair.get(f"/expert/panels/{panel_b}", follow_redirects=False))
    assert _refused(chair.get(f"/expert/panels/{panel_b}/applications/{app_b}", follow_redirects=False))
    for url in (
        f"/expert/panels/{panel_b}/decisions/{app_b}",
        f"/expert/panels/{panel_b}/opinion",
        f"/expert/panels/{panel_b}/finalize",
        f"/expert/panels/{panel_b}/moves/{app_b}",
        f"/expert/panels/{panel_b}/sheets/{sheet_b}/return",
        f"/expert/panels/{panel_a}/sheets/{sheet_b}/return",  # B's sheet through A's path
    ):
        response = chair.submit(
            url, {"reason": "越权退回", "row_version": "1", "recommend": "1"}, follow_redirects=False
        )
        assert _refused(response), url
    # B's application through A's own path: not found (before any state check of panel A), nothing recorded.
    for url in (f"/expert/panels/{panel_a}/decisions/{app_b}", f"/expert/panels/{panel_a}/moves/{app_b}"):
        response = chair.submit(
            url, {"row_version": "1", "recommend": "yes", "position": "1", "reason": "越权调整名次"}
        )
        assert response.status_code == 404, url
    db.rollback()
    db.expire_all()
    assert decisions_of_b() == decisions_before
    # Members of A are not its chair.
    assert _refused(b["member"].get(f"/expert/panels/{panel_a}", follow_redirects=False))
    db.rollback()
    assert db.get(ScoreSheet, sheet_b).returned_reason != "越权退回"
    assert db.get(Panel, panel_b).finalized_by == finalized_before

    # A conflicted application is out of reach for its expert, whatever the URL.
    db.commit()  # a fresh snapshot to write from (SQLite refuses writes from a stale one)
    member_expert = db.get(Expert, ids["expert_id"])
    db.add(
        Conflict(
            round_id=ids["round_id"],
            expert_id=member_expert.id,
            application_id=app_a,
            rule="declaration",
            evidence="测试：本人声明存在利害关系",
        )
    )
    db.commit()
    assert _refused(member.get(f"/expert/applications/{app_a}", follow_redirects=False))
    assert _refused(member.submit(f"/expert/applications/{app_a}/save", {"opinion": "回避后写入"}, headers=HX))
    assert _refused(member.get(f"/expert/applications/{app_a}/sheet.pdf", follow_redirects=False))


def test_reporter_identity_only_for_handlers(db, settings, make_user, login):  # type: ignore[no-untyped-def]
    _ids, case_ids, logins = _world(db, settings, make_user)
    other_staff = login(make_user("staff-other", Role.staff))
    auditor = login(*logins["auditadmin"])
    expert = login(*logins["chair"])
    handler_user = db.exec(select(User).where(User.username == "staff")).one()
    for kind, model, name_field, case_type in (("reports", Report, "reporter_name", "report"),):
        db.commit()  # a fresh snapshot to write from (SQLite refuses writes from a stale one)
        case = db.get(model, case_ids[kind])
        assert case is not None, kind
        secret = "保密身份测试人"
        setattr(case, name_field, secret)
        db.add(case)
        db.commit()
        handlers = db.exec(
            select(CaseHandler).where(CaseHandler.case_id == case.id, CaseHandler.case_type == case_type)
        ).all()
        url = f"/{kind}/{case.id}/identity"
        refused_page = other_staff.submit(url, {})
        assert refused_page.status_code in {200, 403} and secret not in refused_page.text, kind
        assert secret not in other_staff.get(f"/{kind}/{case.id}").text
        assert secret not in other_staff.get(f"/{kind}/export.xlsx").text
        assert auditor.submit(url, {}, follow_redirects=False).status_code == 403
        assert expert.submit(url, {}, follow_redirects=False).status_code == 403
        # A handler sees it (made one if the demo case has none yet).
        if not handlers:
            db.commit()  # as above
            db.add(CaseHandler(case_type=case_type, case_id=case.id, user_id=handler_user.id))
            db.commit()
            handler_login = login("staff", "staff-demo-2026")
        else:
            handler_user_row = db.get(User, handlers[0].user_id)
            handler_login = login(handler_user_row.username, PASSWORDS.get(handler_user_row.username, PASSWORD))
        assert secret in handler_login.submit(url, {}).text, kind
