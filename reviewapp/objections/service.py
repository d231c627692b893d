"""The objection register (异议登记) and its verification through reviewapp.casework, with its effect on the round's
recommendation list.

Every operation writes its audit entry in the caller's transaction; the caller commits. The objector's identity never
enters the audit log, a case step or an export; only the objection's handlers read it, one audited view at a time.
While any objection of a round is open, the round's list cannot be marked final (a ranking.recommendations blocker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, Enterprise
from reviewapp.applications.rules import Check
from reviewapp.audit import Actor
from reviewapp.casework import cases, register
from reviewapp.casework import service as casework
from reviewapp.casework.models import CaseStep
from reviewapp.clock import utcnow
from reviewapp.errors import ServiceError
from reviewapp.objections import rules
from reviewapp.objections.models import OBJECTION_CHANNELS, Objection, ObjectorKind
from reviewapp.objections.rules import OBJECTION_WORKFLOW
from reviewapp.publicity.models import PublicityPeriod
from reviewapp.ranking import recommendations as ranking
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round
from reviewapp.settings import Settings

audit.register_labels(
    actions={
        "objection.create": "登记异议",
        "objection.view_identity": "查看异议人信息",
        "objection.list_removed": "异议成立，移出推荐名单",
        "objection.list_correction": "异议成立，要求整改",
    },
    entities={"objection": "异议"},
)
casework.register_workflow_labels(OBJECTION_WORKFLOW, entity_label="异议", events=rules.EVENT_LABELS)

OBJECTION_FILE_OWNER = "objection"
CONFIDENTIAL = cases.CONFIDENTIAL


OBJECTION_KIND = cases.CaseKind(
    Objection,
    OBJECTION_WORKFLOW,
    file_owner=OBJECTION_FILE_OWNER,
    noun="异议",
    party="异议人",
    number_prefix="YY",
    reply_field="reply",
    unassigned_states=frozenset({"registered", "accepted", "refused"}),
)


def get_objection(session: Session, objection_id: int, *, for_update: bool = False) -> Objection:
    return cases.get_case(session, OBJECTION_KIND, objection_id, for_update=for_update)  # type: ignore[no-any-return]


# --- rounds, periods and the list ----------------------------------------------------------------


def period_of(session: Session, round_id: int) -> PublicityPeriod | None:
    return session.exec(select(PublicityPeriod).where(PublicityPeriod.round_id == round_id)).first()


def publicity_rounds(session: Session) -> list[tuple[Round, PublicityPeriod]]:
    """Rounds with a publicity period, latest period first: the rounds objections can be recorded against."""
    return [
        (rnd, period)
        for rnd, period in session.exec(
            select(Round, PublicityPeriod)
            .join(PublicityPeriod, col(PublicityPeriod.round_id) == col(Round.id))
            .order_by(col(PublicityPeriod.start_date).desc(), col(Round.id).desc())
        ).all()
    ]


def list_targets(session: Session, round_id: int) -> list[ranking.ListRow]:
    """The applications an objection can name: the round's list, removed ones last (they were publicized too)."""
    return list(ranking.round_list(session, round_id=round_id).rows)


# --- registering --------------------------------------------------------------------------------


