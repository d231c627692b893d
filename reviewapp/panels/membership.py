"""Panels and their members: create, edit, delete, add and remove members, name the chair; checks once scoring has started."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import INDUSTRY_GROUPS, Application
from reviewapp.audit import Actor
from reviewapp.db import chunked
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels.conflicts import recompute_conflicts
from reviewapp.panels.models import (
    Panel,
    PanelMember,
)
from reviewapp.panels.service import (
    expert_panels,
    get_expert,
    get_panel,
    guard_panel_change,
    panel_members,
    reset_declarations,
    with_reason,
)
from reviewapp.rounds.service import get_round


def _check_panel_values(name: str, industry_group: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise ServiceError("请填写专家组名称。", field="name")
    if len(name) > 120:
        raise ServiceError("专家组名称不能超过 120 个字符。", field="name")
    if industry_group not in INDUSTRY_GROUPS:
        raise ServiceError("请选择所属行业。", field="industry_group")
    return name, industry_group


def create_panel(session: Session, *, actor: Actor, round_id: int, name: str, industry_group: str) -> Panel:
    rnd = get_round(session, round_id)
    name, industry_group = _check_panel_values(name, industry_group)
    if session.exec(select(Panel).where(Panel.round_id == round_id, Panel.name == name)).first():
        raise ServiceError(f"本批次已有名为「{name}」的专家组。", field="name")
    panel = Panel(round_id=round_id, name=name, industry_group=industry_group)
    session.add(panel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="panel.create",
        entity_type="panel",
        entity_id=panel.id,
        summary=f"在「{rnd.name}」新建专家组「{name}」（{industry_group}）",
        after={"name": name, "industry_group": industry_group, "round_id": round_id},
    )
    return panel


def update_panel(
    session: Session, *, actor: Actor, panel_id: int, name: str, industry_group: str, row_version: int
) -> Panel:
    panel = get_panel(session, panel_id)
    if panel.row_version != row_version:
        raise StaleEdit("该专家组已被他人修改，请刷新后重试。")
    name, industry_group = _check_panel_values(name, industry_group)
    clash = session.exec(
        select(Panel).where(Panel.round_id == panel.round_id, Panel.name == name, Panel.id != panel.id)
    ).first()
    if clash:
        raise ServiceError(f"本批次已有名为「{name}」的专家组。", field="name")
    if industry_group != panel.industry_group and _assigned_count(session, panel.id):
        raise ServiceError("该组已分配申报项目，不能更改所属行业。请先移出已分配的项目。", field="industry_group")
    before = {"name": panel.name, "industry_group": panel.industry_group}
    after = {"name": name, "industry_group": industry_group}
    if before == after:
        return panel
    panel.name, panel.industry_group = name, industry_group
    panel.row_version += 1
    session.add(panel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="panel.update",
        entity_type="panel",
        entity_id=panel.id,
        summary=f"修改专家组「{before['name']}」为「{name}」（{industry_group}）",
        before=before,
        after=after,
    )
    return panel


def _assigned_count(session: Session, panel_id: int) -> int:
    return int(
        session.exec(select(func.count()).select_from(Application).where(Application.panel_id == panel_id)).one()
    )


def delete_panel(session: Session, *, actor: Actor, panel_id: int, reason: str = "") -> None:
    """Delete an empty-or-not panel before it has been finalized: its applications become unassigned."""
    panel = get_panel(session, panel_id)
    rnd = get_round(session, panel.round_id)
    if panel.finalized_at is not None:
        raise ServiceError("该专家组已定稿，不能删除。")
    apps = list(session.exec(select(Application.id).where(Application.panel_id == panel.id)))
    members = [m.expert_id for m, _e in panel_members(session, panel.id)]
    reason = guard_panel_change(
        session, rnd=rnd, panel_id=panel.id, reason=reason, leaving_expert_ids=members, leaving_application_ids=apps
    )
    for chunk in chunked(apps):
        session.exec(update(Application).where(col(Application.id).in_(chunk)).values(panel_id=None))  # type: ignore[call-overload]
    session.exec(delete(PanelMember).where(PanelMember.panel_id == panel.id))  # type: ignore[call-overload]
    session.delete(panel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="panel.delete",
        entity_type="panel",
        entity_id=panel_id,
        summary=with_reason(f"删除专家组「{panel.name}」，{len(apps)} 个申报项目改为未分配", reason),
        before={"name": panel.name, "industry_group": panel.industry_group, "members": members, "applications": apps},
    )


def add_member(
    session: Session, *, actor: Actor, panel_id: int, expert_id: int, today: date, reason: str = ""
) -> PanelMember:
    """Add an expert to a panel. The first member becomes chair; an expert sits on one panel per round."""
    panel = get_panel(session, panel_id)
    rnd = get_round(session, panel.round_id)
    expert = get_expert(session, expert_id)
    if not expert.active:
        raise ServiceError(f"{expert.name} 已停用，不能加入专家组。", field="expert_id")
    other = expert_panels(session, expert_id=expert_id, round_id=panel.round_id)
    if other:
        raise ServiceError(
            f"{expert.name} 已是本批次「{other[0].name}」的成员，一位专家在同一批次只参加一个专家组。",
            field="expert_id",
        )
    reason = guard_panel_change(session, rnd=rnd, panel_id=panel.id, reason=reason)
    has_members = bool(panel_members(session, panel.id))
    member = PanelMember(panel_id=panel.id, expert_id=expert_id, is_chair=not has_members)  # type: ignore[arg-type]
    session.add(member)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="panel.member_add",
        entity_type="panel",
        entity_id=panel.id,
        summary=with_reason(
            f"{expert.name} 加入专家组「{panel.name}」" + ("并任组长" if member.is_chair else ""), reason
        ),
        after={"expert_id": expert_id, "is_chair": member.is_chair},
    )
    # A pledge signed for this round before (on another panel's list) no longer covers this panel's enterprises.
    reset_declarations(session, actor=actor, round_id=rnd.id, expert_ids=[expert_id], why=f"加入专家组「{panel.name}」")  # type: ignore[arg-type]
    recompute_conflicts(session, actor=actor, round_id=rnd.id, today=today, expert_ids=[expert_id])  # type: ignore[arg-type]
    return member


def remove_member(session: Session, *, actor: Actor, panel_id: int, expert_id: int, reason: str = "") -> None:
    panel = get_panel(session, panel_id)
    rnd = get_round(session, panel.round_id)
    members = panel_members(session, panel.id)
    found = next(((m, e) for m, e in members if m.expert_id == expert_id), None)
    if found is None:
        raise NotFound("该专家不在此专家组中。")
    member, expert = found
    if member.is_chair and len(members) > 1:
        raise ServiceError(f"{expert.name} 是组长。请先指定其他成员为组长，再移出。")
    reason = guard_panel_change(session, rnd=rnd, panel_id=panel.id, reason=reason, leaving_expert_ids=[expert_id])
    session.delete(member)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="panel.member_remove",
        entity_type="panel",
        entity_id=panel.id,
        summary=with_reason(f"{expert.name} 移出专家组「{panel.name}」", reason),
        before={"expert_id": expert_id, "is_chair": member.is_chair},
    )


def set_chair(session: Session, *, actor: Actor, panel_id: int, expert_id: int, reason: str = "") -> None:
    """Make one member the chair (组长); the previous chair becomes an ordinary member."""
    panel = get_panel(session, panel_id)
    rnd = get_round(session, panel.round_id)
    members = panel_members(session, panel.id)
    target = next(((m, e) for m, e in members if m.expert_id == expert_id), None)
    if target is None:
        raise NotFound("该专家不在此专家组中。")
    if target[0].is_chair:
        return
    reason = guard_panel_change(session, rnd=rnd, panel_id=panel.id, reason=reason)
    previous = [(m, e) for m, e in members if m.is_chair]
    for m, _e in previous:
        m.is_chair = False
        session.add(m)
    session.flush()  # the partial unique index allows one chair at a time
    target[0].is_chair = True
    session.add(target[0])
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="panel.chair_set",
        entity_type="panel",
        entity_id=panel.id,
        summary=with_reason(f"指定 {target[1].name} 为专家组「{panel.name}」组长", reason),
        before={"chair": [m.expert_id for m, _e in previous]},
        after={"chair": expert_id},
    )
