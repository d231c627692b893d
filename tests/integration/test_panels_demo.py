"""The demo: a realistic pool linked to the demo expert logins, panels per industry group, conflicts, assignment."""

from sqlmodel import select

from reviewapp.applications.models import Application
from reviewapp.audit.service import verify_chain
from reviewapp.auth.models import User
from reviewapp.demo import load_demo
from reviewapp.panels import assignment
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember
from reviewapp.rounds.models import Round


def test_demo_builds_pool_panels_conflicts_and_assignment(db, settings):
    load_demo(db, settings=settings)
    db.commit()
    assert len(db.exec(select(Expert)).all()) == 21
    linked = {u.username: e.name for e, u in db.exec(select(Expert, User).join(User, User.id == Expert.user_id))}
    assert linked == {
        "expert1": "李建国",
        "expert2": "张晓梅",
        "expert3": "陈志强",
        "expert4": "刘海燕",
        "expert5": "赵文博",
    }

    panels = {p.industry_group: p for p in db.exec(select(Panel))}
    assert set(panels) == {"装备制造", "电子信息", "原材料"}
    chair = db.exec(
        select(PanelMember).where(PanelMember.panel_id == panels["装备制造"].id, PanelMember.is_chair == True)  # noqa: E712
    ).one()
    assert db.get(Expert, chair.expert_id).user_id == db.exec(select(User.id).where(User.username == "expert1")).one()
    assert {"employment", "declared_relation", "provider"} <= set(db.exec(select(Conflict.rule)))

    rnd = db.exec(select(Round)).one()
    passed = db.exec(
        select(Application).where(Application.round_id == rnd.id, Application.formal_status == "passed")
    ).all()
    assert passed and all(a.formal_status == "passed" for a in passed)
    statuses, reasons = assignment.assignment_overview(db, round_id=rnd.id)
    unplaced = {s.application.id for s in statuses if s.panel is None}
    assert unplaced == set(reasons), "every application the assignment could not place is explained"
    assert sum(1 for a in passed if a.panel_id is not None) >= len(passed) // 2
    assert verify_chain(db)[1] is None
