"""Submitting a score sheet, the chair returning it, staff reopening it, the scoring deadline; and panels' guard
that no panel change drops a submitted sheet silently.

Each is audited with the full values. The caller (a route) commits or rolls back.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.auth.models import User
from reviewapp.clock import as_utc, utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel, PanelMember
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round
from reviewapp.rounds.rules import round_setting_problems
from reviewapp.scoring import rules
from reviewapp.scoring.models import ScoreSheet, SheetStatus, SheetVersion
from reviewapp.scoring.sheets import (
    IncompleteSheet,
    StaleSheet,
    open_application,
    scoring_items,
    sheet_criteria,
    snapshot,
)

audit.register_labels(
    actions={
        "scoring.submit": "提交评分表",
        "scoring.resubmit": "重新提交评分表",
        "scoring.return": "组长退回评分表",
        "scoring.reopen": "工作人员重新开放评分表",
        "scoring.deadline": "调整评分截止时间",
    },
    entities={"score_sheet": "评分表", "round": "评审批次"},
)

# --- submit, return, reopen -----------------------------------------------------------------------


def _sheet_of(session: Session, *, expert_id: int, application_id: int) -> ScoreSheet | None:
    return session.exec(
        select(ScoreSheet)
        .where(ScoreSheet.application_id == application_id, ScoreSheet.expert_id == expert_id)
        .with_for_update()
    ).first()


def application_label(session: Session, application_id: int) -> str:
    """「申报单位·工厂名称」 of an application, as the audit log and the chair's pages name it."""
    row = session.exec(
        select(Enterprise.name, Application.factory_name)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.id == application_id)
    ).first()
    return f"{row[0]}·{row[1]}" if row else f"申报项目 {application_id}"


def _content(session: Session, sheet: ScoreSheet) -> tuple[list[rules.Item], dict[int, rules.Entry], dict[str, Any]]:
    tree, entries = sheet_criteria(session, version_id=sheet.criteria_version_id, sheet_id=sheet.id)
    items = scoring_items(tree)
    return items, entries, snapshot(items, entries, opinion=sheet.opinion)


def _last_submitted(session: Session, sheet_id: int) -> dict[str, Any] | None:
    row = session.exec(
        select(SheetVersion.change_json)
        .where(SheetVersion.sheet_id == sheet_id, col(SheetVersion.kind).in_(["submit", "resubmit"]))
        .order_by(col(SheetVersion.version).desc())
    ).first()
    return json.loads(row) if row else None


def _new_version(
    session: Session, *, sheet: ScoreSheet, kind: str, actor: Actor, now: datetime, change: dict[str, Any]
) -> None:
    """Bump the sheet's version and keep what happened in its history (submit, resubmit, return, reopen)."""
    sheet.row_version += 1
    sheet.updated_at = now
    session.add(sheet)
    session.add(
        SheetVersion(
            sheet_id=sheet.id,  # type: ignore[arg-type]
            version=sheet.row_version,
            kind=kind,
            actor_id=actor.user_id,
            at=now,
            change_json=json.dumps(change, ensure_ascii=False),
        )
    )
    session.flush()


def submit_sheet(
    session: Session, *, actor: Actor, expert: Expert, application_id: int, row_version: int, now: datetime
) -> tuple[ScoreSheet, bool]:
    """Check completeness and lock the sheet. Returns (sheet, True), or (sheet, False) when it was already
    submitted: a second click or a resent form changes nothing and records nothing."""
    app = open_application(session, user_id=expert.user_id, application_id=application_id)
    sheet = _sheet_of(session, expert_id=expert.id, application_id=application_id)  # type: ignore[arg-type]
    if sheet is None:
        raise ServiceError("评分表尚未填写，不能提交。")
    if sheet.status == SheetStatus.submitted.value:
        return sheet, False
    rnd = rounds.get_round(session, app.round_id)
    panel = session.get(Panel, sheet.panel_id)
    refusal = rules.edit_refusal(
        status=sheet.status, now=now, deadline=rnd.scoring_deadline, finalized=bool(panel and panel.finalized_at)
    )
    if refusal:
        raise ServiceError(refusal)
    if sheet.row_version != row_version:
        raise StaleSheet("评分表在您检查之后又有修改（可能来自其他窗口或设备），请重新检查后再提交。")
    items, entries, content = _content(session, sheet)
    problems = rules.completeness_problems(
        items, entries, opinion=sheet.opinion, opinion_min_length=rnd.opinion_min_length
    )
    if problems:
        raise IncompleteSheet(problems)
    kind = "resubmit" if sheet.status == SheetStatus.returned.value else "submit"
    before = _last_submitted(session, sheet.id) if kind == "resubmit" else None  # type: ignore[arg-type]
    sheet.status = SheetStatus.submitted.value
    sheet.submitted_at = now
    sheet.total = Decimal(content["total"])
    sheet.summary_json = rules.summary_json(items, entries)
    _new_version(session, sheet=sheet, kind=kind, actor=actor, now=now, change=content)
    verb = "重新提交" if kind == "resubmit" else "提交"
    audit.record(
        session,
        actor=actor,
        action=f"scoring.{kind}",
        entity_type="score_sheet",
        entity_id=sheet.id,
        summary=f"{expert.name} {verb}「{application_label(session, application_id)}」的评分表，总分 {content['total']} 分"
        + ("，有否决项判定为不通过" if content["gate_failed"] else ""),
        before=before,
        after=content,
    )
    return sheet, True


