"""On-site spot checks (现场抽查) of a round's recommended applications: choosing or drawing them, cancelling, and
recording the outcome, which may remove an application from the list or require a correction.

An outcome that changes the list writes ranking's ListEntry under reviewapp.ranking.recommendations.lock_list.
Every operation writes its audit entry in the caller's transaction.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from reviewapp import audit, clock
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.publicity import rules
from reviewapp.publicity.models import (
    SpotCheck,
    SpotCheckDraw,
    SpotCheckMethod,
    SpotCheckOutcome,
)
from reviewapp.ranking import recommendations as ranking
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round

audit.register_labels(
    actions={
        "spot_check.choose": "选取现场抽查项目",
        "spot_check.draw": "随机抽取现场抽查项目",
        "spot_check.cancel": "取消现场抽查",
        "spot_check.record": "登记现场抽查结论",
    },
    entities={"spot_check": "现场抽查"},
)

FINDINGS_MAX = 5000
NOTE_MAX = 500
MIN_NOTE = 4

# --- spot checks ----------------------------------------------------------------------------------------------


@dataclass
class SpotCheckRow:
    check: SpotCheck
    application: Application
    enterprise: Enterprise
    draw: SpotCheckDraw | None


@dataclass
class SpotCheckPage:
    round: Round
    view: ranking.RoundList
    checks: list[SpotCheckRow]
    draws: list[SpotCheckDraw]

    @property
    def candidates(self) -> list[ranking.ListRow]:
        """Listed applications not chosen yet."""
        chosen = {c.check.application_id for c in self.checks}
        return [r for r in self.view.listed if r.application.id not in chosen]

    @property
    def pending(self) -> list[SpotCheckRow]:
        return [c for c in self.checks if c.check.outcome is None]


def spot_check_page(session: Session, *, round_id: int) -> SpotCheckPage:
    view = ranking.round_list(session, round_id=round_id)
    draws = {
        d.id: d
        for d in session.exec(
            select(SpotCheckDraw).where(SpotCheckDraw.round_id == round_id).order_by(col(SpotCheckDraw.id))
        )
    }
    rows = [
        SpotCheckRow(check, app, enterprise, draws.get(check.draw_id) if check.draw_id else None)
        for check, app, enterprise in session.exec(
            select(SpotCheck, Application, Enterprise)
            .join(Application, col(Application.id) == col(SpotCheck.application_id))
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .where(SpotCheck.round_id == round_id)
            .order_by(col(SpotCheck.id))
        )
    ]
    return SpotCheckPage(round=view.round, view=view, checks=rows, draws=list(draws.values()))


def _choosable(session: Session, round_id: int) -> tuple[Round, dict[int, ranking.ListRow]]:
    """The round locked (choices are serialized per round) and its listed applications not chosen yet."""
    rnd = rounds.get_round(session, round_id, for_update=True)
    page = spot_check_page(session, round_id=round_id)
    if page.view.list is not None and page.view.list.marked_final_at is not None:
        raise ServiceError("推荐名单已定稿，不能再安排现场抽查。")
    return rnd, {r.application.id: r for r in page.candidates}  # type: ignore[misc]


def choose(session: Session, *, actor: Actor, round_id: int, application_ids: Sequence[int]) -> list[SpotCheck]:
    """Staff pick applications of the recommendation list by hand."""
    rnd, candidates = _choosable(session, round_id)
    ids = list(dict.fromkeys(application_ids))
    if not ids:
        raise ServiceError("请至少选择一个项目。", field="application_ids")
    unknown = [i for i in ids if i not in candidates]
    if unknown:
        raise ServiceError("所选项目不在推荐名单上，或已安排抽查。请刷新后重新选择。", field="application_ids")
    checks = [_add_check(session, actor, round_id, a, SpotCheckMethod.manual, None) for a in ids]
    audit.record(
        session,
        actor=actor,
        action="spot_check.choose",
        entity_type="spot_check",
        entity_id=checks[0].id,
        summary=f"手工选取「{rnd.name}」现场抽查项目{len(ids)}个："
        + "、".join(candidates[a].enterprise.name for a in ids),
        after={"application_ids": ids},
    )
    return checks


def draw(session: Session, *, actor: Actor, round_id: int, size: int, seed: int | None = None) -> SpotCheckDraw:
    """A random sample of the listed applications not chosen yet; the seed (given, or generated here) is
    recorded with the population so the draw can be reproduced."""
    rnd, candidates = _choosable(session, round_id)
    if not candidates:
        raise ServiceError("推荐名单上没有可抽取的项目。", field="size")
    if not 1 <= size <= len(candidates):
        raise ServiceError(f"抽取数量应在 1 到 {len(candidates)} 之间。", field="size")
    if seed is None:
        seed = secrets.randbelow(900_000) + 100_000
    population = sorted(candidates)
    drawn = rules.draw_sample(population, size, seed)
    record = SpotCheckDraw(
        round_id=round_id,
        seed=seed,
        sample_size=size,
        population_json=json.dumps(population),
        drawn_json=json.dumps(drawn),
        drawn_by=actor.user_id,
    )
    session.add(record)
    session.flush()
    for a in drawn:
        _add_check(session, actor, round_id, a, SpotCheckMethod.random, record.id)
    audit.record(
        session,
        actor=actor,
        action="spot_check.draw",
        entity_type="spot_check",
        entity_id=record.id,
        summary=(
            f"随机抽取「{rnd.name}」现场抽查项目：从{len(population)}个中抽取{size}个，随机种子{seed}："
            + "、".join(candidates[a].enterprise.name for a in drawn)
        ),
        after={"seed": seed, "size": size, "population": population, "drawn": drawn},
    )
    return record


def _add_check(
    session: Session, actor: Actor, round_id: int, application_id: int, method: SpotCheckMethod, draw_id: int | None
) -> SpotCheck:
    check = SpotCheck(
        round_id=round_id, application_id=application_id, method=method.value, draw_id=draw_id, chosen_by=actor.user_id
    )
    session.add(check)
    session.flush()
    return check


def _locked_check(session: Session, round_id: int, check_id: int, row_version: int) -> SpotCheck:
    check = session.exec(select(SpotCheck).where(SpotCheck.id == check_id).with_for_update()).first()
    if check is None or check.round_id != round_id:
        raise NotFound("未找到该现场抽查记录。")
    if check.row_version != row_version:
        raise Conflict("该抽查记录已被他人修改，您这次的修改未保存。请刷新后核对。")
    return check


def _enterprise_name(session: Session, application_id: int) -> str:
    return session.exec(
        select(Enterprise.name)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.id == application_id)
    ).one()


def cancel(session: Session, *, actor: Actor, round_id: int, check_id: int, row_version: int) -> None:
    """Take an application off the spot-check plan before anything was recorded about it."""
    check = _locked_check(session, round_id, check_id, row_version)
    if check.outcome is not None:
        raise ServiceError("已登记结论的抽查不能取消。")
    name = _enterprise_name(session, check.application_id)
    before = {"application_id": check.application_id, "method": check.method, "draw_id": check.draw_id}
    session.delete(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="spot_check.cancel",
        entity_type="spot_check",
        entity_id=check_id,
        summary=f"取消对「{name}」的现场抽查",
        before=before,
    )


def record_outcome(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    check_id: int,
    row_version: int,
    check_date: date,
    inspectors: str,
    findings: str,
    outcome: str,
    outcome_note: str = "",
) -> SpotCheck:
    """Record what the on-site check found. 存在问题 outcomes change the recommendation list: removed, or kept
    with a correction required; the reason shows on the list. Recorded once."""
    check = _locked_check(session, round_id, check_id, row_version)
    if check.outcome is not None:
        raise ServiceError("该抽查已登记结论，不能重复登记。")
    try:
        result = SpotCheckOutcome(outcome)
    except ValueError:
        raise ServiceError("请选择抽查结论。", field="outcome") from None
    inspectors = (inspectors or "").strip()
    findings = (findings or "").strip()
    note = (outcome_note or "").strip()
    if not inspectors:
        raise ServiceError("请填写抽查人员。", field="inspectors")
    if len(inspectors) > 200:
        raise ServiceError("抽查人员不能超过 200 字。", field="inspectors")
    if not findings:
        raise ServiceError("请填写抽查发现的情况。", field="findings")
    if len(findings) > FINDINGS_MAX:
        raise ServiceError(f"抽查情况不能超过 {FINDINGS_MAX} 字。", field="findings")
    if check_date > clock.today_beijing():
        raise ServiceError("抽查日期不能晚于今天。", field="check_date")
    if result is not SpotCheckOutcome.passed:
        if len(note) < MIN_NOTE:
            what = "移出名单的理由" if result is SpotCheckOutcome.remove else "整改要求"
            raise ServiceError(f"请填写{what}（至少 {MIN_NOTE} 个字，将显示在推荐名单上）。", field="outcome_note")
        if len(note) > NOTE_MAX:
            raise ServiceError(f"说明不能超过 {NOTE_MAX} 字。", field="outcome_note")
    name = _enterprise_name(session, check.application_id)
    list_change: dict[str, object] = {}
    if result is not SpotCheckOutcome.passed:
        ranking.lock_list(session, round_id=round_id)  # refuses once the list is final
        entry = ranking.standing(session, round_id=round_id, application_id=check.application_id)
        reason = rules.list_reason(check_date=check_date, note=note)
        if result is SpotCheckOutcome.remove:
            entry.removed = True
            entry.removed_reason = reason
            list_change = {"removed": True, "removed_reason": reason}
        else:
            entry.correction_required = True
            entry.correction_note = reason
            list_change = {"correction_required": True, "correction_note": reason}
        entry.updated_at = utcnow()
        entry.updated_by = actor.user_id
        session.add(entry)
    check.check_date = check_date
    check.inspectors = inspectors
    check.findings = findings
    check.outcome = result.value
    check.outcome_note = note
    check.recorded_at = utcnow()
    check.recorded_by = actor.user_id
    check.row_version += 1
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="spot_check.record",
        entity_type="spot_check",
        entity_id=check.id,
        summary=f"登记对「{name}」的现场抽查结论：{result.label}" + (f"（{note}）" if note else ""),
        after={
            "application_id": check.application_id,
            "check_date": check_date.isoformat(),
            "inspectors": inspectors,
            "outcome": result.value,
            "outcome_note": note,
            "list": list_change,
        },
    )
    return check
