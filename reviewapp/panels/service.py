"""Panels, conflicts of interest, assignment, and the expert's pledge: operations on a Session, each audited."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import INDUSTRY_GROUPS, Application, ApplicationParty, Enterprise, FormalStatus
from reviewapp.audit import Actor
from reviewapp.clock import today_beijing, utcnow
from reviewapp.db import chunked
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import rules
from reviewapp.panels.models import (
    CONFLICT_RULE_LABELS,
    Conflict,
    ConflictRule,
    Expert,
    ExpertEmployment,
    ExpertRelation,
    Panel,
    PanelMember,
    Pledge,
)
from reviewapp.rounds.models import Round
from reviewapp.rounds.service import get_round, round_settings, update_round

audit.register_labels(
    actions={
        "panel.create": "新建专家组",
        "panel.update": "修改专家组",
        "panel.delete": "删除专家组",
        "panel.member_add": "添加专家组成员",
        "panel.member_remove": "移出专家组成员",
        "panel.chair_set": "指定专家组组长",
        "panel.assign": "分配申报项目",
        "panel.auto_assign": "自动分配申报项目",
        "conflict.recompute": "重新计算回避关系",
        "round.coi_settings": "修改回避规则",
        "pledge.sign": "签署保密与公正承诺",
        "pledge.declare": "提交回避声明",
        "pledge.reset": "要求重新确认回避声明",
    },
    entities={"panel": "专家组", "round": "评审批次", "pledge": "承诺与回避声明", "conflict": "回避关系"},
)

PASSED = FormalStatus.passed.value
# --- lookups --------------------------------------------------------------------------------------


def get_panel(session: Session, panel_id: int, *, round_id: int | None = None) -> Panel:
    panel = session.get(Panel, panel_id)
    if panel is None or (round_id is not None and panel.round_id != round_id):
        raise NotFound("未找到该专家组。")
    return panel


def get_expert(session: Session, expert_id: int) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound("未找到该专家。")
    return expert


def expert_of_user(session: Session, *, user_id: int) -> Expert | None:
    return session.exec(select(Expert).where(Expert.user_id == user_id)).first()


def round_panels(session: Session, round_id: int) -> list[Panel]:
    return list(session.exec(select(Panel).where(Panel.round_id == round_id).order_by(Panel.industry_group, Panel.id)))


def panel_members(session: Session, panel_id: int) -> list[tuple[PanelMember, Expert]]:
    stmt = (
        select(PanelMember, Expert)
        .join(Expert, Expert.id == PanelMember.expert_id)  # type: ignore[arg-type]
        .where(PanelMember.panel_id == panel_id)
        .order_by(col(PanelMember.is_chair).desc(), PanelMember.id)
    )
    return [(m, e) for m, e in session.exec(stmt)]


def round_membership(session: Session, round_id: int) -> dict[int, set[int]]:
    """panel id -> expert ids, for every panel of the round (empty panels included)."""
    result: dict[int, set[int]] = {p.id: set() for p in round_panels(session, round_id)}  # type: ignore[misc]
    stmt = (
        select(PanelMember.panel_id, PanelMember.expert_id)
        .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
        .where(Panel.round_id == round_id)
    )
    for panel_id, expert_id in session.exec(stmt):
        result.setdefault(panel_id, set()).add(expert_id)
    return result


def expert_panels(session: Session, *, expert_id: int, round_id: int | None = None) -> list[Panel]:
    stmt = select(Panel).join(PanelMember, PanelMember.panel_id == Panel.id).where(PanelMember.expert_id == expert_id)  # type: ignore[arg-type]
    if round_id is not None:
        stmt = stmt.where(Panel.round_id == round_id)
    return list(session.exec(stmt.order_by(Panel.round_id.desc(), Panel.id)))  # type: ignore[attr-defined]


# --- facts for the pure rules ---------------------------------------------------------------------


def expert_facts(session: Session, expert_ids: Iterable[int]) -> dict[int, rules.ExpertFacts]:
    ids = sorted(set(expert_ids))
    jobs: dict[int, list[rules.Employment]] = defaultdict(list)
    relations: dict[int, list[rules.Relation]] = defaultdict(list)
    experts: list[Any] = []
    for chunk in chunked(ids):
        experts += session.exec(
            select(Expert.id, Expert.name, Expert.employer, Expert.employer_credit_code, Expert.city).where(
                col(Expert.id).in_(chunk)
            )
        ).all()
        for row in session.exec(
            select(
                ExpertEmployment.expert_id,
                ExpertEmployment.employer,
                ExpertEmployment.credit_code,
                ExpertEmployment.start,
                ExpertEmployment.end,
            )
            .where(col(ExpertEmployment.expert_id).in_(chunk))
            .order_by(ExpertEmployment.id)
        ):
            jobs[row[0]].append(rules.Employment(employer=row[1], credit_code=row[2], start=row[3], end=row[4]))
        for row in session.exec(
            select(
                ExpertRelation.expert_id,
                ExpertRelation.enterprise_name,
                ExpertRelation.relation,
                ExpertRelation.credit_code,
                ExpertRelation.since,
                ExpertRelation.until,
                ExpertRelation.note,
            )
            .where(col(ExpertRelation.expert_id).in_(chunk))
            .order_by(ExpertRelation.id)
        ):
            relations[row[0]].append(
                rules.Relation(
                    enterprise_name=row[1], relation=row[2], credit_code=row[3], since=row[4], until=row[5], note=row[6]
                )
            )
    return {
        e[0]: rules.ExpertFacts(
            id=e[0],
            name=e[1],
            employer=e[2],
            employer_credit_code=e[3],
            city=e[4],
            employments=tuple(jobs.get(e[0], ())),
            relations=tuple(relations.get(e[0], ())),
        )
        for e in experts
    }


def application_facts(
    session: Session, *, round_id: int, application_ids: Iterable[int] | None = None
) -> dict[int, rules.ApplicationFacts]:
    stmt = (
        select(
            Application.id,
            Enterprise.name,
            Enterprise.credit_code,
            Enterprise.group_name,
            Enterprise.group_credit_code,
            Enterprise.city,
        )
        .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
        .where(Application.round_id == round_id)
    )
    rows: list[Any] = []
    if application_ids is None:
        rows = list(session.exec(stmt))
    else:
        for chunk in chunked(sorted(set(application_ids))):
            rows += session.exec(stmt.where(col(Application.id).in_(chunk))).all()
    parties: dict[int, list[rules.Party]] = defaultdict(list)
    party_stmt = select(
        ApplicationParty.application_id, ApplicationParty.role, ApplicationParty.name, ApplicationParty.credit_code
    )
    if application_ids is None:
        party_stmt = party_stmt.join(Application, Application.id == ApplicationParty.application_id).where(  # type: ignore[arg-type]
            Application.round_id == round_id
        )
        party_rows = list(session.exec(party_stmt.order_by(ApplicationParty.id)))
    else:
        party_rows = []
        for chunk in chunked([r[0] for r in rows]):
            party_rows += session.exec(
                party_stmt.where(col(ApplicationParty.application_id).in_(chunk)).order_by(ApplicationParty.id)
            ).all()
    for app_id, role, name, code in party_rows:
        parties[app_id].append(rules.Party(role=role, name=name, credit_code=code))
    return {
        r[0]: rules.ApplicationFacts(
            id=r[0],
            enterprise_name=r[1],
            credit_code=r[2],
            group_name=r[3],
            group_credit_code=r[4],
            city=r[5],
            parties=tuple(parties.get(r[0], ())),
        )
        for r in rows
    }


# --- conflicts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecomputeResult:
    added: int
    removed: int
    changed: int
    total: int

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def update_round_settings(
    session: Session, *, actor: Actor, round_id: int, row_version: int, values: dict[str, Any], tz: Any
) -> Round:
    """rounds.service.update_round, and the stored conflicts follow the round's conflict-of-interest switches at
    once (as on the panels' rule page). Here rather than in rounds, which panels builds on."""

    def switches(rnd: Round) -> dict[str, Any]:
        return {k: v for k, v in round_settings(rnd).items() if k.startswith("coi_")}

    before = switches(get_round(session, round_id))
    rnd = update_round(session, actor=actor, round_id=round_id, row_version=row_version, values=values, tz=tz)
    if switches(rnd) != before:
        recompute_conflicts(session, actor=actor, round_id=rnd.id, today=today_beijing())
    return rnd


def recompute_conflicts(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    today: date,
    expert_ids: Iterable[int] | None = None,
) -> RecomputeResult:
    """Bring the round's stored automatic conflicts in line with the rules (declarations are left alone).

    Only the differences are written, so re-running it is cheap and the audit log records real changes only.
    `expert_ids` limits the work to some experts (after one profile or membership changed).
    """
    rnd = get_round(session, round_id)
    members: set[int] = set().union(*round_membership(session, round_id).values())
    scope = members if expert_ids is None else set(expert_ids) & members
    settings = rules.CoiSettings.of_round(rnd)
    found = rules.find_conflicts(
        expert_facts(session, scope).values(),
        application_facts(session, round_id=round_id).values(),
        settings=settings,
        today=today,
    )
    wanted = {(e, a, f.rule.value): f.evidence for (e, a), findings in found.items() for f in findings}

    existing_stmt = select(
        Conflict.id, Conflict.expert_id, Conflict.application_id, Conflict.rule, Conflict.evidence
    ).where(Conflict.round_id == round_id, Conflict.rule != ConflictRule.declaration.value)
    if expert_ids is not None:
        # Stored rows of experts outside the scope stay; rows of the scoped experts are compared below.
        existing_rows: list[Any] = []
        for chunk in chunked(sorted(set(expert_ids))):
            existing_rows += session.exec(existing_stmt.where(col(Conflict.expert_id).in_(chunk))).all()
    else:
        existing_rows = list(session.exec(existing_stmt))
    existing = {(r[1], r[2], r[3]): (r[0], r[4]) for r in existing_rows}

    stale = [row_id for key, (row_id, _ev) in existing.items() if key not in wanted]
    changed = [(row_id, wanted[key]) for key, (row_id, ev) in existing.items() if key in wanted and wanted[key] != ev]
    fresh = [
        {
            "round_id": round_id,
            "expert_id": e,
            "application_id": a,
            "rule": rule,
            "evidence": ev[:500],
            "created_at": utcnow(),
        }
        for (e, a, rule), ev in wanted.items()
        if (e, a, rule) not in existing
    ]
    for chunk in chunked(stale):
        session.exec(delete(Conflict).where(col(Conflict.id).in_(chunk)))  # type: ignore[call-overload]
    for row_id, evidence in changed:
        session.exec(update(Conflict).where(Conflict.id == row_id).values(evidence=evidence[:500]))  # type: ignore[call-overload]
    if fresh:
        session.execute(insert(Conflict), fresh)
    result = RecomputeResult(added=len(fresh), removed=len(stale), changed=len(changed), total=len(wanted))
    if result.changed_anything:
        audit.record(
            session,
            actor=actor,
            action="conflict.recompute",
            entity_type="round",
            entity_id=round_id,
            summary=(
                f"重新计算「{rnd.name}」的回避关系：新增 {result.added} 条，解除 {result.removed} 条，"
                f"依据更新 {result.changed} 条"
            ),
            after={"added": result.added, "removed": result.removed, "changed": result.changed},
        )
    session.flush()
    return result


def refresh_conflicts_for_experts(session: Session, *, actor: Actor, expert_ids: Iterable[int], today: date) -> None:
    """After profiles changed: recompute the rounds in which any of these experts sits on a panel."""
    ids = sorted(set(expert_ids))
    round_ids: set[int] = set()
    for chunk in chunked(ids):
        round_ids |= set(
            session.exec(
                select(Panel.round_id)
                .join(PanelMember, PanelMember.panel_id == Panel.id)  # type: ignore[arg-type]
                .where(col(PanelMember.expert_id).in_(chunk))
                .distinct()
            )
        )
    for round_id in sorted(round_ids):
        recompute_conflicts(session, actor=actor, round_id=round_id, today=today, expert_ids=ids)


def stored_conflicts(session: Session, *, round_id: int) -> dict[int, dict[int, str]]:
    """application id -> {expert id: rule labels}, from the stored rows (declarations included)."""
    result: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for app_id, expert_id, rule in session.exec(
        select(Conflict.application_id, Conflict.expert_id, Conflict.rule).where(Conflict.round_id == round_id)
    ):
        result[app_id][expert_id].append(CONFLICT_RULE_LABELS.get(ConflictRule(rule), rule))
    return {a: {e: "、".join(labels) for e, labels in by_expert.items()} for a, by_expert in result.items()}


def update_coi_settings(
    session: Session, *, actor: Actor, round_id: int, values: dict[str, Any], row_version: int, today: date
) -> Round:
    """Switch the round's automatic rules on or off (and the N-year window), then recompute its conflicts."""
    rnd = get_round(session, round_id)
    if rnd.row_version != row_version:
        raise StaleEdit("该批次的设置已被他人修改，请刷新后重试。")
    keys = (
        "coi_same_credit_code",
        "coi_employment",
        "coi_employment_years",
        "coi_provider",
        "coi_declared_relation",
        "coi_same_city",
    )
    before = {k: getattr(rnd, k) for k in keys}
    after = {k: values[k] for k in keys}
    if not 0 <= int(after["coi_employment_years"]) <= 20:
        raise ServiceError("任职回避年限应在 0 到 20 年之间。", field="coi_employment_years")
    if before == after:
        return rnd
    for k, v in after.items():
        setattr(rnd, k, v)
    rnd.row_version += 1
    rnd.updated_at = utcnow()
    session.add(rnd)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="round.coi_settings",
        entity_type="round",
        entity_id=rnd.id,
        summary=f"修改「{rnd.name}」的回避规则",
        before=before,
        after=after,
    )
    recompute_conflicts(session, actor=actor, round_id=round_id, today=today)
    return rnd


