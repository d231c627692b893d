"""Formal review (形式审查) decisions on an application: pass or fail, in bulk, undo, exempt a check and withdraw the exemption, correct the facts the checks read; each audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.applications import rules
from reviewapp.applications.models import (
    Application,
    Enterprise,
    FormalOverride,
    FormalStatus,
)
from reviewapp.applications.service import application_label, get_application, recompute_checks
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, ServiceError


def _recheck(session: Session, application: Application, today: date) -> list[rules.Check]:
    recomputed = recompute_checks(
        session,
        round_id=application.round_id,
        application_ids=[application.id],  # type: ignore[list-item]
        today=today,
    )
    return recomputed.checks[application.id]  # type: ignore[index]


def _check_version(application: Application, row_version: int | None) -> None:
    if row_version is not None and row_version != application.row_version:
        raise Conflict("该申报已被他人修改，请刷新后重试。")


def decide(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    passed: bool,
    note: str = "",
    row_version: int | None,
    today: date,
) -> Application:
    """Confirm pass or fail after recomputing the checks: pass needs no open failure; failing a clean one needs a reason."""
    application = get_application(session, application_id)
    _check_version(application, row_version)
    checks = _recheck(session, application, today)
    application = get_application(session, application_id)
    outcome = rules.decide(checks, passed=passed, note=note)
    if not outcome.allowed:
        raise ServiceError(outcome.message, field="note")
    before = {"formal_status": application.formal_status, "formal_note": application.formal_note}
    reasons = [f"{c.label}：{c.reason}" for c in outcome.failures]
    application.formal_status = (FormalStatus.passed if passed else FormalStatus.failed).value
    application.formal_note = note.strip()[:2000]
    application.formal_decided_by = actor.user_id
    application.formal_decided_at = utcnow()
    application.row_version += 1
    application.updated_at = utcnow()
    session.add(application)
    enterprise = session.get(Enterprise, application.enterprise_id)
    audit.record(
        session,
        actor=actor,
        action="application.formal_pass" if passed else "application.formal_fail",
        entity_type="application",
        entity_id=application.id,
        summary=f"{application_label(application, enterprise)}形式审查{'通过' if passed else '不通过'}"
        + (f"：{'；'.join(reasons)}" if reasons and not passed else "")
        + (f"（理由：{application.formal_note}）" if application.formal_note else ""),
        before=before,
        after={
            "formal_status": application.formal_status,
            "formal_note": application.formal_note,
            "overridden": [c.code for c in checks if c.overridden],
            "failed": [c.code for c in outcome.failures],
        },
    )
    return application


@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (application id, why)


def decide_bulk(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    application_ids: Sequence[int],
    versions: dict[int, int],
    passed: bool,
    note: str,
    today: date,
) -> BulkOutcome:
    """The same decision for several applications; each is checked on its own and refused ones are reported."""
    outcome = BulkOutcome()
    for app_id in application_ids:
        application = session.get(Application, app_id)
        if application is None or application.round_id != round_id:
            outcome.refused.append((app_id, "未找到该申报。"))
            continue
        try:
            with session.begin_nested():
                decide(
                    session,
                    actor=actor,
                    application_id=app_id,
                    passed=passed,
                    note=note,
                    row_version=versions.get(app_id),
                    today=today,
                )
            outcome.done.append(app_id)
        except ServiceError as exc:
            outcome.refused.append((app_id, exc.message))
    return outcome


def reset_decision(session: Session, *, actor: Actor, application_id: int, row_version: int | None) -> Application:
    """Back to 待审查 (e.g. a decision taken by mistake)."""
    application = get_application(session, application_id)
    _check_version(application, row_version)
    if application.formal_status == FormalStatus.pending.value:
        return application
    before = {"formal_status": application.formal_status, "formal_note": application.formal_note}
    application.formal_status = FormalStatus.pending.value
    application.formal_note = ""
    application.formal_decided_by = None
    application.formal_decided_at = None
    application.row_version += 1
    application.updated_at = utcnow()
    session.add(application)
    audit.record(
        session,
        actor=actor,
        action="application.formal_reset",
        entity_type="application",
        entity_id=application.id,
        summary=f"{application_label(application, session.get(Enterprise, application.enterprise_id))}的形式审查结论已撤销，改为待审查",
        before=before,
        after={"formal_status": application.formal_status},
    )
    return application


OVERRIDE_MIN_LENGTH = 5


def override_check(
    session: Session, *, actor: Actor, application_id: int, check_code: str, reason: str, today: date
) -> Application:
    """Set aside one failed check with a written reason; the decision itself is still staff's to confirm."""
    application = get_application(session, application_id)
    reason = reason.strip()
    if check_code not in rules.CHECK_LABELS:
        raise ServiceError("没有这一检查项。", field="check_code")
    if len(reason) < OVERRIDE_MIN_LENGTH:
        raise ServiceError(f"豁免须写明理由（至少 {OVERRIDE_MIN_LENGTH} 个字）。", field="reason")
    if len(reason) > 1000:
        raise ServiceError("豁免理由不能超过 1000 个字。", field="reason")
    checks = _recheck(session, application, today)
    current = next((c for c in checks if c.code == check_code), None)
    if current is None or current.ok:
        raise ServiceError("该检查项目前已通过，无需豁免。", field="check_code")
    if current.overridden:
        raise ServiceError("该检查项已豁免。如需修改理由，请先撤销豁免。", field="check_code")
    session.add(
        FormalOverride(application_id=application_id, check_code=check_code, reason=reason, created_by=actor.user_id)
    )
    session.flush()
    recompute_checks(session, round_id=application.round_id, application_ids=[application_id], today=today)
    application = get_application(session, application_id)
    audit.record(
        session,
        actor=actor,
        action="application.formal_override",
        entity_type="application",
        entity_id=application_id,
        summary=f"豁免{application_label(application, session.get(Enterprise, application.enterprise_id))}的检查项"
        f"「{current.label}」（{current.reason}）；理由：{reason}",
        after={"check": check_code, "check_reason": current.reason, "override_reason": reason},
    )
    return application


