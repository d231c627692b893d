"""Conflicts of interest: the facts each rule reads, recomputing the stored conflicts, and the round's switches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.clock import today_beijing, utcnow
from reviewapp.db import chunked
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import ServiceError
from reviewapp.panels import rules
from reviewapp.panels.models import (
    CONFLICT_RULE_LABELS,
    Conflict,
    ConflictRule,
    Panel,
    PanelMember,
)
from reviewapp.panels.service import application_facts, expert_facts, round_membership
from reviewapp.rounds.models import Round
from reviewapp.rounds.service import get_round, round_settings, update_round


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
