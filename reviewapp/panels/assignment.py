"""Assigning passed applications to panels, by hand or automatically, and the overview of who reviews what."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import update
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.db import chunked
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import rules
from reviewapp.panels.conflicts import recompute_conflicts, stored_conflicts
from reviewapp.panels.models import (
    Expert,
    Panel,
    PanelMember,
)
from reviewapp.panels.service import (
    PASSED,
    get_panel,
    guard_panel_change,
    reset_declarations,
    round_membership,
    round_panels,
    with_reason,
)
from reviewapp.rounds.service import get_round


@dataclass
class ApplicationStatus:
    """One formal-review-passed application as the assignment page shows it."""

    application: Application
    enterprise: Enterprise
    panel: Panel | None
    eligible: int  # conflict-free members of its panel (0 when unassigned)
    excluded: dict[int, str]  # expert id -> rule labels, for members of its panel
    below_minimum: bool


def assign_application(
    session: Session, *, actor: Actor, application_id: int, panel_id: int | None, today: date, reason: str = ""
) -> Application:
    """Put one application in a panel (or take it out with None), by hand."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound("未找到该申报项目。")
    rnd = get_round(session, app.round_id)
    if panel_id == app.panel_id:
        return app
    enterprise = session.get(Enterprise, app.enterprise_id)
    target = get_panel(session, panel_id, round_id=app.round_id) if panel_id is not None else None
    if target is not None:
        if app.formal_status != PASSED:
            raise ServiceError("只有形式审查通过的申报项目才能分配给专家组。", field="panel_id")
        if target.finalized_at is not None:
            raise ServiceError(f"专家组「{target.name}」已定稿，不能再分配项目。", field="panel_id")
    old = session.get(Panel, app.panel_id) if app.panel_id else None
    if old is not None:
        reason = guard_panel_change(session, rnd=rnd, panel_id=old.id, reason=reason, leaving_application_ids=[app.id])  # type: ignore[arg-type, list-item]
    if target is not None:
        reason = guard_panel_change(session, rnd=rnd, panel_id=target.id, reason=reason)  # type: ignore[arg-type]
    app.panel_id = panel_id
    app.updated_at = utcnow()
    app.row_version += 1
    session.add(app)
    session.flush()
    name = enterprise.name if enterprise else f"申报项目 {app.id}"
    if target is None:
        text = f"将「{name}」移出专家组「{old.name if old else ''}」"
    elif old is None:
        text = f"将「{name}」分配给专家组「{target.name}」"
    else:
        text = f"将「{name}」从专家组「{old.name}」改分配给「{target.name}」"
    audit.record(
        session,
        actor=actor,
        action="panel.assign",
        entity_type="panel",
        entity_id=target.id if target is not None else old.id,  # type: ignore[union-attr]
        summary=with_reason(text, reason),
        before={"application_id": app.id, "panel_id": old.id if old else None},
        after={"application_id": app.id, "panel_id": panel_id},
    )
    if target is not None:
        recompute_conflicts(
            session, actor=actor, round_id=rnd.id, today=today, expert_ids=_members_of(session, target.id)
        )  # type: ignore[arg-type]
        reset_declarations(
            session,
            actor=actor,
            round_id=rnd.id,
            expert_ids=_members_of(session, target.id),
            why=f"专家组「{target.name}」新分配了申报项目",  # type: ignore[arg-type]
        )
    return app