# --- changes after scoring has started ------------------------------------------------------------

# The scoring capability registers here a function that counts the *submitted* score sheets a panel change
# would orphan: fn(session, *, round_id, panel_id, expert_ids, application_ids) -> int, where expert_ids are
# members leaving the panel (their sheets on the panel's applications) and application_ids are applications
# leaving the panel (every member's sheets on them). Until it does, no score sheets exist and the count is 0.
SubmittedScoresCounter = Callable[..., int]
SUBMITTED_SCORE_COUNTERS: list[SubmittedScoresCounter] = []


def guard_panel_change(
    session: Session,
    *,
    rnd: Round,
    panel_id: int,
    reason: str,
    leaving_expert_ids: Iterable[int] = (),
    leaving_application_ids: Iterable[int] = (),
) -> str:
    """The one check every change of a panel's members, chair or applications passes through.

    Before scoring starts anything goes. Afterwards a written reason is required (it goes into the audit
    entry), and a change that would take away a submitted score sheet is refused outright: a score is never
    dropped silently. Returns the cleaned reason ("" before scoring).
    """
    if rnd.scoring_started_at is None:
        return ""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ServiceError("评分已开始，调整专家组须填写调整原因（至少 4 个字）。", field="reason")
    experts, apps = set(leaving_expert_ids), set(leaving_application_ids)
    if experts or apps:
        affected = sum(
            counter(session, round_id=rnd.id, panel_id=panel_id, expert_ids=experts, application_ids=apps)
            for counter in SUBMITTED_SCORE_COUNTERS
        )
        if affected:
            raise ServiceError(
                f"此调整涉及 {affected} 份已提交的评分表，不能直接调整。请先按程序处理这些评分表（退回或作废并记录原因），再调整专家组。",
                field="reason",
            )
    return reason[:300]


