"""The authorization matrix (issue 12): every route declares who may use it next to its handler (the guards'
roles, plus `access(...)` in its opt where the answer depends on panel membership or chairmanship, see
reviewapp.web.ACCESS), and this test requests every route, GET and POST (with a valid CSRF token), as every kind of
user of a small real world (the demo round: panels, applications assigned to them, sheets, objections, reports),
asserting the declared answer:

- allowed: anything but 401/403 or a redirect to the login page;
- refused: the anonymous visitor is sent to the login page (or 401); a signed-in user outside the guard's roles
  gets 403; a user with the right role outside the declared audience (not on the panel, not its chair,
  conflicted) gets 403 or 404 (the page does not say whether the object exists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from litestar.handlers import HTTPRouteHandler
from sqlmodel import select

from reviewapp.applications import attachments
from reviewapp.applications.models import Application
from reviewapp.audit import Actor
from reviewapp.auth.models import Role, User
from reviewapp.demo import load_demo
from reviewapp.objections.models import Objection
from reviewapp.panels import membership
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel, PanelMember
from reviewapp.reports.models import Report
from reviewapp.scoring.models import ScoreSheet
from reviewapp.web import ACCESS

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A form that gets past the parsing of a route whose refusal would otherwise hide behind "nothing to save".
FORMS = {"/expert/applications/{application_id:int}/save": {"opinion": "矩阵测试意见"}}
# The chair's read-only views of a panel exist once every sheet is in (404 before): what the chair gets there is
# state, not authorization, so a 404 for the chair is accepted on these (everyone else is still refused).
NOT_YET = {
    "/expert/panels/{panel_id:int}/calibration",
    "/expert/panels/{panel_id:int}/applications/{application_id:int}",
}
PARAM = re.compile(r"\{(\w+):(\w+)\}")
ALL_ROLES = {r.value for r in Role}
PASSWORD = "correct-horse-42"  # make_user's
DEMO_PASSWORDS = {"staff": "staff-demo-2026", "admin": "admin-demo-2026", "secadmin": "secadmin-demo-2026"}


@dataclass(frozen=True)
class Declared:
    roles: frozenset[str]  # roles the guards let through (all roles: any signed-in user)
    public: bool
    audience: str | None  # an ACCESS label narrowing the roles


def declared(handler: HTTPRouteHandler) -> Declared | None:
    """What the route declares, or None when it declares nothing."""
    opt = handler.opt or {}
    label = opt.get("access")
    if opt.get("public"):
        return Declared(frozenset(ALL_ROLES), True, "public")
    roles = set(ALL_ROLES)
    guards = handler.resolve_guards()
    for guard in guards:
        fn = getattr(guard, "func", guard)  # resolve_guards wraps each in an AsyncCallable
        declared_roles = getattr(fn, "roles", None)
        if declared_roles is None:
            return None  # a guard that does not say whom it lets through
        if declared_roles:
            roles &= set(declared_roles)
    if opt.get("session_in_handler") and not guards:
        roles = {Role.expert.value}  # checked in the handler with the expert guard's rule (test_scoring_sheets)
        if label is None:
            return None
    elif not guards:
        return None
    if label is not None and label not in ACCESS:
        return None
    return Declared(frozenset(roles), False, label)


def routes_of(app) -> list[tuple[str, str, HTTPRouteHandler]]:  # type: ignore[no-untyped-def]
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods & {"GET", "POST"}):
                out.append((method, route.path, handler))
    return out


def test_every_route_declares_who_may_use_it(app):
    undeclared = [f"{m} {p}" for m, p, h in routes_of(app) if declared(h) is None]
    assert undeclared == [], f"routes without an access declaration: {undeclared}"


# --- the world ------------------------------------------------------------------------------------


def _world(db, settings, make_user):  # type: ignore[no-untyped-def]
    load_demo(db, settings=settings)
    db.commit()
    actor = Actor.system("测试")
    users = {u.username: u for u in db.exec(select(User))}
    chair_a = db.exec(select(Expert).where(Expert.user_id == users["expert1"].id)).one()
    panel_a = db.exec(
        select(Panel)
        .join(PanelMember, PanelMember.panel_id == Panel.id)
        .where(PanelMember.expert_id == chair_a.id, PanelMember.is_chair)
    ).one()
    login_experts = {
        u.username: db.exec(select(Expert).where(Expert.user_id == u.id)).one()
        for u in users.values()
        if u.username.startswith("expert") and u.username != "expert1"
    }
    members_a = {m.expert_id for m in db.exec(select(PanelMember).where(PanelMember.panel_id == panel_a.id))}
    member = next((n, e) for n, e in sorted(login_experts.items()) if e.id in members_a)
    others = [(n, e) for n, e in sorted(login_experts.items()) if e.id not in members_a]
    assert others, "the demo needs an expert login outside panel A"
    # The chair of another panel of the round: made so if the demo did not.
    chair_b_name, chair_b = others[0]
    panel_b_member = db.exec(select(PanelMember).where(PanelMember.expert_id == chair_b.id)).first()
    if panel_b_member is None:
        panel_b = next(
            p for p in db.exec(select(Panel).where(Panel.round_id == panel_a.round_id)) if p.id != panel_a.id
        )
        membership.add_member(db, actor=actor, panel_id=panel_b.id, expert_id=chair_b.id, today=date.today())
        panel_b_member = db.exec(select(PanelMember).where(PanelMember.expert_id == chair_b.id)).one()
    if not panel_b_member.is_chair:
        membership.set_chair(db, actor=actor, panel_id=panel_b_member.panel_id, expert_id=chair_b.id)
    # An expert of the pool on no panel, with a login of their own.
    on_panels = set(db.exec(select(PanelMember.expert_id)))
    outsider = next(
        (e for e in db.exec(select(Expert).order_by(Expert.id)) if e.id not in on_panels and not e.user_id), None
    )
    db.commit()  # end this session's read snapshot: SQLite refuses a write from one older than make_user's commit
    user_id = make_user("outsider", Role.expert).id
    if outsider is None:  # the demo seats its whole pool on panels: add one pool expert of our own
        outsider = Expert(name="库外专家", employer="某研究院", city="青岛市", specialties_json='["装备制造"]')
    outsider.user_id = user_id
    db.add(outsider)
    db.commit()

    # An application of panel A both the member and the chair may score, and the member's sheet of it.
    app_row = next(
        a
        for a in db.exec(select(Application).where(Application.panel_id == panel_a.id).order_by(Application.id))
        if panels.can_see_application(db, expert_id=member[1].id, application_id=a.id)
        and panels.can_see_application(db, expert_id=chair_a.id, application_id=a.id)
    )
    sheet = db.exec(
        select(ScoreSheet).where(ScoreSheet.expert_id == member[1].id, ScoreSheet.panel_id == panel_a.id)
    ).first()
    spare = make_user("spare-account", Role.staff)
    db.commit()  # as above: a fresh snapshot for the attachment's write
    attachment = attachments.save_attachment(
        db, actor=actor, settings=settings, application_id=app_row.id, filename="说明.pdf", data=PDF
    )
    db.commit()
    objection = db.exec(select(Objection)).first()
    report = db.exec(select(Report)).first()
    ids = {
        "round_id": panel_a.round_id,
        "panel_id": panel_a.id,
        "application_id": app_row.id,
        "sheet_id": sheet.id if sheet else 1,
        "expert_id": member[1].id,
        "user_id": spare.id,
        "file_id": attachment.id,
    }
    case_ids = {"objections": objection.id if objection else 1, "reports": report.id if report else 1}
    logins = {
        "sysadmin": ("admin", DEMO_PASSWORDS["admin"]),
        "secadmin": ("secadmin", DEMO_PASSWORDS["secadmin"]),
        "auditadmin": ("auditor", "auditor-demo-2026"),
        "outsider": ("outsider", PASSWORD),
        "chair_other": (chair_b_name, "expert-demo-2026"),
        "member": (member[0], "expert-demo-2026"),
        "chair": ("expert1", "expert-demo-2026"),
        "staff": ("staff", DEMO_PASSWORDS["staff"]),
    }
    return ids, case_ids, logins


ROLE_OF = {
    "anonymous": None,
    "sysadmin": "sysadmin",
    "secadmin": "secadmin",
    "auditadmin": "auditadmin",
    "outsider": "expert",
    "chair_other": "expert",
    "member": "expert",
    "chair": "expert",
    "staff": "staff",
}
# Who is in each narrowed audience (staff pass "assigned" where the guard lets staff in at all).
AUDIENCE = {
    "assigned": {"member", "chair", "staff"},
    "chair": {"chair"},
}


def fill(path: str, ids: dict[str, int], case_ids: dict[str, int]) -> str:
    def one(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if name in {"case_id", "objection_id", "report_id"}:
            return str(case_ids[path.strip("/").split("/")[0]])
        if kind == "int":
            return str(ids.get(name, 1))
        if kind == "path":
            return "app.js"
        return "x"

    return PARAM.sub(one, path)


def expected_allowed(who: str, d: Declared) -> bool:
    if d.public:
        return True
    role = ROLE_OF[who]
    if role is None or role not in d.roles:
        return False
    if d.audience in AUDIENCE:
        return who in AUDIENCE[d.audience]
    return True


def answer(response) -> str:  # type: ignore[no-untyped-def]
    location = response.headers.get("location", "")
    if response.status_code == 401 or (300 <= response.status_code < 400 and location.startswith("/login")):
        return "login"
    if response.status_code in {403, 404}:
        return str(response.status_code)
    return "allowed"


def test_every_route_answers_as_declared(app, client, db, settings, make_user, login):  # type: ignore[no-untyped-def]
    ids, case_ids, logins = _world(db, settings, make_user)
    browsers = {"anonymous": client}
    for who, (username, password) in logins.items():
        browsers[who] = login(username, password)
    routes = routes_of(app)
    # Who goes last matters: staff POSTs change the world (remove members, reopen panels), and /logout ends a
    # session, so staff come last and each user's /logout after everything else.
    order = sorted(routes, key=lambda r: (r[1] == "/logout", r[0] == "POST", r[1]))
    failures: list[str] = []
    checked = 0
    for who in ROLE_OF:
        browser = browsers[who]
        for method, path, handler in order:
            d = declared(handler)
            assert d is not None
            url = fill(path, ids, case_ids)
            if method == "GET":
                response = browser.get(url, follow_redirects=False)
            else:
                response = browser.submit(url, FORMS.get(path, {}), follow_redirects=False)
            got = answer(response)
            if path == "/logout" and got == "login":
                got = "allowed"  # signing out sends everyone to the login page: that is its job
            checked += 1
            if expected_allowed(who, d):
                state_404 = d.audience not in AUDIENCE or path in NOT_YET
                if got != "allowed" and not (got == "404" and state_404):
                    failures.append(f"{who} {method} {url}: expected allowed, got {response.status_code}")
            elif ROLE_OF[who] is None:
                if got != "login":
                    failures.append(f"anonymous {method} {url}: expected the login page, got {response.status_code}")
            elif ROLE_OF[who] not in d.roles:
                if got != "403":
                    failures.append(f"{who} {method} {url}: expected 403, got {response.status_code}")
            elif got not in {"403", "404"}:
                failures.append(f"{who} {method} {url} ({d.audience}): expected 403/404, got {response.status_code}")
    print(f"authorization matrix: {len(routes)} routes x {len(ROLE_OF)} users = {checked} requests")
    assert len(routes) > 150
    assert failures == [], "\n".join(failures)