def remove_override(
    session: Session, *, actor: Actor, application_id: int, check_code: str, today: date
) -> Application:
    application = get_application(session, application_id)
    override = session.exec(
        select(FormalOverride).where(
            FormalOverride.application_id == application_id, FormalOverride.check_code == check_code
        )
    ).first()
    if override is None:
        raise ServiceError("该检查项没有豁免。", field="check_code")
    session.delete(override)
    session.flush()
    reset = bool(
        recompute_checks(session, round_id=application.round_id, application_ids=[application_id], today=today).reset
    )
    application = get_application(session, application_id)
    audit.record(
        session,
        actor=actor,
        action="application.formal_override_remove",
        entity_type="application",
        entity_id=application_id,
        summary=f"撤销{application_label(application, session.get(Enterprise, application.enterprise_id))}检查项"
        f"「{rules.CHECK_LABELS.get(check_code, check_code)}」的豁免" + ("，申报改为待审查" if reset else ""),
        before={"check": check_code, "override_reason": override.reason},
    )
    return application


def update_facts(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    row_version: int | None,
    above_designated_size: bool,
    is_branch: bool,
    branch_industry: str,
    major_accident: bool,
    serious_dishonesty: bool,
    today: date,
) -> Application:
    """Staff record what they verified (规上, 分支机构, 事故, 失信); the checks are recomputed."""
    application = get_application(session, application_id)
    _check_version(application, row_version)
    enterprise = session.get(Enterprise, application.enterprise_id)
    assert enterprise is not None
    branch_industry = branch_industry.strip()[:32] if is_branch else ""
    before = {
        "above_designated_size": enterprise.above_designated_size,
        "is_branch": application.is_branch,
        "branch_industry": application.branch_industry,
        "major_accident": application.major_accident,
        "serious_dishonesty": application.serious_dishonesty,
    }
    after = {
        "above_designated_size": above_designated_size,
        "is_branch": is_branch,
        "branch_industry": branch_industry,
        "major_accident": major_accident,
        "serious_dishonesty": serious_dishonesty,
    }
    if before == after:
        return application
    enterprise.above_designated_size = above_designated_size
    enterprise.updated_at = utcnow()
    application.is_branch = is_branch
    application.branch_industry = branch_industry
    application.major_accident = major_accident
    application.serious_dishonesty = serious_dishonesty
    application.row_version += 1
    application.updated_at = utcnow()
    session.add(enterprise)
    session.add(application)
    session.flush()
    reset = bool(
        recompute_checks(session, round_id=application.round_id, application_ids=[application_id], today=today).reset
    )
    changed = [k for k in after if before[k] != after[k]]
    audit.record(
        session,
        actor=actor,
        action="application.facts_update",
        entity_type="application",
        entity_id=application_id,
        summary=f"修改{application_label(application, enterprise)}的核查信息（{'、'.join(FACT_LABELS[k] for k in changed)}）"
        + ("，申报改为待审查" if reset else ""),
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return get_application(session, application_id)


FACT_LABELS = {
    "above_designated_size": "规上企业",
    "is_branch": "分支机构",
    "branch_industry": "分支机构所属行业",
    "major_accident": "较大及以上事故",
    "serious_dishonesty": "严重失信",
}