def _with_reason(summary: str, reason: str) -> str:
    return f"{summary}（原因：{reason}）" if reason else summary


# --- panels and members ---------------------------------------------------------------------------


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
        summary=_with_reason(f"删除专家组「{panel.name}」，{len(apps)} 个申报项目改为未分配", reason),
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
        summary=_with_reason(
            f"{expert.name} 加入专家组「{panel.name}」" + ("并任组长" if member.is_chair else ""), reason
        ),
        after={"expert_id": expert_id, "is_chair": member.is_chair},
    )
    # A pledge signed for this round before (on another panel's list) no longer covers this panel's enterprises.
    _reset_declarations(
        session, actor=actor, round_id=rnd.id, expert_ids=[expert_id], why=f"加入专家组「{panel.name}」"
    )  # type: ignore[arg-type]
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
        summary=_with_reason(f"{expert.name} 移出专家组「{panel.name}」", reason),
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
        summary=_with_reason(f"指定 {target[1].name} 为专家组「{panel.name}」组长", reason),
        before={"chair": [m.expert_id for m, _e in previous]},
        after={"chair": expert_id},
    )


def _reset_declarations(session: Session, *, actor: Actor, round_id: int, expert_ids: Iterable[int], why: str) -> int:
    """Experts whose panel gained enterprises must go through the declaration list again before seeing anything."""
    ids = sorted(set(expert_ids))
    if not ids:
        return 0
    pledges = list(
        session.exec(
            select(Pledge).where(
                Pledge.round_id == round_id,
                col(Pledge.expert_id).in_(ids),
                col(Pledge.declaration_done_at).is_not(None),
            )
        )
    )
    for pledge in pledges:
        pledge.declaration_done_at = None
        session.add(pledge)
        audit.record(
            session,
            actor=actor,
            action="pledge.reset",
            entity_type="pledge",
            entity_id=pledge.id,
            summary=f"因{why}，专家（编号 {pledge.expert_id}）须重新确认回避声明",
        )
    session.flush()
    return len(pledges)


