"""Expert evaluation (专家评价) after a panel is finalized: ratings by the chair and staff, measured facts, and
the suspension from future draws that a low score or a confirmed undeclared conflict brings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.auth.models import Role, User
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels.models import Conflict, ConflictRule, Expert, Panel, PanelMember, Pledge
from reviewapp.panels.service import expert_of_user, panel_members
from reviewapp.pool import rules
from reviewapp.pool import settings as pool_settings
from reviewapp.pool.models import Evaluation
from reviewapp.pool.profiles import suspend
from reviewapp.rounds.rules import fmt_points
from reviewapp.rounds.service import get_round
from reviewapp.scoring.models import ScoreSheet, SheetStatus

audit.register_labels(actions={"pool.evaluate": "专家评价"}, entities={"pool_evaluation": "专家评价"})


@dataclass
class Facts:
    """What the app measured about one expert on one panel."""

    sheets: int = 0
    on_time: int = 0
    returned: int = 0
    outliers: int = 0
    undeclared: int = 0  # automatic conflicts recorded after the expert's declaration


@dataclass
class MemberEvaluation:
    expert: Expert
    is_chair: bool
    facts: Facts
    evaluations: list[Evaluation]
    score: Decimal | None
    mine: Evaluation | None


def get_finalized_panel(session: Session, panel_id: int) -> Panel:
    panel = session.get(Panel, panel_id)
    if panel is None:
        raise NotFound("未找到该专家组。")
    return panel


def rater_role(session: Session, *, panel: Panel, user: User) -> str | None:
    """组长 (the panel's chair), 工作人员 (staff, admin), or None: may not rate."""
    if user.role in (Role.staff.value,):
        return "工作人员"
    expert = expert_of_user(session, user_id=user.id)  # type: ignore[arg-type]
    if expert is None:
        return None
    chair = session.exec(
        select(PanelMember).where(
            PanelMember.panel_id == panel.id, PanelMember.expert_id == expert.id, col(PanelMember.is_chair).is_(True)
        )
    ).first()
    return "组长" if chair else None


def measured_facts(session: Session, *, panel: Panel) -> dict[int, Facts]:
    rnd = get_round(session, panel.round_id)
    facts: dict[int, Facts] = defaultdict(Facts)
    sheets = list(session.exec(select(ScoreSheet).where(ScoreSheet.panel_id == panel.id)))
    totals: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for s in sheets:
        f = facts[s.expert_id]
        if s.returned_at is not None:
            f.returned += 1
        if s.status == SheetStatus.submitted.value:
            f.sheets += 1
            if rnd.scoring_deadline is None or (s.submitted_at and s.submitted_at <= rnd.scoring_deadline):
                f.on_time += 1
            totals[s.application_id].append((s.expert_id, Decimal(s.total)))
    for rows in totals.values():
        if len(rows) < 3:
            continue
        for expert_id, total in rows:
            others = [t for e, t in rows if e != expert_id]
            if abs(total - sum(others) / len(others)) > Decimal(rnd.outlier_threshold):
                facts[expert_id].outliers += 1
    declared = {
        p.expert_id: p.declaration_done_at
        for p in session.exec(select(Pledge).where(Pledge.round_id == rnd.id))
        if p.declaration_done_at is not None
    }
    for c in session.exec(
        select(Conflict).where(Conflict.round_id == rnd.id, Conflict.rule != ConflictRule.declaration.value)
    ):
        done = declared.get(c.expert_id)
        if done is not None and c.created_at > done:
            facts[c.expert_id].undeclared += 1
    return facts


def panel_evaluations(session: Session, *, panel: Panel, user: User) -> list[MemberEvaluation]:
    facts = measured_facts(session, panel=panel)
    evals: dict[int, list[Evaluation]] = defaultdict(list)
    for e in session.exec(select(Evaluation).where(Evaluation.panel_id == panel.id).order_by(Evaluation.id)):
        evals[e.expert_id].append(e)
    out = []
    for member, expert in panel_members(session, panel.id):  # type: ignore[arg-type]
        mine = next((e for e in evals[expert.id] if e.rater_id == user.id), None)  # type: ignore[index]
        out.append(
            MemberEvaluation(
                expert=expert,
                is_chair=member.is_chair,
                facts=facts.get(expert.id, Facts()),  # type: ignore[arg-type]
                evaluations=evals[expert.id],  # type: ignore[index]
                score=rules.evaluation_score(_ratings(evals[expert.id])),  # type: ignore[index]
                mine=mine,
            )
        )
    return out


def _ratings(evals: list[Evaluation]) -> list[tuple[int, int, int, int]]:
    return [(e.punctuality, e.quality, e.honesty, e.attendance) for e in evals]


def evaluate(
    session: Session,
    *,
    actor: Actor,
    user: User,
    panel_id: int,
    expert_id: int,
    values: dict[str, Any],
    suspend_months: int,
    today: date,
) -> tuple[Evaluation, date | None]:
    """Record (or change) this rater's evaluation; returns it and the suspension end if one was set."""
    panel = get_finalized_panel(session, panel_id)
    if panel.finalized_at is None:
        raise ServiceError("专家组定稿后才能评价专家。")
    role = rater_role(session, panel=panel, user=user)
    if role is None:
        raise ServiceError("只有本组组长和工作人员可以评价专家。")
    members = {e.id: e for _m, e in panel_members(session, panel.id)}  # type: ignore[arg-type]
    expert = members.get(expert_id)
    if expert is None:
        raise NotFound("该专家不在此专家组中。")
    if role == "组长" and expert.user_id == user.id:
        raise ServiceError("组长不能评价自己。")
    scores = {}
    for key, label in rules.EVALUATION_ASPECTS:
        try:
            value = int(values.get(key, ""))
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= 5:
            raise ServiceError(f"请为「{label}」选择 1–5 分。", field=key)
        scores[key] = value
    evaluation = session.exec(
        select(Evaluation).where(
            Evaluation.panel_id == panel.id, Evaluation.expert_id == expert_id, Evaluation.rater_id == user.id
        )
    ).first() or Evaluation(
        round_id=panel.round_id, panel_id=panel.id, expert_id=expert_id, rater_id=user.id, rater_role=role, **scores
    )  # type: ignore[arg-type]
    for key, value in scores.items():
        setattr(evaluation, key, value)
    evaluation.rater_name = actor.name
    evaluation.rater_role = role
    evaluation.note = (values.get("note") or "").strip()[:500]
    evaluation.undeclared_conflict = bool(values.get("undeclared_conflict")) and role == "工作人员"
    session.add(evaluation)
    session.flush()
    all_evals = list(
        session.exec(select(Evaluation).where(Evaluation.panel_id == panel.id, Evaluation.expert_id == expert_id))
    )
    score = rules.evaluation_score(_ratings(all_evals))
    audit.record(
        session,
        actor=actor,
        action="pool.evaluate",
        entity_type="pool_evaluation",
        entity_id=evaluation.id,
        summary=f"评价专家组「{panel.name}」专家 {expert.name}（{role}）：综合 {score} 分",
        after={**scores, "note": evaluation.note, "undeclared_conflict": evaluation.undeclared_conflict},
    )
    below = pool_settings.current(session).suspend_below
    until = rules.suspension_end(
        score=score,
        undeclared_conflict=any(e.undeclared_conflict for e in all_evals),
        today=today,
        months=suspend_months,
        below=below,
    )
    if until is not None:
        why = (
            "经核实存在未申报的利害关系"
            if any(e.undeclared_conflict for e in all_evals)
            else f"专家评价综合 {score} 分，低于 {fmt_points(below)} 分"
        )
        suspend(session, actor=actor, expert_id=expert_id, until=until, reason=why, today=today)
    return evaluation, until


def evaluable_panels(session: Session, *, user: User) -> list[Panel]:
    """Finalized panels the user may evaluate: all of them for staff, the ones they chair for an expert."""
    stmt = select(Panel).where(col(Panel.finalized_at).is_not(None)).order_by(col(Panel.id).desc())
    if user.role not in (Role.staff.value,):
        expert = expert_of_user(session, user_id=user.id)  # type: ignore[arg-type]
        if expert is None:
            return []
        stmt = stmt.join(PanelMember, PanelMember.panel_id == Panel.id).where(  # type: ignore[arg-type]
            PanelMember.expert_id == expert.id,
            PanelMember.is_chair == True,  # noqa: E712
        )
    return list(session.exec(stmt.limit(200)))
