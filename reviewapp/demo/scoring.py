"""Demo step for scoring: the 装备制造 panel's experts have signed the pledge, expert1 (the chair) has one sheet
submitted, one in draft and one reopened for re-scoring, and other demo experts' sheets are partly filled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import select

from reviewapp.applications.models import Application, ApplicationScenario, Enterprise, FormalStatus
from reviewapp.audit import Actor
from reviewapp.clock import today_beijing, utcnow
from reviewapp.demo.context import DemoContext, demo_credit_code
from reviewapp.panels import assignment, declarations
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round, Scenario
from reviewapp.rounds.rules import fmt_points
from reviewapp.scoring import autosave, sheets, submission
from reviewapp.scoring.models import ScoreSheet
from reviewapp.scoring.rules import Item

OPINION = (
    "该企业智能工厂建设规划清晰，生产作业与生产管理环节的数字化基础扎实，关键工序实现在线检测与设备预测性维护，"
    "数据贯通程度较高；运营管理环节的供应链协同尚有提升空间，建议加强与上下游企业的数据共享。"
)
# Fictitious factories, used only when the dataset has no applications for the chair's panel yet.
FALLBACK = [
    ("济南智控装备有限公司", "济南市", "高端数控机床智能工厂"),
    ("青岛海科精密制造有限公司", "青岛市", "精密零部件数字化车间"),
    ("烟台瑞达动力机械有限公司", "烟台市", "发动机智能装配工厂"),
    ("潍坊华源重工股份有限公司", "潍坊市", "工程机械结构件智能工厂"),
    ("淄博鲁兴泵业有限公司", "淄博市", "智能泵阀制造工厂"),
]


def scoring_step(ctx: DemoContext) -> None:
    db = ctx.session
    rnd: Round | None = ctx.objects.get("round")
    experts: list[Expert] = ctx.objects.get("experts") or []
    if rnd is None or not experts:
        return
    chair = experts[0]
    my = panels.expert_panels(db, expert_id=chair.id, round_id=rnd.id)  # type: ignore[arg-type]
    if not my:
        return
    panel = my[0]
    today = today_beijing()
    passed = db.exec(
        select(Application).where(
            Application.panel_id == panel.id, Application.formal_status == FormalStatus.passed.value
        )
    ).all()
    if len(passed) < 3:
        _fallback_applications(ctx, rnd, panel)
    members = [e for _m, e in panels.panel_members(db, panel.id)]  # type: ignore[arg-type]
    for expert in members:
        actor = Actor(expert.user_id, expert.name)
        panels.sign_pledge(db, actor=actor, expert_id=expert.id, round_id=rnd.id, agreed=True)  # type: ignore[arg-type]
        declarations.submit_declaration(
            db, actor=actor, expert_id=expert.id, round_id=rnd.id, declared={}, confirmed=True
        )  # type: ignore[arg-type]
    db.flush()

    staff = ctx.users.get("staff")
    now = utcnow()
    for n, expert in enumerate(m for m in members if m.user_id is not None):
        apps = panels.visible_applications(db, expert_id=expert.id, round_id=rnd.id, today=today)  # type: ignore[arg-type]
        actor = Actor(expert.user_id, expert.name)
        if expert.id == chair.id:
            plans = [("submit", 0), ("draft", 1), ("reopen", 2)]
        else:  # the other demo experts: one submitted, one half done
            plans = [("submit", n), ("half", n + 1)]
        for plan, index in plans:
            if index >= len(apps):
                continue
            app = apps[index]
            _fill(db, actor=actor, application_id=app.id, seed=n + index, half=plan in {"draft", "half"}, now=now)  # type: ignore[arg-type]
            if plan in {"submit", "reopen"}:
                sheet = db.exec(
                    select(ScoreSheet).where(ScoreSheet.application_id == app.id, ScoreSheet.expert_id == expert.id)
                ).one()
                submission.submit_sheet(
                    db,
                    actor=actor,
                    expert=expert,
                    application_id=app.id,
                    row_version=sheet.row_version,
                    now=now,  # type: ignore[arg-type]
                )
            if plan == "reopen":
                submission.reopen_sheet(
                    db,
                    actor=Actor(staff.id, staff.username) if staff else ctx.actor,
                    round_id=rnd.id,  # type: ignore[arg-type]
                    sheet_id=sheet.id,  # type: ignore[arg-type]
                    reason="“供应链数字化协同”一项给了满分，理由与申报材料不符，请核对后重新评分",
                    now=now,
                )
    db.flush()


def _fill(db, *, actor: Actor, application_id: int, seed: int, half: bool, now) -> None:  # type: ignore[no-untyped-def]
    """Score a sheet through the same autosave the browser uses (every change in the sheet's history)."""
    app = db.get(Application, application_id)
    rnd = db.get(Round, app.round_id)
    items = sheets.scoring_items(rounds.criteria_tree(db, rnd.criteria_version_id))
    if half:
        items = items[: len(items) // 2]
    version = 0
    for k, item in enumerate(items):
        fields = _values(item, seed + k)
        for field, value in fields:
            saved = autosave.save_field(
                db, actor=actor, application_id=application_id, field=field, raw=value, row_version=version, now=now
            )
            version = saved.row_version
    if not half:
        autosave.save_field(
            db, actor=actor, application_id=application_id, field="opinion", raw=OPINION, row_version=version, now=now
        )


def _values(item: Item, seed: int) -> list[tuple[str, str]]:
    if item.kind == "gate":
        return [(f"gate-{item.id}", "pass")]
    steps = int(item.max_points / item.step) if item.step else int(item.max_points)
    value = item.step * max(1, steps - 1 - seed % 3) if item.step else Decimal(steps - 1)
    out = [(f"score-{item.id}", fmt_points(value))]
    if value == item.max_points:
        out.append((f"just-{item.id}", "申报材料与现场佐证充分，达到满分要求。"))
    return out


def _fallback_applications(ctx: DemoContext, rnd: Round, panel: Panel) -> None:
    """A few passed applications for the chair's panel when no earlier demo step supplied them."""
    db = ctx.session
    scenarios = db.exec(
        select(Scenario)
        .where(Scenario.catalogue_version == rnd.scenario_catalogue_version)
        .order_by(Scenario.sort_order)
    ).all()
    for n, (name, city, factory) in enumerate(FALLBACK, start=1):
        enterprise = Enterprise(
            credit_code=demo_credit_code(name),
            name=name,
            city=city,
            nature="民营企业",
            size_type="大型企业" if n % 2 else "中型企业",
            industry_group=panel.industry_group,
            industry_mid="342",
            industry_small="3421",
        )
        db.add(enterprise)
        db.flush()
        app = Application(
            round_id=rnd.id,  # type: ignore[arg-type]
            enterprise_id=enterprise.id,  # type: ignore[arg-type]
            serial=900 + n,
            factory_name=factory,
            project_name=f"{factory}建设项目",
            tier=rnd.tier,
            maturity_score=Decimal("2.80") + Decimal(n) / 10,
            maturity_level=3 if n % 2 else 2,
            formal_status=FormalStatus.passed.value,
            formal_decided_at=utcnow() - timedelta(days=3),
        )
        db.add(app)
        db.flush()
        for order, sc in enumerate(scenarios[n : n + 10], start=1):
            db.add(
                ApplicationScenario(
                    application_id=app.id, scenario_id=sc.id, name=sc.name, stage=sc.stage, sort_order=order
                )
            )  # type: ignore[arg-type]
        assignment.assign_application(
            db, actor=ctx.actor, application_id=app.id, panel_id=panel.id, today=today_beijing()
        )  # type: ignore[arg-type]
    db.flush()