def create_objection(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    round_id: int,
    application_id: int | None,
    target_name: str,
    channel: str,
    received_on: date,
    objector_kind: str,
    objector_name: str,
    objector_contact: str,
    objector_address: str,
    sealed_or_signed: bool,
    content: str,
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> Objection:
    """Staff record a written objection as received (evidence files already checked). Whether it can be accepted
    is judged afterwards, on its page: an anonymous or late objection is still registered, then refused."""
    rnd = rounds.get_round(session, round_id)
    if channel not in OBJECTION_CHANNELS:
        raise ServiceError("请选择收到异议的渠道。", field="channel")
    if received_on > today:
        raise ServiceError("「收到日期」不能晚于今天。", field="received_on")
    if objector_kind not in {k.value for k in ObjectorKind}:
        raise ServiceError("请选择异议人类型（单位或个人）。", field="objector_kind")
    factory = ""
    if application_id is not None:
        app = session.get(Application, application_id)
        if app is None or app.round_id != rnd.id:
            raise ServiceError("所选的项目不属于该批次，请重新选择被异议项目。", field="target")
        enterprise = session.get(Enterprise, app.enterprise_id)
        target_name = enterprise.name if enterprise else target_name
        factory = app.factory_name or ""
    target_name = (target_name or "").strip()
    if not target_name:
        raise ServiceError("请选择被异议的项目，或填写异议材料中的被异议单位名称。", field="target")
    if not content.strip():
        raise ServiceError("请填写异议内容。", field="content")
    objection = Objection(
        round_id=rnd.id,  # type: ignore[arg-type]
        application_id=application_id,
        target_name=target_name[:200],
        target_factory=factory[:200],
        channel=channel,
        received_on=received_on,
        objector_kind=objector_kind,
        objector_name=objector_name.strip()[:200],
        objector_contact=objector_contact.strip()[:120],
        objector_address=objector_address.strip()[:300],
        sealed_or_signed=sealed_or_signed,
        content=content.strip(),
        state=OBJECTION_WORKFLOW.initial,
        created_by=actor.user_id,
    )
    cases.file_new_case(
        session, OBJECTION_KIND, settings=settings, case=objection, uploads=uploads, user_id=actor.user_id
    )
    audit.record(
        session,
        actor=actor,
        action="objection.create",
        entity_type="objection",
        entity_id=objection.id,
        summary=(
            f"登记异议 {objection.number}：「{rnd.name}」被异议单位 {objection.target_name}"
            f"（{ObjectorKind(objector_kind).label}异议，{channel}，{received_on.isoformat()} 收到）"
        ),
        # Never the objector's identity: every staff member can read the audit log.
        after={
            "number": objection.number,
            "round_id": rnd.id,
            "application_id": application_id,
            "channel": channel,
            "received_on": received_on,
            "objector_kind": objector_kind,
            "anonymous": not objection.objector_name,
            "sealed_or_signed": sealed_or_signed,
            "files": len(uploads),
        },
    )
    return objection


# --- acceptance -----------------------------------------------------------------------------------


def acceptance_checks(session: Session, objection: Objection) -> list[Check]:
    """The acceptance conditions judged now: the round's period as announced, the list as it stands."""
    period = period_of(session, objection.round_id)
    listed = objection.application_id is not None and any(
        r.application.id == objection.application_id for r in list_targets(session, objection.round_id)
    )
    return rules.acceptance_checks(
        rules.AcceptanceFacts(
            received_on=objection.received_on,
            period_start=period.start_date if period else None,
            period_end=period.end_date if period else None,
            working_days=period.working_days if period else None,
            objector_kind=objection.objector_kind,
            objector_name=objection.objector_name,
            objector_contact=objection.objector_contact,
            sealed_or_signed=objection.sealed_or_signed,
            target_chosen=objection.application_id is not None,
            target_listed=listed,
        )
    )


def case_facts(session: Session, objection: Objection) -> rules.CaseFacts:
    """What the workflow's preconditions look at (the checks only matter, and are only computed, before acceptance)."""
    checks = acceptance_checks(session, objection) if objection.state == OBJECTION_WORKFLOW.initial else []
    return rules.CaseFacts(
        checks=tuple(checks), reply_deadline=objection.reply_deadline, explained_on=objection.explained_on
    )


# --- verification ---------------------------------------------------------------------------------


def take_step(session: Session, *, objection_id: int, **step: Any) -> CaseStep:
    """One transition of the verification flow with its effects: handlers and the explanation deadline, the
    conclusion, the outcome applied to the recommendation list, the reply to the objector. `step`: actor, settings,
    code, row_version, note, values, uploads, today (see casework.cases.take_step)."""
    return cases.take_step(
        session,
        OBJECTION_KIND,
        case_id=objection_id,
        record=_record_step,
        effects=_step_effects,
        facts=case_facts,
        **step,
    )


def _record_step(
    *, case: Objection, code: str, values: dict[str, Any], data: dict[str, Any], note: str, **_: Any
) -> None:
    if code == "conclude":
        conclusion = values.get("conclusion") or ""
        if conclusion and conclusion not in rules.CONCLUSION_LABELS:
            raise ServiceError("请选择核实结论。", field="conclusion")
        data["conclusion"] = rules.CONCLUSION_LABELS.get(conclusion, "")
        data["findings"] = (values.get("findings") or "").strip()[:5000]
    elif code == "apply":
        outcome = values.get("outcome") or ""
        if outcome:
            problem = rules.outcome_problem(case.conclusion, outcome)
            if problem:
                raise ServiceError(problem, field="outcome")
        data["outcome"] = rules.OUTCOME_LABELS.get(outcome, "")
        if outcome in {"removed", "correction"} and note.strip():
            data["list_reason"] = rules.list_reason(conclusion=case.conclusion, number=case.number, note=note)


def _step_effects(
    *,
    session: Session,
    actor: Actor,
    case: Objection,
    code: str,
    values: dict[str, Any],
    data: dict[str, Any],
    today: date,
    **_: Any,
) -> None:
    if code == "start":
        case.explained_on = None
    elif code == "conclude":
        case.conclusion = values["conclusion"]
    elif code == "apply":
        case.outcome = values["outcome"]
        _apply_to_list(session, actor=actor, objection=case, reason=data.get("list_reason", ""))
    elif code in {"close", "refuse"}:
        case.closed_on = today


def _apply_to_list(session: Session, *, actor: Actor, objection: Objection, reason: str) -> None:
    """An upheld objection takes the application off the round's list, or asks for a correction, visibly and
    with its trail (the list shows the reason; the audit log the decision)."""
    if objection.outcome not in {"removed", "correction"}:
        return
    if objection.application_id is None:
        raise ServiceError("该异议未针对名单上的具体项目，不能调整推荐名单。", field="outcome")
    ranking.lock_list(session, round_id=objection.round_id)
    entry = ranking.standing(session, round_id=objection.round_id, application_id=objection.application_id)
    before = {
        "removed": entry.removed,
        "removed_reason": entry.removed_reason,
        "correction_required": entry.correction_required,
        "correction_note": entry.correction_note,
    }
    if objection.outcome == "removed":
        if not entry.removed:  # an earlier objection or spot check may have removed it already
            entry.removed = True
            entry.removed_reason = reason[:500]
        action, what = "objection.list_removed", "移出推荐名单"
    else:
        entry.correction_required = True
        entry.correction_note = "；".join(x for x in (entry.correction_note, reason[:500]) if x)
        action, what = "objection.list_correction", "要求整改"
    entry.updated_at = utcnow()
    entry.updated_by = actor.user_id
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="recommendation_list",
        entity_id=objection.round_id,
        summary=f"异议 {objection.number}：将「{objection.target_name}」{what}（{reason}）",
        before={"application_id": objection.application_id, **before},
        after={
            "application_id": objection.application_id,
            "objection": objection.number,
            "removed": entry.removed,
            "removed_reason": entry.removed_reason,
            "correction_required": entry.correction_required,
            "correction_note": entry.correction_note,
        },
    )