# --- assignment -----------------------------------------------------------------------------------


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
        summary=_with_reason(text, reason),
        before={"application_id": app.id, "panel_id": old.id if old else None},
        after={"application_id": app.id, "panel_id": panel_id},
    )
    if target is not None:
        recompute_conflicts(
            session, actor=actor, round_id=rnd.id, today=today, expert_ids=_members_of(session, target.id)
        )  # type: ignore[arg-type]
        _reset_declarations(
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
        summary=_with_reason(
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
        _reset_declarations(
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


# --- pledge, declaration and what an expert may see -----------------------------------------------


def pledge_hash(text: str) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


class PledgeRequired(ServiceError):
    """The expert must (re)sign the pledge or finish the declaration before seeing anything of the round."""

    def __init__(self, message: str, *, next_url: str) -> None:
        super().__init__(message)
        self.next_url = next_url


def get_pledge(session: Session, *, expert_id: int, round_id: int) -> Pledge | None:
    return session.exec(select(Pledge).where(Pledge.expert_id == expert_id, Pledge.round_id == round_id)).first()


def pledge_state(pledge: Pledge | None, rnd: Round) -> str:
    """unsigned | resign (the text changed since signing) | declare (signed, declaration pending) | done."""
    if pledge is None:
        return "unsigned"
    if pledge.pledge_text_sha256 != pledge_hash(rnd.pledge_text):
        return "resign"
    if pledge.declaration_done_at is None:
        return "declare"
    return "done"


PLEDGE_STATE_LABELS = {
    "unsigned": "未签署承诺",
    "resign": "承诺书已更新，须重新签署",
    "declare": "已签署承诺，待完成回避声明",
    "done": "已完成承诺与回避声明",
}


def require_pledge(session: Session, *, expert_id: int, round_id: int) -> Pledge:
    """The gate every expert-facing page of a round calls first: raises PledgeRequired (with where to go) unless
    the expert sits on a panel of the round, has signed the current pledge text and finished the declaration."""
    rnd = get_round(session, round_id)
    if not expert_panels(session, expert_id=expert_id, round_id=round_id):
        raise NotFound("您不是该批次任何专家组的成员。")
    pledge = get_pledge(session, expert_id=expert_id, round_id=round_id)
    state = pledge_state(pledge, rnd)
    if state in {"unsigned", "resign"}:
        raise PledgeRequired(
            "查看评审内容前，请先阅读并签署保密与公正承诺。", next_url=f"/expert/rounds/{round_id}/pledge"
        )
    if state == "declare":
        raise PledgeRequired(
            "请先逐一核对本组申报企业，完成回避声明。", next_url=f"/expert/rounds/{round_id}/declaration"
        )
    return pledge  # type: ignore[return-value]


def sign_pledge(session: Session, *, actor: Actor, expert_id: int, round_id: int, agreed: bool) -> Pledge:
    rnd = get_round(session, round_id)
    if not expert_panels(session, expert_id=expert_id, round_id=round_id):
        raise NotFound("您不是该批次任何专家组的成员。")
    if not agreed:
        raise ServiceError("请勾选“本人已阅读并承诺遵守”后再签署。", field="agree")
    pledge = get_pledge(session, expert_id=expert_id, round_id=round_id)
    digest = pledge_hash(rnd.pledge_text)
    if pledge is not None and pledge.pledge_text_sha256 == digest:
        return pledge
    resign = pledge is not None
    if pledge is None:
        pledge = Pledge(round_id=round_id, expert_id=expert_id, pledge_text_sha256=digest)
    pledge.pledge_text_sha256 = digest
    pledge.signed_at = utcnow()
    pledge.client_addr = actor.client_addr[:64]
    session.add(pledge)
    session.flush()
    expert = get_expert(session, expert_id)
    audit.record(
        session,
        actor=actor,
        action="pledge.sign",
        entity_type="pledge",
        entity_id=pledge.id,
        summary=f"{expert.name} {'重新' if resign else ''}签署「{rnd.name}」保密与公正承诺",
        after={"round_id": round_id, "expert_id": expert_id, "pledge_text_sha256": digest},
    )
    return pledge


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


def visible_applications(
    session: Session, *, expert_id: int, round_id: int, today: date | None = None
) -> list[Application]:
    """What an expert may see and score in a round: applications assigned to the expert's panel, formal review
    passed, with no conflict for this expert. Empty until the pledge and declaration are done.

    Stored conflicts (declarations included) are combined with the rules evaluated now, so an application that
    became conflicted since the last recomputation is hidden as well.
    """
    rnd = get_round(session, round_id)
    panel_ids = [p.id for p in expert_panels(session, expert_id=expert_id, round_id=round_id)]
    if not panel_ids or pledge_state(get_pledge(session, expert_id=expert_id, round_id=round_id), rnd) != "done":
        return []
    apps = list(
        session.exec(
            select(Application)
            .where(
                Application.round_id == round_id,
                col(Application.panel_id).in_(panel_ids),
                Application.formal_status == PASSED,
            )
            .order_by(Application.serial, Application.id)
        )
    )
    if not apps:
        return []
    blocked = set(
        session.exec(
            select(Conflict.application_id).where(Conflict.round_id == round_id, Conflict.expert_id == expert_id)
        )
    )
    facts = expert_facts(session, [expert_id]).get(expert_id)
    if facts is not None:
        live = rules.find_conflicts(
            [facts],
            application_facts(session, round_id=round_id, application_ids=[a.id for a in apps]).values(),  # type: ignore[misc]
            settings=rules.CoiSettings.of_round(rnd),
            today=today or today_beijing(),
        )
        blocked |= {app_id for (_e, app_id) in live}
    return [a for a in apps if a.id not in blocked]


def can_see_application(session: Session, *, expert_id: int, application_id: int, today: date | None = None) -> bool:
    """For a page about one application: the same answer as visible_applications."""
    app = session.get(Application, application_id)
    if app is None:
        return False
    return any(
        a.id == application_id
        for a in visible_applications(session, expert_id=expert_id, round_id=app.round_id, today=today)
    )