def _send_back(
    session: Session, *, actor: Actor, sheet: ScoreSheet, kind: str, reason: str, now: datetime, who: str
) -> ScoreSheet:
    """Return (chair) or reopen (staff) a submitted sheet: it becomes editable again, the expert sees why."""
    panel = session.get(Panel, sheet.panel_id)
    refusal = rules.return_refusal(status=sheet.status, finalized=bool(panel and panel.finalized_at))
    if refusal:
        raise ServiceError(refusal)
    what = "退回原因" if kind == "return" else "重新开放原因"
    problem = rules.reason_problem(reason, what=what)
    if problem:
        raise ServiceError(problem, field="reason")
    reason = reason.strip()[:500]
    _items, _entries, content = _content(session, sheet)
    sheet.status = SheetStatus.returned.value
    sheet.returned_reason = reason
    sheet.returned_at = now
    sheet.returned_by = actor.user_id
    _new_version(session, sheet=sheet, kind=kind, actor=actor, now=now, change={"reason": reason, "by": who})
    expert = session.get(Expert, sheet.expert_id)
    verb = "退回" if kind == "return" else "重新开放"
    audit.record(
        session,
        actor=actor,
        action=f"scoring.{kind}",
        entity_type="score_sheet",
        entity_id=sheet.id,
        summary=f"{who}{verb}{expert.name if expert else ''}对「{application_label(session, sheet.application_id)}」的评分表（原因：{reason}）",
        before={"status": SheetStatus.submitted.value, **content},
        after={"status": SheetStatus.returned.value, "reason": reason},
    )
    return sheet


def chair_panel(session: Session, *, expert_id: int, panel_id: int) -> Panel:
    """The panel, if this expert chairs it (otherwise it does not exist for them)."""
    panel = panels.get_panel(session, panel_id)
    is_chair = session.exec(
        select(PanelMember.is_chair).where(PanelMember.panel_id == panel_id, PanelMember.expert_id == expert_id)
    ).first()
    if not is_chair:
        raise NotFound("未找到该专家组，或您不是该组组长。")
    return panel