def record_event(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    objection_id: int,
    code: str,
    note: str,
    values: dict[str, Any],
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> CaseStep:
    """What a handler records while verifying, the state kept: the enterprise's explanation, an on-site check,
    or a handling note (办理记录)."""
    objection = get_objection(session, objection_id, for_update=True)
    if code not in {*rules.EVENT_LABELS, "note"}:
        raise ServiceError("未知的办理操作。")
    if not cases.is_case_handler(session, OBJECTION_KIND, case_id=objection.id, user_id=actor.user_id):  # type: ignore[arg-type]
        raise ServiceError("只有该异议的承办人可以登记办理情况。")
    label = rules.EVENT_LABELS.get(code, "办理记录")
    if code in rules.EVENT_STATES and objection.state not in rules.EVENT_STATES[code]:
        raise ServiceError(
            f"当前状态为「{OBJECTION_WORKFLOW.label(objection.state)}」，不能{label}。请刷新页面查看最新状态。"
        )
    data: dict[str, Any] = {}
    for name in rules.EVENT_REQUIRES.get(code, ()):
        value = values.get(name)
        if value in (None, ""):
            raise ServiceError(f"{label}需要填写「{OBJECTION_WORKFLOW.field_labels[name]}」。", field=name)
        if isinstance(value, date) and value > today:
            raise ServiceError(f"「{OBJECTION_WORKFLOW.field_labels[name]}」不能晚于今天。", field=name)
        data[name] = value.strip()[:200] if isinstance(value, str) else value
    if not note.strip():
        what = {"record_explanation": "企业说明要点", "onsite_check": "核查情况"}.get(code, "办理记录")
        raise ServiceError(f"请填写{what}。", field="note")
    if uploads:
        data["files"] = len(uploads)
    step = casework.record_event(
        session, workflow=OBJECTION_WORKFLOW, case=objection, code=code, actor=actor, note=note, data=data
    )
    if code == "record_explanation":
        objection.explained_on = data["explained_on"]
        objection.row_version += 1
        objection.updated_at = utcnow()
        session.add(objection)
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=actor.user_id)
    session.flush()
    return step