def _expert_names(session: Session, expert_ids: Iterable[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for chunk in chunked(sorted(set(expert_ids))):
        names.update(dict(session.exec(select(Expert.id, Expert.name).where(col(Expert.id).in_(chunk))).all()))  # type: ignore[arg-type]
    return names


def _members_of(session: Session, panel_id: int) -> list[int]:
    return list(session.exec(select(PanelMember.expert_id).where(PanelMember.panel_id == panel_id)))


@dataclass
class AutoAssignResult:
    placed: int
    unplaced: dict[int, str]  # application id -> why
    loads: dict[int, int]
    moved: int = 0
    names: dict[int, str] = field(default_factory=dict)  # application id -> enterprise name, for messages


def _passed_applications(session: Session, round_id: int) -> list[tuple[Application, Enterprise]]:
    stmt = (
        select(Application, Enterprise)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
        .where(Application.round_id == round_id, Application.formal_status == PASSED)
        .order_by(Application.serial, Application.id)
    )
    return [(a, e) for a, e in session.exec(stmt)]


def auto_assign(
    session: Session, *, actor: Actor, round_id: int, today: date, mode: str = "unassigned", reason: str = ""
) -> AutoAssignResult:
    """Place formal-review-passed applications in panels automatically (rules.plan_assignment).

    mode "unassigned" keeps every existing assignment and places the rest around it; mode "all" plans every
    passed application afresh (only before scoring starts). Conflicts are recomputed first.
    """
    rnd = get_round(session, round_id)
    if mode not in {"unassigned", "all"}:
        raise ServiceError("无效的分配方式。")
    if mode == "all" and rnd.scoring_started_at is not None:
        raise ServiceError("评分已开始，只能自动分配尚未分配的项目，不能整体重新分配。")
    if rnd.scoring_started_at is not None:
        reason = guard_panel_change(session, rnd=rnd, panel_id=0, reason=reason)
    recompute_conflicts(session, actor=actor, round_id=round_id, today=today)
    panels = round_panels(session, round_id)
    membership = round_membership(session, round_id)
    open_panels = [p for p in panels if p.finalized_at is None]
    slots = [
        rules.PanelSlot(
            id=p.id, name=p.name, industry_group=p.industry_group, member_ids=frozenset(membership.get(p.id, ()))
        )  # type: ignore[arg-type]
        for p in open_panels
    ]
    rows = _passed_applications(session, round_id)
    conflicts = stored_conflicts(session, round_id=round_id)
    names = {a.id: e.name for a, e in rows}  # type: ignore[misc]
    to_plan = [(a, e) for a, e in rows if mode == "all" or a.panel_id is None]
    base_load: dict[int, int] = defaultdict(int)
    if mode == "unassigned":
        for a, _e in rows:
            if a.panel_id is not None:
                base_load[a.panel_id] += 1
    expert_names = _expert_names(session, set().union(*membership.values()))
    plan = rules.plan_assignment(
        [rules.AppSlot(id=a.id, industry_group=e.industry_group, label=e.name) for a, e in to_plan],  # type: ignore[arg-type]
        slots,
        conflicts,
        min_scorers=rnd.min_scorers,
        base_load=base_load,
        expert_names=expert_names,
    )
    before = {a.id: a.panel_id for a, _e in to_plan}
    # Applications the plan cannot place lose a panel they held in "all" mode: they would be under-staffed there.
    target = {app_id: plan.placements.get(app_id) for app_id in before}
    moved = {app_id: panel for app_id, panel in target.items() if panel != before[app_id]}
    by_panel: dict[int | None, list[int]] = defaultdict(list)
    for app_id, panel in moved.items():
        by_panel[panel].append(app_id)
    now = utcnow()
    for panel, app_ids in by_panel.items():
        for chunk in chunked(app_ids):
            session.exec(
                update(Application)
                .where(col(Application.id).in_(chunk))
                .values(panel_id=panel, updated_at=now, row_version=Application.row_version + 1)
            )  # type: ignore[call-overload]
    session.flush()
    session.expire_all()
    gained = {panel for panel in by_panel if panel is not None}
    audit.record(
        session,
        actor=actor,
        action="panel.auto_assign",
        entity_type="round",
        entity_id=round_id,
        summary=with_reason(
            f"自动分配「{rnd.name}」的申报项目：分配 {len(plan.placements)} 项（其中变动 {len(moved)} 项），"
            f"未能分配 {len(plan.unplaced)} 项",
            reason,
        ),
        before={"mode": mode, "panels": {str(k): v for k, v in before.items() if k in moved}},
        after={
            "panels": {str(k): v for k, v in moved.items()},
            "unplaced": {str(k): v for k, v in plan.unplaced.items()},
        },
    )
    for panel_id in sorted(gained):
        panel_obj = session.get(Panel, panel_id)
        reset_declarations(
            session,
            actor=actor,
            round_id=round_id,
            expert_ids=membership.get(panel_id, ()),
            why=f"专家组「{panel_obj.name if panel_obj else panel_id}」新分配了申报项目",
        )
    return AutoAssignResult(
        placed=len(plan.placements), unplaced=plan.unplaced, loads=plan.loads, moved=len(moved), names=names
    )


def assignment_overview(session: Session, *, round_id: int) -> tuple[list[ApplicationStatus], dict[int, str]]:
    """Every passed application with its panel and eligible scorers; and why each unassigned one cannot be placed
    automatically right now ({} entry means it could be placed: run automatic assignment)."""
    rnd = get_round(session, round_id)
    panels = {p.id: p for p in round_panels(session, round_id)}
    membership = round_membership(session, round_id)
    conflicts = stored_conflicts(session, round_id=round_id)
    statuses: list[ApplicationStatus] = []
    unplaced_slots: list[rules.AppSlot] = []
    for app, enterprise in _passed_applications(session, round_id):
        panel = panels.get(app.panel_id) if app.panel_id else None
        members = membership.get(panel.id, set()) if panel else set()  # type: ignore[arg-type]
        conflicted = conflicts.get(app.id, {})  # type: ignore[arg-type]
        excluded = {e: why for e, why in conflicted.items() if e in members}
        eligible = rules.eligible_scorers(members, excluded)
        statuses.append(
            ApplicationStatus(
                application=app,
                enterprise=enterprise,
                panel=panel,
                eligible=eligible,
                excluded=excluded,
                below_minimum=panel is not None and eligible < rnd.min_scorers,
            )
        )
        if panel is None:
            unplaced_slots.append(
                rules.AppSlot(id=app.id, industry_group=enterprise.industry_group, label=enterprise.name)
            )  # type: ignore[arg-type]
    slots = [
        rules.PanelSlot(
            id=p.id, name=p.name, industry_group=p.industry_group, member_ids=frozenset(membership.get(p.id, ()))
        )  # type: ignore[arg-type]
        for p in panels.values()
        if p.finalized_at is None
    ]
    reasons: dict[int, str] = {}
    if unplaced_slots:
        names = _expert_names(session, set().union(*membership.values()))
        for slot in unplaced_slots:
            conflicted = conflicts.get(slot.id, {})
            if not rules.eligible_panels(slot, slots, conflicted, min_scorers=rnd.min_scorers):
                reasons[slot.id] = rules.explain_unplaceable(
                    slot, slots, conflicted, min_scorers=rnd.min_scorers, expert_names=names
                )
    return statuses, reasons