def chairs_sheet(
    session: Session, *, chair: Expert, panel_id: int, sheet_id: int, for_update: bool = False
) -> tuple[ScoreSheet, Application]:
    """A sheet of the chair's panel and its application, if the chair may act on it (their panel, pledge done,
    not conflicted with the application); NotFound otherwise."""
    panel = chair_panel(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    panels.require_pledge(session, expert_id=chair.id, round_id=panel.round_id)  # type: ignore[arg-type]
    stmt = select(ScoreSheet).where(ScoreSheet.id == sheet_id)
    sheet = session.exec(stmt.with_for_update() if for_update else stmt).first()
    app = session.get(Application, sheet.application_id) if sheet else None
    if sheet is None or app is None or app.panel_id != panel_id:
        raise NotFound("未找到该评分表。")
    # A chair conflicted with the application does not see it, so cannot act on its sheets either.
    if not panels.can_see_application(session, expert_id=chair.id, application_id=app.id):  # type: ignore[arg-type]
        raise NotFound("未找到该评分表。")
    return sheet, app


def return_sheet(
    session: Session, *, actor: Actor, chair: Expert, panel_id: int, sheet_id: int, reason: str, now: datetime
) -> ScoreSheet:
    """The panel chair sends a submitted sheet back for re-scoring (before the panel is finalized)."""
    sheet, _app = chairs_sheet(session, chair=chair, panel_id=panel_id, sheet_id=sheet_id, for_update=True)
    return _send_back(session, actor=actor, sheet=sheet, kind="return", reason=reason, now=now, who=f"组长{chair.name}")


def reopen_sheet(
    session: Session, *, actor: Actor, round_id: int, sheet_id: int, reason: str, now: datetime
) -> ScoreSheet:
    """Staff reopen a submitted sheet (for example when the chair cannot act), with a reason."""
    sheet = session.exec(select(ScoreSheet).where(ScoreSheet.id == sheet_id).with_for_update()).first()
    if sheet is None or sheet.round_id != round_id:
        raise NotFound("未找到该评分表。")
    user = session.get(User, actor.user_id) if actor.user_id else None
    who = f"工作人员{user.display_name if user else actor.name}"
    return _send_back(session, actor=actor, sheet=sheet, kind="reopen", reason=reason, now=now, who=who)


# --- the deadline ---------------------------------------------------------------------------------


def set_scoring_deadline(
    session: Session, *, actor: Actor, round_id: int, deadline: datetime, reason: str, tz: Any
) -> Round:
    """Move the round's scoring deadline (usually to extend it), with the old and new values in the audit log."""
    rnd = rounds.get_round(session, round_id, for_update=True)
    problem = rules.reason_problem(reason, what="调整原因")
    if problem:
        raise ServiceError(problem, field="reason")
    problems = round_setting_problems({"application_close": rnd.application_close, "scoring_deadline": deadline}, tz=tz)
    if problems:
        raise ServiceError(next(iter(problems.values())), field="deadline_date")
    old = rnd.scoring_deadline
    if old is not None and as_utc(old) == deadline:
        return rnd
    reason = reason.strip()[:300]
    rnd.scoring_deadline = deadline
    rnd.row_version += 1
    rnd.updated_at = utcnow()
    session.add(rnd)
    session.flush()

    def shown(value: datetime | None) -> str:
        return as_utc(value).astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "未设置"

    audit.record(
        session,
        actor=actor,
        action="scoring.deadline",
        entity_type="round",
        entity_id=rnd.id,
        summary=f"将「{rnd.name}」的评分截止时间由 {shown(old)} 调整为 {shown(deadline)}（北京时间；原因：{reason}）",
        before={"scoring_deadline": as_utc(old).isoformat() if old else None},
        after={"scoring_deadline": deadline.isoformat(), "reason": reason},
    )
    return rnd


# --- panels' guard: submitted sheets are never dropped silently -----------------------------------


def count_submitted_sheets(
    session: Session, *, round_id: int, panel_id: int, expert_ids: set[int], application_ids: set[int]
) -> int:
    """Submitted (or returned, hence once submitted) sheets a panel change would take away: the leaving members'
    sheets on the panel's applications, and every sheet on the leaving applications."""
    kept = (SheetStatus.submitted.value, SheetStatus.returned.value)
    base = (
        select(func.count())
        .select_from(ScoreSheet)
        .where(ScoreSheet.round_id == round_id, col(ScoreSheet.status).in_(kept))
    )
    total = 0
    if expert_ids:
        panel_apps = select(Application.id).where(Application.panel_id == panel_id) if panel_id else None
        stmt = base.where(col(ScoreSheet.expert_id).in_(sorted(expert_ids)))
        if panel_apps is not None:
            stmt = stmt.where(col(ScoreSheet.application_id).in_(panel_apps))
        total += int(session.exec(stmt).one())
    if application_ids:
        stmt = base.where(col(ScoreSheet.application_id).in_(sorted(application_ids)))
        if expert_ids:  # already counted above
            stmt = stmt.where(col(ScoreSheet.expert_id).not_in(sorted(expert_ids)))
        total += int(session.exec(stmt).one())
    return total


if count_submitted_sheets not in panels.SUBMITTED_SCORE_COUNTERS:
    panels.SUBMITTED_SCORE_COUNTERS.append(count_submitted_sheets)
