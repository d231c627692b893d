"""The expert's declaration of conflicts of interest per round: what to declare, and submitting it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import ServiceError
from reviewapp.panels.models import (
    Conflict,
    ConflictRule,
    Pledge,
)
from reviewapp.panels.service import PledgeRequired, expert_panels, get_expert, get_pledge, pledge_state
from reviewapp.rounds.service import get_round


@dataclass
class DeclarationItem:
    enterprise_id: int
    enterprise_name: str
    declared: str  # the expert's own earlier declaration ("" if none)
    auto_excluded: bool  # the system already excludes the expert from this enterprise's applications


def declaration_items(session: Session, *, expert_id: int, round_id: int) -> list[DeclarationItem]:
    """The enterprises (names only) of the applications assigned to the expert's panel in this round."""
    panel_ids = [p.id for p in expert_panels(session, expert_id=expert_id, round_id=round_id)]
    if not panel_ids:
        return []
    rows = session.exec(
        select(Application.id, Enterprise.id, Enterprise.name)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
        .where(Application.round_id == round_id, col(Application.panel_id).in_(panel_ids))
        .order_by(Enterprise.name, Enterprise.id)
    ).all()
    conflicts = session.exec(
        select(Conflict.application_id, Conflict.rule, Conflict.evidence).where(
            Conflict.round_id == round_id, Conflict.expert_id == expert_id
        )
    ).all()
    declared: dict[int, str] = {}
    auto: set[int] = set()
    for app_id, rule, evidence in conflicts:
        if rule == ConflictRule.declaration.value:
            declared[app_id] = evidence
        else:
            auto.add(app_id)
    items: dict[int, DeclarationItem] = {}
    for app_id, ent_id, ent_name in rows:
        item = items.setdefault(ent_id, DeclarationItem(ent_id, ent_name, "", False))
        if app_id in declared and not item.declared:
            item.declared = declared[app_id]
        if app_id in auto:
            item.auto_excluded = True
    return list(items.values())


DECLARATION_PREFIX = "专家本人声明存在利害关系"


def submit_declaration(
    session: Session,
    *,
    actor: Actor,
    expert_id: int,
    round_id: int,
    declared: dict[int, str],
    confirmed: bool,
) -> Pledge:
    """Record the expert's declaration: each declared enterprise (id -> the expert's words) becomes a
    "declaration" conflict on every application of that enterprise in the round; the list counts as gone through.
    Earlier declarations stay (a declaration is never withdrawn by the expert)."""
    rnd = get_round(session, round_id)
    pledge = get_pledge(session, expert_id=expert_id, round_id=round_id)
    if pledge_state(pledge, rnd) in {"unsigned", "resign"}:
        raise PledgeRequired("请先签署保密与公正承诺。", next_url=f"/expert/rounds/{round_id}/pledge")
    if not confirmed:
        raise ServiceError("请勾选“本人已逐一核对以上企业”后再提交。", field="confirm")
    offered = {item.enterprise_id: item for item in declaration_items(session, expert_id=expert_id, round_id=round_id)}
    unknown = set(declared) - set(offered)
    if unknown:
        raise ServiceError("声明中包含不属于本组的企业，请刷新页面后重试。")
    expert = get_expert(session, expert_id)
    new_rows = 0
    for ent_id, words in sorted(declared.items()):
        words = (words or "").strip()[:300]
        evidence = f"{DECLARATION_PREFIX}：{words}" if words else DECLARATION_PREFIX
        app_ids = session.exec(
            select(Application.id).where(Application.round_id == round_id, Application.enterprise_id == ent_id)
        ).all()
        for app_id in app_ids:
            exists = session.exec(
                select(Conflict).where(
                    Conflict.round_id == round_id,
                    Conflict.expert_id == expert_id,
                    Conflict.application_id == app_id,
                    Conflict.rule == ConflictRule.declaration.value,
                )
            ).first()
            if exists is None:
                session.add(
                    Conflict(
                        round_id=round_id,
                        expert_id=expert_id,
                        application_id=app_id,
                        rule=ConflictRule.declaration.value,
                        evidence=evidence[:500],
                    )
                )
                new_rows += 1
    pledge.declaration_done_at = utcnow()  # type: ignore[union-attr]
    session.add(pledge)
    session.flush()
    names = [offered[e].enterprise_name for e in sorted(declared)]
    audit.record(
        session,
        actor=actor,
        action="pledge.declare",
        entity_type="pledge",
        entity_id=pledge.id,  # type: ignore[union-attr]
        summary=(
            f"{expert.name} 提交「{rnd.name}」回避声明："
            + (f"声明与 {len(names)} 家企业存在利害关系（{'、'.join(names)}）" if names else "无须回避的企业")
        ),
        after={"declared": {str(k): v for k, v in declared.items()}, "new_conflicts": new_rows},
    )
    return pledge  # type: ignore[return-value]
