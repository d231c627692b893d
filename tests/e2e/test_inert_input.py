"""Inert input (issue 12): script payloads in free-text fields (enterprise and factory names, an expert's name, a
sheet opinion, objection and report content, an attachment's file name) are shown as text in real Chromium on the
pages staff, the expert and the chair read: no dialog opens, no request leaves the server, and the text is there.

The world is the authorization matrix's (the demo round, panel A chaired by expert1 with a member)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from sqlmodel import select

from reviewapp.applications import attachments
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.objections import service as objections
from reviewapp.objections.models import OBJECTION_CHANNELS
from reviewapp.panels.models import Expert
from reviewapp.reports.models import Report
from reviewapp.scoring.models import ScoreSheet
from tests.e2e.conftest import sign_in
from tests.integration.test_authorization_matrix import PDF, _world

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
SVG = '"><svg onload=alert(3)>'
LINK = "javascript:alert(4)"
OUTSIDE = "<img src=http://198.51.100.7/leak.png>"  # a request out of the server, were it markup
ALL = f"{SCRIPT}{IMG}{SVG}{LINK}{OUTSIDE}"

ENTERPRISE = f"{SCRIPT}测试企业"
FACTORY = f"{IMG}测试工厂"
EXPERT = f"{SVG}专家"
OPINION = f"评审意见{ALL}"
CONTENT = f"异议内容{ALL}"
REPORT = f"举报内容{ALL}"
FILE_NAME = f"{IMG}说明.pdf"  # no "/" : the shown name keeps only what follows the last one


def _watch(page, server: str):  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    outside: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: None if r.url.startswith(server) else outside.append(r.url))
    return dialogs, outside


def _shows(page, url: str, *texts: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.wait_for_load_state("networkidle")
    body = page.locator("body").inner_text()
    for text in texts:
        assert text in body, f"{url} does not show {text!r} as text"


def test_script_payloads_stay_text_for_staff_expert_and_chair(db, settings, make_user, page, live_server):  # type: ignore[no-untyped-def]
    ids, case_ids, logins = _world(db, settings, make_user)
    app = db.get(Application, ids["application_id"])
    enterprise = db.get(Enterprise, app.enterprise_id)
    enterprise.name = ENTERPRISE
    app.factory_name = FACTORY
    member = db.get(Expert, ids["expert_id"])
    member.name = EXPERT
    objection = objections.create_objection(
        db,
        actor=Actor.system("测试"),
        settings=settings,
        round_id=ids["round_id"],
        application_id=app.id,
        target_name="",
        channel=OBJECTION_CHANNELS[0],
        received_on=date.today(),
        objector_kind="person",
        objector_name="异议人",
        objector_contact="",
        objector_address="",
        sealed_or_signed=True,
        content=CONTENT,
        uploads=[],
        today=date.today(),
    )
    report = db.get(Report, case_ids["reports"])
    report.content = REPORT
    db.add_all([enterprise, app, member, report])
    stored = attachments.save_attachment(
        db, actor=Actor.system("测试"), settings=settings, application_id=app.id, filename=FILE_NAME, data=PDF
    )
    db.commit()
    assert stored.filename == FILE_NAME
    dialogs, outside = _watch(page, live_server)

    # The expert: the round list, then the score sheet carrying the opinion.
    sheet = db.exec(
        select(ScoreSheet).where(ScoreSheet.application_id == app.id, ScoreSheet.expert_id == member.id)
    ).first() or ScoreSheet(
        round_id=ids["round_id"],
        panel_id=ids["panel_id"],
        application_id=app.id,
        expert_id=member.id,
        criteria_version_id=db.exec(select(ScoreSheet)).first().criteria_version_id,
    )
    sheet.opinion = OPINION
    db.add(sheet)
    db.commit()
    sign_in(page, *logins["member"])
    _shows(page, "/expert/rounds")
    _shows(page, f"/expert/applications/{app.id}", ENTERPRISE, FACTORY)
    assert page.locator("textarea[name=opinion]").input_value() == OPINION
    page.context.clear_cookies()

    # The chair: the panel page names the application and its experts.
    sign_in(page, *logins["chair"])
    _shows(page, f"/expert/panels/{ids['panel_id']}", ENTERPRISE, EXPERT)
    page.context.clear_cookies()

    # Staff: applications, the application with its file, the experts, the objection and the report.
    sign_in(page, *logins["staff"])
    _shows(page, f"/rounds/{ids['round_id']}/applications", ENTERPRISE)
    _shows(page, f"/applications/{app.id}", ENTERPRISE, FACTORY, FILE_NAME)
    _shows(page, f"/experts?q={quote(EXPERT)}", EXPERT)  # the search box carries the payload in its value too
    _shows(page, f"/objections/{objection.id}", CONTENT)
    _shows(page, "/objections")
    _shows(page, f"/reports/{report.id}", REPORT)
    _shows(page, "/reports")

    assert dialogs == [], f"a payload ran: {dialogs}"
    assert outside == [], f"requests left the server: {outside}"