@dataclass(frozen=True)
class Identity:
    name: str
    contact: str
    address: str


def reveal_identity(session: Session, *, actor: Actor, objection_id: int) -> Identity:
    """The objector's name, contact and address, for a handler of this objection only; each call is audited."""
    objection = cases.view_identity(session, OBJECTION_KIND, actor=actor, case_id=objection_id)
    return Identity(objection.objector_name, objection.objector_contact, objection.objector_address)


# --- the register ----------------------------------------------------------------------------------


def _overdue_clause(today: date):  # type: ignore[no-untyped-def]
    """SQL mirror of rules.is_overdue."""
    return and_(
        Objection.state == "verifying",
        col(Objection.explained_on).is_(None),
        col(Objection.reply_deadline) < today,
    )


def objections_query(
    *,
    today: date,
    q: str = "",
    round_id: int | None = None,
    state: str = "",
    channel: str = "",
    flag: str = "",
    handler_id: int | None = None,
):  # type: ignore[no-untyped-def]
    """Objections for the register; flag: overdue | open | closed."""
    stmt = select(Objection)
    if round_id:
        stmt = stmt.where(Objection.round_id == round_id)
    return register.filtered(
        stmt,
        OBJECTION_KIND,
        today=today,
        overdue=_overdue_clause,
        open_states=rules.OPEN_STATES,
        q=q,
        state=state,
        channel=channel,
        flag=flag,
        handler_id=handler_id,
    )


def round_names(session: Session, round_ids: Sequence[int]) -> dict[int, str]:
    return dict(session.exec(select(Round.id, Round.name).where(col(Round.id).in_(list(round_ids) or [-1]))).all())  # type: ignore[arg-type]


# --- holding up the final list -------------------------------------------------------------------------

SHOWN_OPEN = 5


def open_objection_problems(session: Session, round_id: int) -> list[str]:
    """The list cannot be marked final while an objection of the round is open (not 已办结 / 不予受理)."""
    rows = session.exec(
        select(Objection.number, Objection.target_name, Objection.state)
        .where(Objection.round_id == round_id, col(Objection.state).in_(sorted(rules.OPEN_STATES)))
        .order_by(col(Objection.id))
    ).all()
    if not rows:
        return []
    shown = "、".join(f"{n}（{t}，{OBJECTION_WORKFLOW.label(s)}）" for n, t, s in rows[:SHOWN_OPEN])
    more = f"等 {len(rows)} 件" if len(rows) > SHOWN_OPEN else ""
    return [f"有 {len(rows)} 件异议尚未办结：{shown}{more}。"]


if open_objection_problems not in ranking.FINAL_LIST_BLOCKERS:
    ranking.FINAL_LIST_BLOCKERS.append(open_objection_problems)
