"""The demo step: a realistic pool, the demo expert logins linked, panels, conflicts and assignment."""

from sqlmodel import select

from reviewapp.applications.models import Application
from reviewapp.audit.service import verify_chain
from reviewapp.audit import Actor
from reviewapp.auth.models import User
from reviewapp.demo import DEMO_STEPS, DemoContext, load_demo
from reviewapp.panels import service
from reviewapp.panels.demo import panels_step
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember
from tests.factories import VALID_CREDIT_CODES, make_application, make_enterprise, make_round


def test_demo_without_a_round_builds_the_pool_and_links_the_demo_experts(db, settings):
    load_demo(db, settings=settings)
    db.commit()
    experts = db.exec(select(Expert)).all()
    assert len(experts) == 25
    linked = {u.username: e.name for e, u in db.exec(select(Expert, User).join(User, User.id == Expert.user_id))}
    assert linked == {"expert1": "李建国", "expert2": "张晓梅", "expert3": "陈志强", "expert4": "刘海燕", "expert5": "赵文博"}
    assert db.exec(select(Panel)).all() == []
    assert verify_chain(db)[1] is None


def test_demo_with_round_and_applications_makes_panels_conflicts_and_assignment(db, settings):
    """The rounds and applications steps (other capabilities) run before this one: a stand-in provides their objects."""

    def upstream(ctx: DemoContext) -> None:
        rnd = make_round(db)
        groups = ["装备制造", "装备制造", "装备制造", "电子信息", "原材料", "消费品", "装备制造", "电子信息"]
        apps = []
        for n, group in enumerate(groups):
            ent = make_enterprise(db, credit_code=VALID_CREDIT_CODES[n], industry_group=group, name=f"演示企业{n}有限公司")
            providers = [("山东数智工业软件有限公司", "")] if n == 0 else None
            apps.append(make_application(db, rnd, ent, formal_status="passed", providers=providers))
        ctx.objects.update({"round": rnd, "applications": apps})

    ctx = DemoContext(session=db, settings=settings, actor=Actor.system("演示数据"))
    for step in DEMO_STEPS:
        if step is panels_step:
            upstream(ctx)
        step(ctx)
    db.commit()

    panels = {p.industry_group: p for p in db.exec(select(Panel))}
    assert set(panels) == {"装备制造", "电子信息", "原材料", "消费品"}
    chair = db.exec(select(PanelMember).where(PanelMember.panel_id == panels["装备制造"].id, PanelMember.is_chair == True)).one()  # noqa: E712
    assert db.get(Expert, chair.expert_id).user_id == ctx.users["expert1"].id
    assert {"employment", "declared_relation", "provider"} <= set(db.exec(select(Conflict.rule)))
    apps = ctx.objects["applications"]
    placed = [a for a in apps if db.get(Application, a.id).panel_id is not None]
    assert len(placed) >= 6, "most demo applications find a panel; the rest are explained on the assignment page"
    statuses, reasons = service.assignment_overview(db, round_id=ctx.objects["round"].id)
    assert {s.application.id for s in statuses if s.panel is None} == set(reasons)
    assert verify_chain(db)[1] is None
