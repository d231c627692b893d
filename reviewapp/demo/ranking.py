"""Demo step for ranking: two other panels of the demo round have every sheet in; the first is finalized by its
chair (opinions, recommendations, one move with its reason), so the recommendation list and the exports have
content; the second waits for its chair. The demo logins' own panel keeps its scoring in progress."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlmodel import select

from reviewapp.applications.models import Application, FormalStatus
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.demo.context import DemoContext
from reviewapp.panels import declarations
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert
from reviewapp.ranking import decisions
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import NodeKind, Round
from reviewapp.scoring import rules as sheet_rules
from reviewapp.scoring.models import ItemScore, ScoreSheet, SheetStatus, SheetVersion
from reviewapp.scoring.sheets import scoring_items

OPINIONS = [
    "工厂数字化规划与生产作业环节建设扎实，关键工序在线检测覆盖较全，设备联网率高，建议推荐。",
    "生产管理环节智能排产与仓储配送成效明显，运营管理环节数据治理仍需加强，总体达到先进级要求。",
    "数字孪生与工艺优化应用有特色，但供应链协同和精准营销场景佐证材料不够充分。",
]


def ranking_step(ctx: DemoContext) -> None:
    db = ctx.session
    rnd: Round | None = ctx.objects.get("round")
    experts: list[Expert] = ctx.objects.get("experts") or []
    if rnd is None or not experts or rnd.criteria_version_id is None:
        return
    own = {p.id for p in panels.expert_panels(db, expert_id=experts[0].id, round_id=rnd.id)}  # type: ignore[arg-type]
    others = [p for p in panels.round_panels(db, rnd.id) if p.id not in own]  # type: ignore[arg-type]
    rng = random.Random(20261122)
    tree = rounds.criteria_tree(db, rnd.criteria_version_id)
    done = []
    for panel in others:
        if len(done) == 2:
            break
        apps = db.exec(
            select(Application).where(
                Application.panel_id == panel.id, Application.formal_status == FormalStatus.passed.value
            )
        ).all()
        members = [e for _m, e in panels.panel_members(db, panel.id)]  # type: ignore[arg-type]
        if len(apps) < 2 or len(members) < 3:
            continue
        for expert in members:
            actor = Actor(expert.user_id, expert.name)
            panels.sign_pledge(db, actor=actor, expert_id=expert.id, round_id=rnd.id, agreed=True)  # type: ignore[arg-type]
            declarations.submit_declaration(
                db, actor=actor, expert_id=expert.id, round_id=rnd.id, declared={}, confirmed=True
            )  # type: ignore[arg-type]
        db.flush()
        visible = {
            e.id: {a.id for a in panels.visible_applications(db, expert_id=e.id, round_id=rnd.id)}  # type: ignore[arg-type]
            for e in members
        }
        for app in apps:
            quality = rng.uniform(0.62, 0.93)
            for n, expert in enumerate(members):
                if app.id in visible[expert.id]:
                    _submitted_sheet(db, rnd, tree, app, expert, quality + rng.uniform(-0.06, 0.06), OPINIONS[n % 3])
        done.append(panel)
    db.flush()
    if done:
        _finalize(db, done[0])


def _submitted_sheet(db, rnd: Round, tree, app: Application, expert: Expert, quality: float, opinion: str) -> None:  # type: ignore[no-untyped-def]
    """A submitted sheet as the expert's browser leaves it (items in steps, gates passed), in its own history."""
    now = utcnow()
    sheet = ScoreSheet(
        round_id=rnd.id,  # type: ignore[arg-type]
        panel_id=app.panel_id,  # type: ignore[arg-type]
        application_id=app.id,  # type: ignore[arg-type]
        expert_id=expert.id,  # type: ignore[arg-type]
        criteria_version_id=rnd.criteria_version_id,  # type: ignore[arg-type]
        status=SheetStatus.submitted.value,
        opinion=opinion,
        submitted_at=now,
    )
    db.add(sheet)
    db.flush()
    total = Decimal(0)
    entries: dict[int, sheet_rules.Entry] = {}
    for item in tree.items:
        if item.kind == NodeKind.gate.value:
            entries[item.id] = sheet_rules.Entry(gate=sheet_rules.GATE_PASS)
            db.add(ItemScore(sheet_id=sheet.id, node_id=item.id, gate="pass"))
        elif item.kind == NodeKind.points.value:
            step = Decimal(str(item.step)) or Decimal(1)
            top = Decimal(str(item.max_points))
            steps = int(top / step)
            value = min(top, step * max(0, min(steps - 1, round(steps * quality))))
            total += value
            entries[item.id] = sheet_rules.Entry(value=value)
            db.add(ItemScore(sheet_id=sheet.id, node_id=item.id, value=value))
    sheet.total = total
    sheet.summary_json = sheet_rules.summary_json(scoring_items(tree), entries)
    sheet.row_version = 2
    db.add(sheet)
    db.add(SheetVersion(sheet_id=sheet.id, version=2, kind="submit", actor_id=expert.user_id, change_json="{}"))  # type: ignore[arg-type]


def _finalize(db, panel) -> None:  # type: ignore[no-untyped-def]
    view = decisions.panel_ranking(db, panel_id=panel.id)
    chair_id = next(m.expert_id for m, _e in view.members if m.is_chair)
    chair = db.get(Expert, chair_id)
    actor = Actor(chair.user_id, chair.name)
    cut = max(1, len(view.rows) * 2 // 3)
    for row in view.rows:
        recommend = row.position <= cut
        decisions.save_decision(
            db,
            actor=actor,
            chair=chair,
            panel_id=panel.id,
            application_id=row.application.id,  # type: ignore[arg-type]
            recommend=recommend,
            group_opinion="专家组同意推荐，建议持续深化运营管理环节的数据应用。"
            if recommend
            else "专家组认为该项目场景建设深度不足，本次不予推荐。",
            row_version=0,
        )
    if len(view.rows) >= 3:
        last_recommended = view.rows[cut - 1]
        decisions.move_application(
            db,
            actor=actor,
            chair=chair,
            panel_id=panel.id,
            application_id=last_recommended.application.id,  # type: ignore[arg-type]
            position=max(1, cut - 1),
            reason="现场答辩中补充了质量追溯系统的运行数据，专家组一致认为应前移一位",
        )
    db.flush()
    decisions.save_panel_opinion(
        db,
        actor=actor,
        chair=chair,
        panel_id=panel.id,
        opinion="本组专家独立评分，意见基本一致；对评分差异较大的项目已当面复核。",
        row_version=panel.row_version,
    )
    db.flush()
    decisions.finalize_panel(db, actor=actor, chair=chair, panel_id=panel.id, row_version=panel.row_version)
